"""What each record of a poll is to a packet reader: a packet to deliver, a corrupt record, or a
packet the reader also acts on (the end of a session, a coverage cursor).

A whole poll is marked at once by the compiled columnar codec where it is active (a wire walk per
value, several times cheaper than a protobuf parse); values it cannot vouch for, and every value
without it, are marked ``UNDECIDED`` and decided by ``mark_of`` (protobuf) when delivered.
"""

from __future__ import annotations

import operator
from collections.abc import Callable

from ...columnar.parsers import native_packet_marks
from ...protos.packets import parse_packet
from ...transport.base import Record

__all__ = [
    "CORRUPT",
    "COVERAGE_CURSOR",
    "END_OF_SESSION",
    "PACKET",
    "UNDECIDED",
    "mark_of",
    "poll_marker",
]

# The codes of columnar._native._codec.packet_marks, and CORRUPT, which only mark_of gives.
PACKET = 0
UNDECIDED = 1
END_OF_SESSION = 2
COVERAGE_CURSOR = 3
CORRUPT = 4

# Packet.type is field 1, so it leads the encoding: these prefixes identify a type without parsing.
_END_OF_SESSION_TYPE = b"\x0a\x0cEndOfSession"
_COVERAGE_CURSOR_TYPE = b"\x0a\x12CoverageCursorInfo"
_value = operator.itemgetter(4)
_UNDECIDED = bytes([UNDECIDED])


def mark_of(value: bytes) -> int:
    """The mark of one record value: ``CORRUPT`` unless it parses as an Open Data ``Packet``
    that names its type."""
    packet = parse_packet(value)
    if packet is None or not packet.type:
        return CORRUPT
    if value.startswith(_END_OF_SESSION_TYPE):
        return END_OF_SESSION
    if value.startswith(_COVERAGE_CURSOR_TYPE):
        return COVERAGE_CURSOR
    return PACKET


def poll_marker() -> Callable[[list[Record]], bytes]:
    """A function giving the marks of a poll's records, one byte per record in order: the
    compiled codec's where the native columnar implementation is active, else ``UNDECIDED``
    for all."""
    native = native_packet_marks()
    if native is None:
        return lambda records: _UNDECIDED * len(records)
    return lambda records: native(map(_value, records))

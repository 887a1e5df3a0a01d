"""Read and write ``Packet`` envelopes in bulk: type and content out, or contents wrapped in."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import numpy.typing as npt

from ..errors import PacketDecodeError
from ._batch import ContentsLike, as_content_batch
from ._parsed import PacketEnvelopes
from .model import DecodeStats, Impl
from .parsers import get_parser

__all__ = ["PacketEnvelopes", "envelope_head", "read_envelopes", "varint", "wrap_packets"]


def read_envelopes(
    packets: ContentsLike, *, impl: Impl | None = None, stats: DecodeStats | None = None
) -> PacketEnvelopes:
    """Split serialized ``Packet`` messages into type, session key, flags, id and content.

    Raises ``PacketDecodeError`` naming the first packet protobuf rejects.
    """
    batch = as_content_batch(packets)
    outcome = get_parser(impl).parse_envelopes(batch)
    if stats is not None:
        stats.record(len(batch), outcome)
    if outcome.failures:
        first = min(outcome.failures)
        raise PacketDecodeError(first, outcome.failures[first])
    return outcome.result


def varint(value: int) -> bytes:
    """``value`` (>= 0) as a protobuf varint; one- and two-byte values, the common lengths and
    sizes, without a loop."""
    if value < 0x80:
        return bytes((value,))
    if value < 0x4000:
        return bytes(((value & 0x7F) | 0x80, value >> 7))
    out = bytearray()
    while value >= 0x80:
        out.append((value & 0x7F) | 0x80)
        value >>= 7
    out.append(value)
    return bytes(out)


def envelope_head(type_name: str, session_key: str = "", is_essential: bool = False) -> bytes:
    """The serialized ``Packet`` fields that come before ``content`` (type, session key and
    essential flag, each left off when empty or false, as protobuf does)."""
    head = b""
    if type_name:
        raw = type_name.encode("utf-8")
        head += b"\x0a" + varint(len(raw)) + raw
    if session_key:
        raw = session_key.encode("utf-8")
        head += b"\x12" + varint(len(raw)) + raw
    if is_essential:
        head += b"\x18\x01"
    return head


def wrap_packets(
    contents: Sequence[bytes],
    type_name: str,
    *,
    session_key: str = "",
    is_essential: bool = False,
    ids: Sequence[int] | npt.NDArray[np.integer] | None = None,
) -> list[bytes]:
    """Serialized ``Packet`` envelopes around each content, byte-identical to protobuf's.

    ``type_name`` is the ``Packet.type`` string (e.g. ``"PeriodicData"``); ``ids`` gives each
    packet its ``id`` (0, the default, is left off the wire).
    """
    prefix = envelope_head(type_name, session_key, is_essential)
    if ids is not None and len(ids) != len(contents):
        raise ValueError(f"got {len(ids)} ids for {len(contents)} contents")
    id_list = [int(i) for i in ids] if ids is not None else [0] * len(contents)
    out: list[bytes] = []
    for content, packet_id in zip(contents, id_list, strict=True):
        if not 0 <= packet_id < 1 << 64:
            raise ValueError(f"packet id {packet_id} is not a uint64")
        parts = [prefix]
        if content:
            parts += [b"\x22", varint(len(content)), content]
        if packet_id:
            parts += [b"\x28", varint(packet_id)]
        out.append(b"".join(parts))
    return out

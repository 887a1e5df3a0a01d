"""Record heads: the packet type and data format id of records, read from the first bytes of
their values, so that a read asking for some parameters fetches only the records holding them
(and the embedded store labels the records it commits with them).

A head is read plainly when it holds, in the order serializers write them, the Packet's fields
up to the start of its content, and the content opens with a data format given by id. Anything
else (a format given as a list of names, a head cut short, fields in another order) is not
plain, and the record is fetched whole and decoded as any other. A packet repeating its type or
data format field further on is judged by the first. A record left unread is not checked: one
corrupt past its head is reported by reads that need it, not by the others.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from ..arrays import BoolArray, I64Array, U8Array, U64Array
from .numpy.wire import WIRE_LEN, WIRE_VARINT, read_varint
from .parsers import native_packet_labels

__all__ = ["DATA_TYPES", "HEAD_BYTES", "Heads", "packet_labels", "read_heads"]

#: bytes of each value read first: a Packet's type, session key and flags, and the opening of
#: its content (usually under 100 bytes)
HEAD_BYTES = 160
#: the sample packet types a head may tell to skip; their index is ``Heads.kinds``
DATA_TYPES = ("PeriodicData", "RowData", "SynchroData")
_KINDS = {name.encode(): kind for kind, name in enumerate(DATA_TYPES)}
# Envelope layouts looked for in one batch of heads; heads of any further ones are fetched.
_LAYOUTS = 16
# Packet fields: type (1), session key (2), is_essential (3) before the content (tag 0x22).
_TYPE_TAG, _CONTENT_TAG = 0x0A, 0x22
# The content opens with its data format (tag 0x0A, its size) holding an id (tag 0x08, varint).
_FORMAT_TAG, _FORMAT_ID_TAG = 0x0A, 0x08
_VARINT_BYTES = 10
_FORMAT_BYTES = 3 + _VARINT_BYTES
_SHIFTS = (7 * np.arange(_VARINT_BYTES)).astype(np.uint64)


@dataclass(frozen=True, eq=False)
class Heads:
    """Per record: its sample packet type (index into ``DATA_TYPES``; -1 when not a sample
    packet with a data format id in a plainly read head) and that data format id."""

    kinds: I64Array
    format_ids: U64Array


def _varints(block: U8Array) -> tuple[U64Array, I64Array]:
    """The varint opening each row of ``block`` (up to ten bytes wide) and its length in bytes
    (0: none ends within the row). Rows come in few lengths: each is summed column by column."""
    steps = min(block.shape[1], _VARINT_BYTES)
    if not steps:  # the rows end before any varint byte
        return np.zeros(block.shape[0], np.uint64), np.zeros(block.shape[0], np.int64)
    more = block[:, :steps] >= 0x80
    length = np.argmin(more, axis=1) + 1
    length[more[np.arange(length.size), length - 1]] = 0  # no last byte within the row
    if steps == _VARINT_BYTES:
        length[(length == _VARINT_BYTES) & (block[:, _VARINT_BYTES - 1] > 1)] = 0  # over 64 bits
    value = np.zeros(length.size, np.uint64)
    for size in np.unique(length).tolist():
        if not size:
            continue
        rows = np.flatnonzero(length == size)
        part = block[rows, :size] & 0x7F
        total = np.zeros(rows.size, np.uint64)
        for step in range(size):
            total |= part[:, step].astype(np.uint64) << _SHIFTS[step]
        value[rows] = total
    return value, length


def _layout(head: bytes) -> tuple[int, bytes] | None:
    """Where the content's length field starts in a Packet, and the packet's type, when the
    fields before the content are read plainly from ``head``."""
    position, packet_type = 0, b""
    while position < len(head):
        tag = head[position]
        if tag == _CONTENT_TAG:
            return position + 1, packet_type
        if tag >= 0x80 or tag & 7 not in (WIRE_VARINT, WIRE_LEN):
            return None
        value, position = read_varint(head, position + 1)
        if position < 0:
            return None
        if tag & 7 == WIRE_LEN:
            if tag == _TYPE_TAG:
                packet_type = head[position : position + value]
            position += value
    return None


def _content_starts(
    matrix: U8Array, heads: Sequence[bytes], lengths: I64Array
) -> tuple[I64Array, I64Array]:
    """Where each Packet's content starts in its row of ``matrix`` (-1: not read plainly), and
    its sample packet kind. Heads of one session mostly share a few envelope layouts (one per
    packet type): each layout is read once and matched against every head."""
    n = len(heads)
    starts = np.full(n, -1, np.int64)
    kinds = np.full(n, -1, np.int64)
    left = np.arange(n)
    for _ in range(_LAYOUTS):
        if not left.size:
            break
        first = int(left[0])
        layout = _layout(heads[first])
        if layout is None:
            left = left[1:]
            continue
        at, packet_type = layout
        same = _starting_with(matrix, left, heads[first][:at]) & (lengths[left] > at)
        same[0] = True
        rows = left[same]
        left = left[~same]
        size, size_length = _varints(matrix[rows, at : at + _VARINT_BYTES])
        body = at + size_length
        ok = (size_length > 0) & (size > 0) & (body < lengths[rows])
        starts[rows[ok]] = body[ok]
        if packet_type in _KINDS:
            kinds[rows[ok]] = _KINDS[packet_type]
    return starts, kinds


def _starting_with(matrix: U8Array, rows: I64Array, prefix: bytes) -> BoolArray:
    """Which of the ``rows`` of ``matrix`` start with ``prefix``: compared eight bytes at a
    time (``matrix`` is C-contiguous, its width a multiple of eight)."""
    words = len(prefix) // 8
    every = rows.size == matrix.shape[0]
    head = matrix if every else matrix[rows]
    same = np.ones(rows.size, np.bool_)
    if words:
        wanted = np.frombuffer(prefix[: 8 * words], np.uint64)
        same &= (head.view(np.uint64)[:, :words] == wanted).all(axis=1)
    tail = np.frombuffer(prefix[8 * words :], np.uint8)
    same &= (head[:, 8 * words : len(prefix)] == tail).all(axis=1)
    return same


def read_heads(heads: Sequence[bytes]) -> Heads:
    """The packet type and data format id in each head (a record value's first bytes)."""
    n = len(heads)
    lengths = np.fromiter(map(len, heads), np.int64, n)
    width = HEAD_BYTES
    full = bool(lengths.size) and int(lengths.min()) == width
    padded = heads if full else [head.ljust(width, b"\0") for head in heads]
    matrix = np.frombuffer(b"".join(padded), np.uint8).reshape(n, width)
    starts, kinds = _content_starts(matrix, heads, lengths)
    data = np.flatnonzero(kinds >= 0)
    at = starts[data]
    columns = np.minimum(at[:, None] + np.arange(_FORMAT_BYTES), width - 1)
    opening = matrix.reshape(-1)[(data * width)[:, None] + columns]
    format_id, id_length = _varints(opening[:, 3:])
    plain = (
        (opening[:, 0] == _FORMAT_TAG)
        & (opening[:, 2] == _FORMAT_ID_TAG)
        & (id_length > 0)
        & (opening[:, 1] == 1 + id_length)
        & (at + 3 + id_length <= lengths[data])
    )
    kinds[data[~plain]] = -1
    format_ids = np.zeros(n, np.uint64)
    format_ids[data[plain]] = format_id[plain]
    return Heads(kinds, format_ids)


def packet_labels(values: Sequence[bytes]) -> Heads:
    """The packet type and data format id of each Packet in ``values``, read from its first
    ``HEAD_BYTES`` bytes as ``read_heads`` reads them: by the compiled reader where the native
    parser is active (a few times faster on the small batches a store commits)."""
    native = native_packet_labels()
    if native is not None:
        kinds, format_ids = native(values, HEAD_BYTES)
        return Heads(kinds.astype(np.int64), format_ids)
    return read_heads([value[:HEAD_BYTES] for value in values])

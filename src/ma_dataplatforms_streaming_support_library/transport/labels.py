"""Packet labels of the embedded store: each record's sample kind and data format id, read from
its packet's head when it is committed, kept per commit in one row of packed arrays.

A selective read of a session finds the records holding the parameters it wants in these rows
(a few bytes a record, one row a commit) instead of reading every record's pages. A record that
is no sample packet with a data format id has kind -1 and is read whole. Records committed
without labels (by an older version, or before the store had them) leave a gap in the rows; a
range with a gap has no labels, and readers then read its records' heads instead.
"""

from __future__ import annotations

import struct
from collections.abc import Sequence

import numpy as np

from ..arrays import I64Array, U64Array
from ..columnar.heads import packet_labels
from .base import PacketLabels

__all__ = ["LABELS_SCHEMA", "label_batch", "labels_in"]

LABELS_SCHEMA = """
CREATE TABLE IF NOT EXISTS record_labels (
    pid INTEGER NOT NULL,
    first_offset INTEGER NOT NULL,
    count INTEGER NOT NULL,
    keys BLOB NOT NULL,
    key_index BLOB NOT NULL,
    kinds BLOB NOT NULL,
    format_ids BLOB NOT NULL,
    sizes BLOB NOT NULL,
    PRIMARY KEY (pid, first_offset)
) WITHOUT ROWID;
"""

# The distinct keys of a batch, each as its length (u32, _NO_KEY for a record without a key)
# and bytes; then per record the index of its key (u32), kind (i8), data format id (u64) and
# value size (u32), little-endian.
_LENGTH = struct.Struct("<I")
_NO_KEY = 0xFFFFFFFF
_KEY_INDEX, _KIND, _FORMAT_ID, _SIZE = "<u4", "i1", "<u8", "<u4"

#: one ``record_labels`` row: pid, first offset, count, keys, key index, kinds, format ids, sizes
LabelRow = tuple[int, int, int, bytes, bytes, bytes, bytes, bytes]


def label_batch(
    pid: int, first_offset: int, keys: Sequence[bytes | None], values: Sequence[bytes]
) -> LabelRow:
    """The ``record_labels`` row of records committed together at consecutive offsets."""
    heads = packet_labels(values)
    index_of: dict[bytes | None, int] = {}
    key_index = np.fromiter(
        (index_of.setdefault(key, len(index_of)) for key in keys), _KEY_INDEX, len(keys)
    )
    packed_keys = b"".join(
        _LENGTH.pack(_NO_KEY) if key is None else _LENGTH.pack(len(key)) + key for key in index_of
    )
    return (
        pid,
        first_offset,
        len(values),
        packed_keys,
        key_index.tobytes(),
        heads.kinds.astype(_KIND).tobytes(),
        heads.format_ids.astype(_FORMAT_ID).tobytes(),
        np.fromiter(map(len, values), _SIZE, len(values)).tobytes(),
    )


def _keys(packed: bytes) -> list[bytes | None]:
    keys: list[bytes | None] = []
    position = 0
    while position < len(packed):
        (length,) = _LENGTH.unpack_from(packed, position)
        position += _LENGTH.size
        if length == _NO_KEY:
            keys.append(None)
            continue
        keys.append(packed[position : position + length])
        position += length
    return keys


def labels_in(rows: Sequence[LabelRow], start: int, end: int, key: bytes) -> PacketLabels | None:
    """The labels of the records keyed ``key`` with ``start <= offset < end``, from the rows of
    a partition's commits that overlap the range (in offset order); None if they leave a gap."""
    covered = start
    parts: list[tuple[I64Array, I64Array, U64Array, I64Array]] = []
    for _, first, count, keys, key_index, kinds, format_ids, sizes in rows:
        if first > covered:
            return None
        covered = max(covered, first + count)
        if key not in (found := _keys(keys)):
            continue
        offsets = np.arange(first, first + count, dtype=np.int64)
        mine = (np.frombuffer(key_index, _KEY_INDEX) == found.index(key)) & (
            (offsets >= start) & (offsets < end)
        )
        parts.append(
            (
                offsets[mine],
                np.frombuffer(kinds, _KIND)[mine].astype(np.int64),
                np.frombuffer(format_ids, _FORMAT_ID)[mine],
                np.frombuffer(sizes, _SIZE)[mine].astype(np.int64),
            )
        )
    if covered < end:
        return None
    if not parts:
        return PacketLabels.empty()
    return PacketLabels(*(np.concatenate(column) for column in zip(*parts, strict=True)))

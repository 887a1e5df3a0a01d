"""Packet labels of the embedded store: each record's sample kind and data format id, read from
its packet's head when it is committed, and kept beside it in packed arrays.

A selective read of a session finds the records holding the parameters it wants in these arrays
(a few bytes a record) instead of reading every record's pages. A record that is no sample
packet with a data format id has kind -1 and is read whole.

Each commit adds a row per partition to ``label_commits`` (the offsets it covers) and a row per
partition and key to ``record_labels`` (that key's records: offsets, kinds, data format ids and
value sizes). Records committed without labels (by an older version, or before the store had
them) leave a gap in ``label_commits``; a range with a gap has no labels, and readers then read
its records' heads instead.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence

import numpy as np

from ..columnar.heads import packet_labels
from .base import PacketLabels

__all__ = ["LABELS_SCHEMA", "add_labels", "labels_in"]

LABELS_SCHEMA = """
CREATE TABLE IF NOT EXISTS label_commits (
    pid INTEGER NOT NULL,
    first_offset INTEGER NOT NULL,
    count INTEGER NOT NULL,
    PRIMARY KEY (pid, first_offset)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS record_labels (
    pid INTEGER NOT NULL,
    key BLOB NOT NULL,
    first_offset INTEGER NOT NULL,
    offsets BLOB NOT NULL,
    kinds BLOB NOT NULL,
    format_ids BLOB NOT NULL,
    sizes BLOB NOT NULL,
    PRIMARY KEY (pid, key, first_offset)
) WITHOUT ROWID;
"""

# Per record, little-endian: offset (i64), kind (i8), data format id (u64), value size (u32).
_OFFSET, _KIND, _FORMAT_ID, _SIZE = "<i8", "i1", "<u8", "<u4"


def add_labels(
    connection: sqlite3.Connection,
    pid: int,
    first_offset: int,
    keys: Sequence[bytes | None],
    values: Sequence[bytes],
) -> None:
    """Label records committed together at consecutive offsets from ``first_offset`` (in the
    caller's transaction). Records without a key are covered but keep no labels: no session
    reads them."""
    heads = packet_labels(values)
    offsets = np.arange(first_offset, first_offset + len(values), dtype=_OFFSET)
    kinds = heads.kinds.astype(_KIND)
    format_ids = heads.format_ids.astype(_FORMAT_ID)
    sizes = np.fromiter(map(len, values), _SIZE, len(values))
    connection.execute(
        "INSERT INTO label_commits VALUES (?, ?, ?)", (pid, first_offset, len(values))
    )
    index: dict[bytes | None, int] = {}
    codes = np.fromiter((index.setdefault(key, len(index)) for key in keys), np.int64, len(keys))
    rows = []
    for key, code in index.items():
        if key is None:
            continue
        mine = slice(None) if len(index) == 1 else codes == code
        rows.append(
            (
                pid,
                key,
                first_offset,
                offsets[mine].tobytes(),
                kinds[mine].tobytes(),
                format_ids[mine].tobytes(),
                sizes[mine].tobytes(),
            )
        )
    connection.executemany("INSERT INTO record_labels VALUES (?, ?, ?, ?, ?, ?, ?)", rows)


def labels_in(
    connection: sqlite3.Connection, pid: int, start: int, end: int, key: bytes
) -> PacketLabels | None:
    """The labels of the records keyed ``key`` with ``start <= offset < end`` in partition
    ``pid``; None if some record of the range was committed without labels."""
    (first,) = connection.execute(
        "SELECT max(first_offset) FROM label_commits WHERE pid = ? AND first_offset <= ?",
        (pid, start),
    ).fetchone()
    if first is None:
        return None
    commits = np.array(
        connection.execute(
            "SELECT first_offset, count FROM label_commits "
            "WHERE pid = ? AND first_offset >= ? AND first_offset < ? ORDER BY first_offset",
            (pid, first, end),
        ).fetchall(),
        np.int64,
    ).reshape(-1, 2)
    stops = commits[:, 0] + commits[:, 1]
    if stops[-1] < end or np.any(commits[1:, 0] != stops[:-1]):
        return None
    rows = connection.execute(
        "SELECT offsets, kinds, format_ids, sizes FROM record_labels "
        "WHERE pid = ? AND key = ? AND first_offset >= ? AND first_offset < ? "
        "ORDER BY first_offset",
        (pid, key, first, end),
    ).fetchall()
    if not rows:
        return PacketLabels.empty()
    offsets, kinds, format_ids, sizes = (
        np.frombuffer(b"".join(column), dtype)
        for column, dtype in zip(
            zip(*rows, strict=True), (_OFFSET, _KIND, _FORMAT_ID, _SIZE), strict=True
        )
    )
    inside = (offsets >= start) & (offsets < end)
    return PacketLabels(
        offsets[inside].astype(np.int64),
        kinds[inside].astype(np.int64),
        format_ids[inside].astype(np.uint64),
        sizes[inside].astype(np.int64),
    )

"""Session scans that read record heads first and fetch whole only the records a read needs."""

from __future__ import annotations

import itertools
from collections import Counter
from collections.abc import Callable, Iterator, Sequence

import numpy as np

from ..arrays import BoolArray, I64Array
from ..transport.base import HeadReader
from .heads import HEAD_BYTES
from .scan import SessionChunk, SessionScan, pack_records

__all__ = ["Needed", "Skipped", "skim_records", "worth_skimming"]

#: which records, by the heads of their values, are needed whole, and how many packets of each
#: type the others are
Needed = Callable[[Sequence[bytes]], tuple[BoolArray, Counter[str]]]
#: told the packets of a stream left unread, by type
Skipped = Callable[[str, Counter[str]], None]

# Heads read per query: a few MB of heads at most, and few queries per session.
_HEADS_PER_READ = 20_000
# Heads read to tell whether skimming pays, and the share of records needed up to which it does:
# past it, reading heads and then most records costs more than reading all records once.
_PROBE_RECORDS = 2_000
_SKIM_SHARE = 0.5
# Whole records are fetched (and decoded) in chunks of at most this many value bytes, as the
# scan of whole records chunks them (what a chunk costs in memory scales with it).
_CHUNK_BYTES = 2 << 20


def worth_skimming(reader: HeadReader, scan: SessionScan, needed: Needed) -> bool:
    """Whether reading heads first pays, judged by the first heads of the scan's longest range:
    at most ``_SKIM_SHARE`` of those records needed."""
    ranges = [(end - start, where, start, end) for where, (start, end) in scan.ranges.items()]
    if not ranges:
        return False
    _, where, start, end = max(ranges)
    key = scan.record.info.session_key.encode()
    found = reader.heads(where, start, end, key, HEAD_BYTES, _PROBE_RECORDS)
    if not found.heads:
        return False
    wanted, _ = needed(found.heads)
    return float(wanted.mean()) <= _SKIM_SHARE


def skim_records(
    reader: HeadReader, scan: SessionScan, needed: Needed, skipped: Skipped
) -> Iterator[SessionChunk]:
    """Yield the session's needed records in chunks, partition by partition: each partition's
    heads are read, ``needed(heads)`` picks records, only those are fetched whole, and the
    others are told to ``skipped``.

    A chunk's ``scanned`` counts every record its heads covered, so progress reaches the total.
    """
    key = scan.record.info.session_key.encode()
    for where, (start, end) in scan.ranges.items():
        stream = scan.streams_by_partition[where]
        position = start
        while position < end:
            found = reader.heads(where, position, end, key, HEAD_BYTES, _HEADS_PER_READ)
            last = len(found.offsets) < _HEADS_PER_READ
            following = end if last else found.offsets[-1] + 1
            keep = np.zeros(0, np.bool_)
            if found.heads:
                keep, left = needed(found.heads)
                skipped(stream, left)
            offsets = np.asarray(found.offsets, np.int64)[keep]
            sizes = np.asarray(found.sizes, np.int64)[keep]
            pieces = _pieces(sizes)
            scanned = following - position
            for first, stop in itertools.pairwise(pieces):
                records = reader.records(where, offsets[first:stop].tolist())
                yield pack_records(records, key, scan.streams_by_partition, scanned)
                scanned = 0
            if scanned:
                yield pack_records([], key, scan.streams_by_partition, scanned)
            position = following


def _pieces(sizes: I64Array) -> list[int]:
    """Bounds of consecutive runs of records of at most ``_CHUNK_BYTES`` (or one larger record)."""
    if not sizes.size:
        return [0]
    bounds = [0]
    total = np.cumsum(sizes)
    while bounds[-1] < sizes.size:
        base = total[bounds[-1] - 1] if bounds[-1] else 0
        stop = int(np.searchsorted(total, base + _CHUNK_BYTES, side="right"))
        bounds.append(max(stop, bounds[-1] + 1))
    return bounds

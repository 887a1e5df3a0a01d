"""Session scans through a transport's KeyedReader: the session's values only, or record heads
first and whole values only of the records a read needs."""

from __future__ import annotations

import itertools
from collections import Counter
from collections.abc import Callable, Generator, Iterator, Sequence
from dataclasses import dataclass

import numpy as np

from ..arrays import BoolArray, I64Array
from ..columnar.heads import HEAD_BYTES, Heads
from ..transport.base import KeyedReader, RecordHeads, TopicPartition
from .scan import SessionChunk, SessionScan, pack_values

__all__ = [
    "LabelPlan",
    "Needed",
    "Picked",
    "Skipped",
    "label_plan",
    "labelled_records",
    "skim_records",
    "whole_records",
    "worth_skimming",
]

#: which records, by the packet types and data format ids of their heads, are needed whole, and
#: how many packets of each type the others are
Picked = Callable[[Heads], tuple[BoolArray, Counter[str]]]
#: which records, by the heads of their values, are needed whole, and how many packets of each
#: type the others are
Needed = Callable[[Sequence[bytes]], tuple[BoolArray, Counter[str]]]
#: told the packets of a stream left unread, by type
Skipped = Callable[[str, Counter[str]], None]

# Heads read per query: larger reads run slower (caches).
_HEADS_PER_READ = 1_000
# Heads read to tell whether skimming pays, and the share of records needed up to which it does:
# past it, reading heads and then most records costs more than reading all records once.
_PROBE_RECORDS = 2_000
_SKIM_SHARE = 0.5
# Whole records are fetched (and decoded) in chunks of about this many value bytes. What a chunk
# costs in memory scales with it (its values, their packed copy, the decode temporaries: about
# five times the chunk, for each chunk read ahead too): at 2 MiB a 20M-sample read peaked ~6 MB
# higher than at 1 MiB, at no measurable gain in speed.
_CHUNK_BYTES = 1 << 20
# The value size assumed for the first read of whole values, before any value was measured.
_ASSUMED_RECORD_BYTES = 4_096


def worth_skimming(reader: KeyedReader, scan: SessionScan, needed: Needed) -> bool:
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


@dataclass(frozen=True)
class LabelPlan:
    """Per range of a scan, by the store's packet labels: the offsets and sizes of the records a
    selective read needs, and how many packets of each type the others are; None for a range
    the store has no labels for."""

    ranges: dict[TopicPartition, tuple[I64Array, I64Array, Counter[str]] | None]

    @property
    def reads_all(self) -> bool:
        """Every range has labels, and they leave no record unread."""
        return all(chosen is not None and not chosen[2] for chosen in self.ranges.values())


def label_plan(reader: KeyedReader, scan: SessionScan, picked: Picked) -> LabelPlan | None:
    """The plan of a selective read by packet labels, or None where the store keeps none for
    the session's records."""
    key = scan.record.info.session_key.encode()
    ranges: dict[TopicPartition, tuple[I64Array, I64Array, Counter[str]] | None] = {}
    for where, span in scan.ranges.items():
        labels = reader.packet_labels(where, *span, key)
        if labels is None:
            ranges[where] = None
            continue
        keep, left = picked(Heads(labels.kinds, labels.format_ids))
        ranges[where] = (labels.offsets[keep], labels.sizes[keep], left)
    if all(chosen is None for chosen in ranges.values()):
        return None
    return LabelPlan(ranges)


def labelled_records(
    reader: KeyedReader, scan: SessionScan, plan: LabelPlan, needed: Needed, skipped: Skipped
) -> Iterator[SessionChunk]:
    """Yield the records the plan needs in chunks, partition by partition; the others are told
    to ``skipped`` — no page of theirs is read. A range without labels is skimmed by heads
    instead (``needed``)."""
    for where, (start, end) in scan.ranges.items():
        chosen = plan.ranges[where]
        if chosen is None:
            yield from _skim_partition(reader, scan, where, needed, skipped)
            continue
        offsets, sizes, left = chosen
        stream = scan.streams_by_partition[where]
        skipped(stream, left)
        yield from _whole(reader, where, stream, offsets.tolist(), sizes.tolist(), end - start)


def skim_records(
    reader: KeyedReader, scan: SessionScan, needed: Needed, skipped: Skipped
) -> Iterator[SessionChunk]:
    """Yield the session's needed records in chunks, partition by partition: each partition's
    heads are read, ``needed(heads)`` picks records, only those are read whole, and the others
    are told to ``skipped``.

    Heads are read here, not on a thread ahead: sqlite3 gives up the GIL for every row it
    steps, and with a thread decoding alongside, each row then waits for it (measured: half
    again to twice the CPU time of reading the heads alone).

    A chunk's ``scanned`` counts every record its heads covered, so progress reaches the total.
    """
    for where in scan.ranges:
        yield from _skim_partition(reader, scan, where, needed, skipped)


def _skim_partition(
    reader: KeyedReader, scan: SessionScan, where: TopicPartition, needed: Needed, skipped: Skipped
) -> Iterator[SessionChunk]:
    stream = scan.streams_by_partition[where]
    for scanned, found in _heads(reader, scan, where):
        if not found.heads:
            yield pack_values((), (), where, stream, scanned)
            continue
        keep, left = needed(found.heads)
        skipped(stream, left)
        offsets = np.asarray(found.offsets, np.int64)[keep]
        sizes = np.asarray(found.sizes, np.int64)[keep]
        yield from _whole(reader, where, stream, offsets.tolist(), sizes.tolist(), scanned)


def _whole(
    reader: KeyedReader,
    where: TopicPartition,
    stream: str,
    offsets: Sequence[int],
    sizes: Sequence[int],
    scanned: int,
) -> Iterator[SessionChunk]:
    """The records at ``offsets`` (of ``sizes``) read whole, in chunks; the first chunk counts
    the ``scanned`` records their choice covered (one chunk with none, if none is read)."""
    pieces = _pieces(np.asarray(sizes, np.int64))
    for first, stop in itertools.pairwise(pieces):
        read = reader.chosen(where, offsets[first:stop])
        yield pack_values(read.offsets, read.values, where, stream, scanned)
        scanned = 0
    if scanned:
        yield pack_values((), (), where, stream, scanned)


def _heads(
    reader: KeyedReader, scan: SessionScan, where: TopicPartition
) -> Generator[tuple[int, RecordHeads], None, None]:
    """A partition's heads in batches, with the count of records each batch covers."""
    key = scan.record.info.session_key.encode()
    position, end = scan.ranges[where]
    while position < end:
        found = reader.heads(where, position, end, key, HEAD_BYTES, _HEADS_PER_READ)
        last = len(found.offsets) < _HEADS_PER_READ
        following = end if last else found.offsets[-1] + 1
        yield following - position, found
        position = following


def whole_records(
    reader: KeyedReader, scan: SessionScan, chunk_bytes: int = _CHUNK_BYTES
) -> Generator[SessionChunk, None, None]:
    """Yield the session's values in chunks of about ``chunk_bytes``, partition by partition."""
    key = scan.record.info.session_key.encode()
    mean = float(_ASSUMED_RECORD_BYTES)
    for where, (start, end) in scan.ranges.items():
        stream = scan.streams_by_partition[where]
        position = start
        while position < end:
            count = max(1, int(chunk_bytes / mean))
            read = reader.values(where, position, end, key, count)
            following = end if len(read.offsets) < count else read.offsets[-1] + 1
            if read.values:
                mean = max(1.0, sum(map(len, read.values)) / len(read.values))
            chunk = pack_values(read.offsets, read.values, where, stream, following - position)
            del read  # the packed copy is all a chunk needs: the values go before it is queued
            yield chunk
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

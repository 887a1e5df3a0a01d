"""Session scans through a transport's KeyedReader: the session's values only, or record heads
first and whole values only of the records a read needs."""

from __future__ import annotations

import itertools
from collections import Counter
from collections.abc import Callable, Generator, Iterable, Iterator, Sequence
from dataclasses import dataclass

import numpy as np

from ..arrays import BoolArray, I64Array, U64Array
from ..columnar.heads import DATA_TYPES, HEAD_BYTES
from ..transport.base import KeyedReader, PacketLabels, RecordHeads, TopicPartition
from .scan import SessionChunk, SessionScan, pack_values

__all__ = [
    "LabelPlan",
    "Needed",
    "Skipped",
    "Wanted",
    "label_plan",
    "labelled_records",
    "skim_records",
    "whole_records",
    "worth_skimming",
]

#: which of these data format ids a selective read needs
Wanted = Callable[[Iterable[int]], list[int]]
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
    """What a selective read takes from the store's packet labels: the labels of each range
    (None for a range without them) and the data format ids whose records it reads."""

    labels: dict[TopicPartition, PacketLabels | None]
    formats: U64Array
    #: every data format in the labels is wanted and no range is without them: a selective
    #: read would read every record
    reads_all: bool


def label_plan(reader: KeyedReader, scan: SessionScan, wanted: Wanted) -> LabelPlan | None:
    """The plan of a selective read by packet labels, or None where the store keeps none for
    the session's records."""
    key = scan.record.info.session_key.encode()
    labels = {where: reader.packet_labels(where, *span, key) for where, span in scan.ranges.items()}
    known = [found.format_ids[found.kinds >= 0] for found in labels.values() if found is not None]
    if not known:
        return None
    present = np.unique(np.concatenate(known))
    formats = np.asarray(wanted(present.tolist()), np.uint64)
    gaps = len(known) < len(labels)
    return LabelPlan(labels, formats, formats.size == present.size and not gaps)


def labelled_records(
    reader: KeyedReader, scan: SessionScan, plan: LabelPlan, needed: Needed, skipped: Skipped
) -> Iterator[SessionChunk]:
    """Yield the session's records of the plan's data formats (and those of no data format id)
    in chunks, partition by partition; the others are told to ``skipped`` — no page of theirs
    is read. A range without labels is skimmed by heads instead (``needed``)."""
    for where, (start, end) in scan.ranges.items():
        labels = plan.labels[where]
        if labels is None:
            yield from _skim_partition(reader, scan, where, needed, skipped)
            continue
        stream = scan.streams_by_partition[where]
        keep = (labels.kinds < 0) | np.isin(labels.format_ids, plan.formats)
        others = np.bincount(labels.kinds[~keep], minlength=len(DATA_TYPES)).tolist()
        skipped(stream, Counter({DATA_TYPES[k]: n for k, n in enumerate(others) if n}))
        offsets, sizes = labels.offsets[keep].tolist(), labels.sizes[keep].tolist()
        yield from _whole(reader, where, stream, offsets, sizes, end - start)


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

"""Session scans: which log partitions hold a session, from where to where, and reading them in batches."""

from __future__ import annotations

import logging
import operator
import time
from collections import deque
from collections.abc import Callable, Generator, Iterator, Mapping, Sequence
from dataclasses import dataclass
from itertools import compress
from typing import overload

import numpy as np

from ..arrays import I64Array
from ..columnar import ContentBatch
from ..contracts.packet_reading.packet_reading_configuration import PacketReadingConfiguration
from ..contracts.packet_reading.packet_reading_type import PacketReadingType
from ..contracts.shared.stream_creation_strategy import StreamCreationStrategy
from ..core.base.ahead import made_ahead
from ..core.library.context import LibraryContext
from ..core.packet_reading.session_reading import plan_partitions
from ..core.session_management.registry import SessionRecord
from ..errors import SessionNotFoundError, TransportError
from ..layout import main_topic, stream_of
from ..transport.base import Consumer, Record, TopicPartition, Transport
from .types import Origin

__all__ = [
    "ChunkOrigins",
    "SessionChunk",
    "SessionScan",
    "detect_strategy",
    "find_session",
    "pack_records",
    "pack_values",
    "plan_scan",
    "read_ranges",
    "scan_records",
]

logger = logging.getLogger(__name__)

_POLL_TIMEOUT_S = 0.1
# A session is read in chunks of at most this many bytes of record values. What a chunk costs in
# memory scales with it: its records, their values packed into one buffer and the decode
# temporaries (about five times the chunk). Below it the fixed cost of each decode call shows.
_SESSION_BATCH_BYTES = 2 << 20
# Records per poll at most, whatever their size.
_SESSION_BATCH_RECORDS = 8_000
# The record size assumed for the first poll, before any record has been measured.
_ASSUMED_RECORD_BYTES = 4_096
# Polls aim at this share of the chunk bound: records a bit larger than the mean read so far
# would otherwise split a poll into a full chunk and a tiny one.
_POLL_FILL = 0.9

_KEY = operator.attrgetter("key")
_VALUE = operator.attrgetter("value")
_OFFSET = operator.attrgetter("offset")
_WHERE = operator.attrgetter("topic", "partition")


def find_session(
    context: LibraryContext, session_key: str, data_source: str | None = None
) -> SessionRecord:
    """The session's record, from the registry caught up with the log.

    Raises ``SessionNotFoundError`` for an unknown key or a key of another data source.
    """
    context.sessions.catch_up()
    record = context.sessions.get(session_key)
    if record is None or (data_source is not None and record.info.data_source != data_source):
        where = "" if data_source is None else f" of data source {data_source!r}"
        raise SessionNotFoundError(
            f"session {session_key} not found{where} in {context.transport.location}"
        )
    return record


def detect_strategy(data_source: str, topics: Mapping[str, int]) -> StreamCreationStrategy:
    """The layout a data source was written with: a main topic of several partitions means
    partition-based; otherwise topic-based (which also reads a one-partition partition-based
    layout, where every stream shares partition 0)."""
    if topics.get(main_topic(data_source), 1) > 1:
        return StreamCreationStrategy.PARTITION_BASE
    return StreamCreationStrategy.TOPIC_BASE


@dataclass(frozen=True, slots=True)
class SessionScan:
    """Where one session's records are: ``ranges[(topic, partition)] = (first offset, end offset)``.

    The end is the partition's end offset when the scan was planned, so a live session is read up
    to that moment. Records at offsets from the session's NewSession position to that end belong
    to the session when their key is its session key.
    """

    record: SessionRecord
    ranges: dict[TopicPartition, tuple[int, int]]
    streams_by_partition: dict[TopicPartition, str]

    @property
    def total_records(self) -> int:
        """Records to scan (the session's own and those of other sessions interleaved with it)."""
        return sum(end - start for start, end in self.ranges.values())


def plan_scan(
    transport: Transport,
    record: SessionRecord,
    streams: Sequence[str] | None,
    partition_mappings: Mapping[str, int],
) -> SessionScan:
    """Plan reading ``record``'s session: the streams listed (``""`` is the main stream), or all.

    Partitions are chosen as the packet reader chooses them (``plan_partitions``).
    """
    info = record.info
    topics = transport.list_topics()
    strategy = detect_strategy(info.data_source, topics)
    wanted = list(streams or [])
    configuration = PacketReadingConfiguration(
        session_key=info.session_key,
        data_source=info.data_source,
        reading_type=PacketReadingType.HISTORIC,
        streams=wanted,
        exclude_main_stream=bool(wanted) and "" not in wanted,
    )
    plan = plan_partitions(
        info, record.start_offsets, topics, configuration, strategy, partition_mappings
    )
    ranges: dict[TopicPartition, tuple[int, int]] = {}
    streams_by_partition: dict[TopicPartition, str] = {}
    end_offsets: dict[str, dict[int, int]] = {}
    for (topic, partition), start in sorted(plan.items()):
        if topic not in end_offsets:
            end_offsets[topic] = transport.end_offsets(topic)
        ranges[(topic, partition)] = (start, end_offsets[topic].get(partition, 0))
        stream = stream_of(topic, partition, info.data_source, strategy, partition_mappings)
        streams_by_partition[(topic, partition)] = stream or ""
    return SessionScan(record, ranges, streams_by_partition)


def read_ranges(
    transport: Transport,
    ranges: Mapping[TopicPartition, tuple[int, int]],
    timeout_s: float,
    batch_records: int = 5_000,
    batch_bytes: int | None = None,
) -> Generator[list[Record], None, None]:
    """Yield the records with ``start <= offset < end`` of each range, one poll at a time.

    With ``batch_bytes``, each poll asks for as many records (at most ``batch_records``) as fit in
    ``batch_bytes`` at the mean value size read so far, and each list yielded holds at most
    ``batch_bytes`` of record values (or a single record larger than that). No reference to a
    list is kept once it is yielded, so its records go as soon as the reader drops it.

    Raises ``TransportError`` when no record arrives for ``timeout_s`` while some are still due.
    """
    pending = {where: span for where, span in ranges.items() if span[1] > span[0]}
    if not pending:
        return
    polled_records = polled_bytes = 0
    with transport.consumer() as consumer:
        consumer.assign({where: start for where, (start, _) in pending.items()})
        last_progress = time.monotonic()
        while pending:
            count = batch_records
            if batch_bytes is not None:
                mean = polled_bytes / polled_records if polled_records else _ASSUMED_RECORD_BYTES
                count = max(1, min(batch_records, int(_POLL_FILL * batch_bytes / max(mean, 1.0))))
            records = consumer.poll(count, _POLL_TIMEOUT_S)
            if not records:
                if time.monotonic() - last_progress > timeout_s:
                    due = {f"{t}:{p}": span for (t, p), span in pending.items()}
                    raise TransportError(
                        f"reading {transport.location} stalled: no record for {timeout_s} s "
                        f"with offsets still due {due}",
                        retriable=True,
                    )
                continue
            last_progress = time.monotonic()
            kept, kept_bytes = _in_range(records, pending, consumer)
            polled_records += len(kept)
            polled_bytes += kept_bytes
            pieces = _pieces(kept, kept_bytes, batch_bytes)
            del records, kept  # the pieces yielded must hold the only references to their records
            while pieces:
                yield pieces.popleft()


def _in_range(
    records: list[Record], pending: dict[TopicPartition, tuple[int, int]], consumer: Consumer
) -> tuple[list[Record], int]:
    """The records before the end of their range and the bytes of their values; ranges read to
    the end leave ``pending`` and the consumer's assignment."""
    first, last = records[0], records[-1]
    span = pending.get((first.topic, first.partition))
    if (
        span is not None
        and (last.topic, last.partition) == (first.topic, first.partition)
        and last.offset - first.offset == len(records) - 1
        and last.offset < span[1] - 1
    ):
        # One partition, consecutive offsets, all before the end: every record is kept.
        return records, sum(map(len, map(_VALUE, records)))
    kept: list[Record] = []
    kept_bytes = 0
    finished: set[TopicPartition] = set()
    for record in records:
        where = (record.topic, record.partition)
        span = pending.get(where)
        if span is None:
            continue
        if record.offset < span[1]:
            kept.append(record)
            kept_bytes += len(record.value)
        # Kafka offsets may have gaps (transaction markers), so the end can be stepped over.
        if record.offset >= span[1] - 1:
            finished.add(where)
    for where in finished:
        del pending[where]
    if finished:
        consumer.unassign(finished)
    return kept, kept_bytes


def _pieces(
    records: list[Record], records_bytes: int, batch_bytes: int | None
) -> deque[list[Record]]:
    """``records`` (``records_bytes`` of values) in consecutive lists of at most ``batch_bytes``
    of values (at least one record each); one list when they fit or without a bound."""
    if batch_bytes is None or records_bytes <= batch_bytes:
        return deque([records])
    pieces: deque[list[Record]] = deque()
    piece: list[Record] = []
    size = 0
    for record in records:
        if piece and size + len(record.value) > batch_bytes:
            pieces.append(piece)
            piece, size = [], 0
        piece.append(record)
        size += len(record.value)
    pieces.append(piece)
    return pieces


class ChunkOrigins(Sequence[Origin]):
    """The (topic, partition, offset) of each record of a chunk, built only when asked for."""

    def __init__(self, places: list[TopicPartition], place: I64Array, offsets: I64Array) -> None:
        self._places = places
        self._place = place
        self._offsets = offsets

    def __len__(self) -> int:
        return int(self._offsets.size)

    @overload
    def __getitem__(self, index: int) -> Origin: ...
    @overload
    def __getitem__(self, index: slice) -> Sequence[Origin]: ...
    def __getitem__(self, index: int | slice) -> Origin | Sequence[Origin]:
        if isinstance(index, slice):
            return [self[i] for i in range(*index.indices(len(self)))]
        topic, partition = self._places[int(self._place[index])]
        return topic, partition, int(self._offsets[index])


@dataclass(frozen=True, slots=True)
class SessionChunk:
    """Some of a session's records, packed for decoding: their values back to back in one buffer,
    with the stream and the position of each."""

    streams: list[str]
    packets: ContentBatch
    origins: ChunkOrigins
    #: records scanned for this chunk (the session's and those of other sessions)
    scanned: int


def scan_records(
    transport: Transport,
    scan: SessionScan,
    timeout_s: float,
    batch_bytes: int = _SESSION_BATCH_BYTES,
    source: Callable[[], Generator[SessionChunk, None, None]] | None = None,
) -> Iterator[SessionChunk]:
    """Yield the session's records in chunks of at most ``batch_bytes`` of values (or one larger
    record) until all are read: from a consumer, or the chunks ``source()`` yields; made ahead on
    a thread of their own while the caller decodes (the store or broker client releases the GIL
    while it waits or steps, so both go on at once)."""
    chunks = source or (lambda: _consumed(transport, scan, timeout_s, batch_bytes))
    return made_ahead(lambda _stop: chunks(), name="ma-streaming-session-scan")


def _consumed(
    transport: Transport, scan: SessionScan, timeout_s: float, batch_bytes: int
) -> Generator[SessionChunk, None, None]:
    key = scan.record.info.session_key.encode()
    batches = read_ranges(transport, scan.ranges, timeout_s, _SESSION_BATCH_RECORDS, batch_bytes)
    try:
        for records in batches:
            chunk = pack_records(records, key, scan.streams_by_partition)
            # Only the packed copy of the values is decoded: the records go before it is.
            del records
            yield chunk
    finally:
        batches.close()


def pack_values(
    offsets: Sequence[int],
    values: Sequence[bytes],
    where: TopicPartition,
    stream: str,
    scanned: int,
) -> SessionChunk:
    """Values of one partition (all of the session) at ``offsets``, packed as a chunk of
    ``scanned`` records scanned."""
    return SessionChunk(
        [stream] * len(values),
        ContentBatch.from_messages(values),
        ChunkOrigins([where], np.zeros(len(values), np.int64), np.asarray(offsets, np.int64)),
        scanned,
    )


def pack_records(
    records: list[Record],
    key: bytes,
    streams_by_partition: Mapping[TopicPartition, str],
    scanned: int | None = None,
) -> SessionChunk:
    """The records keyed ``key`` packed, as a chunk of ``scanned`` records scanned (default: the
    records given); per-record work runs in C iterators, not Python loops."""
    keys = list(map(_KEY, records))
    mine = (
        records if keys.count(key) == len(keys) else list(compress(records, map(key.__eq__, keys)))
    )
    wheres = list(map(_WHERE, mine))
    places = list(dict.fromkeys(wheres))
    if len(places) == 1:
        place = np.zeros(len(mine), np.int64)
        streams = [streams_by_partition.get(places[0], "")] * len(mine)
    else:
        codes = {where: code for code, where in enumerate(places)}
        place = np.fromiter(map(codes.__getitem__, wheres), np.int64, len(mine))
        names = [streams_by_partition.get(where, "") for where in places]
        streams = list(map(names.__getitem__, place.tolist()))
    offsets = np.fromiter(map(_OFFSET, mine), np.int64, len(mine))
    return SessionChunk(
        streams,
        ContentBatch.from_messages(list(map(_VALUE, mine))),
        ChunkOrigins(places, place, offsets),
        len(records) if scanned is None else scanned,
    )

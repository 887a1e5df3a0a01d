"""Session scans: which log partitions hold a session, from where to where, and reading them in batches."""

from __future__ import annotations

import logging
import time
from collections import deque
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass

from ..columnar import ContentBatch
from ..contracts.packet_reading.packet_reading_configuration import PacketReadingConfiguration
from ..contracts.packet_reading.packet_reading_type import PacketReadingType
from ..contracts.shared.stream_creation_strategy import StreamCreationStrategy
from ..core.library.context import LibraryContext
from ..core.packet_reading.session_reading import plan_partitions
from ..core.session_management.registry import SessionRecord
from ..errors import SessionNotFoundError, TransportError
from ..layout import main_topic, stream_of
from ..transport.base import Consumer, Record, TopicPartition, Transport
from .types import Origin

__all__ = [
    "SessionChunk",
    "SessionScan",
    "detect_strategy",
    "find_session",
    "plan_scan",
    "read_ranges",
    "scan_records",
]

logger = logging.getLogger(__name__)

_POLL_TIMEOUT_S = 0.1
# A session is read in chunks of at most this many bytes of record values. What a chunk costs in
# memory scales with it: its records, their values packed into one buffer and the decode
# temporaries (about five times the chunk). Below it the fixed cost of each decode call shows.
_SESSION_BATCH_BYTES = 768 << 10
# Records per poll at most, whatever their size.
_SESSION_BATCH_RECORDS = 4_000
# The record size assumed for the first poll, before any record has been measured.
_ASSUMED_RECORD_BYTES = 4_096
# Polls aim at this share of the chunk bound: records a bit larger than the mean read so far
# would otherwise split a poll into a full chunk and a tiny one.
_POLL_FILL = 0.9


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
) -> Iterator[list[Record]]:
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


@dataclass(frozen=True, slots=True)
class SessionChunk:
    """Some of a session's records, packed for decoding: their values back to back in one buffer,
    with the stream and the position of each."""

    streams: list[str]
    packets: ContentBatch
    origins: list[Origin]
    #: records scanned for this chunk (the session's and those of other sessions)
    scanned: int


def scan_records(
    transport: Transport,
    scan: SessionScan,
    timeout_s: float,
    batch_bytes: int = _SESSION_BATCH_BYTES,
) -> Iterator[SessionChunk]:
    """Yield the session's records in chunks of at most ``batch_bytes`` of values (or one larger
    record) until all are read."""
    key = scan.record.info.session_key.encode()
    for records in read_ranges(
        transport, scan.ranges, timeout_s, _SESSION_BATCH_RECORDS, batch_bytes
    ):
        chunk = _pack(records, key, scan.streams_by_partition)
        # Only the packed copy of the values is decoded: the records go before it is.
        del records
        yield chunk


def _pack(
    records: list[Record], key: bytes, streams_by_partition: Mapping[TopicPartition, str]
) -> SessionChunk:
    mine = [record for record in records if record.key == key]
    return SessionChunk(
        [streams_by_partition.get((r.topic, r.partition), "") for r in mine],
        ContentBatch.from_messages([r.value for r in mine]),
        [(r.topic, r.partition, r.offset) for r in mine],
        len(records),
    )

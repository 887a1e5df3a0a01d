"""Session scans: which log partitions hold a session, from where to where, and reading them in batches."""

from __future__ import annotations

import logging
import time
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass

from .contracts.packet_reading.packet_reading_configuration import PacketReadingConfiguration
from .contracts.packet_reading.packet_reading_type import PacketReadingType
from .contracts.shared.stream_creation_strategy import StreamCreationStrategy
from .core.packet_reading.session_reading import plan_partitions
from .core.session_management.registry import SessionRecord
from .layout import main_topic, stream_of
from .transport.base import Record, TopicPartition, Transport, TransportError

__all__ = ["SessionScan", "detect_strategy", "plan_scan", "read_ranges", "scan_records"]

logger = logging.getLogger(__name__)

_POLL_TIMEOUT_S = 0.1
# Records decoded per batch when reading a session: larger batches cost memory (each batch's
# decode temporaries) and gain little speed past this size.
_SESSION_BATCH_RECORDS = 2_000


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
) -> Iterator[list[Record]]:
    """Yield the records with ``start <= offset < end`` of each range, one poll at a time.

    Raises ``TransportError`` when no record arrives for ``timeout_s`` while some are still due.
    """
    pending = {where: span for where, span in ranges.items() if span[1] > span[0]}
    if not pending:
        return
    with transport.consumer() as consumer:
        consumer.assign({where: start for where, (start, _) in pending.items()})
        last_progress = time.monotonic()
        while pending:
            records = consumer.poll(batch_records, _POLL_TIMEOUT_S)
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
            kept: list[Record] = []
            finished: set[TopicPartition] = set()
            for record in records:
                where = (record.topic, record.partition)
                span = pending.get(where)
                if span is None:
                    continue
                if record.offset < span[1]:
                    kept.append(record)
                # Kafka offsets may have gaps (transaction markers), so the end can be stepped over.
                if record.offset >= span[1] - 1:
                    finished.add(where)
            for where in finished:
                del pending[where]
            if finished:
                consumer.unassign(finished)
            yield kept


def scan_records(
    transport: Transport, scan: SessionScan, timeout_s: float
) -> Iterator[tuple[list[Record], int]]:
    """Yield (the session's records of one poll, records scanned in that poll) until all are read."""
    key = scan.record.info.session_key.encode()
    for records in read_ranges(transport, scan.ranges, timeout_s, _SESSION_BATCH_RECORDS):
        yield [record for record in records if record.key == key], len(records)

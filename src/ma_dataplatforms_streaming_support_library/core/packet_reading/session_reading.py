"""SessionReading: which partitions a session is read from, how far, and which of its streams are done."""

from __future__ import annotations

import time
from collections.abc import Mapping
from dataclasses import dataclass, field

from ...contracts.packet_reading.packet_reading_configuration import PacketReadingConfiguration
from ...contracts.session_management.session_info import SessionInfo
from ...contracts.shared.stream_creation_strategy import StreamCreationStrategy
from ...layout import MAIN_STREAM, discover_streams, main_topic, stream_of, stream_topic
from ...transport.base import TopicPartition

__all__ = ["PartitionProgress", "SessionReading", "StreamProgress", "plan_partitions"]


@dataclass(slots=True)
class PartitionProgress:
    """How far one session has been delivered on one partition, and where it must stop."""

    next_offset: int
    drain_target: int | None = None


@dataclass(slots=True)
class StreamProgress:
    last_packet_at: float
    completed: bool = False


@dataclass(slots=True)
class SessionReading:
    info: SessionInfo
    partitions: dict[TopicPartition, PartitionProgress]
    streams: dict[str, StreamProgress] = field(default_factory=dict)
    picked_at: float = field(default_factory=time.monotonic)
    last_packet_at: float = field(default_factory=time.monotonic)
    started: bool = False
    ended: bool = False
    completed: bool = False

    def idle_for(self, now: float) -> float:
        return now - max(self.picked_at, self.last_packet_at)


def _wanted(stream: str, configuration: PacketReadingConfiguration) -> bool:
    if stream == MAIN_STREAM:
        return not configuration.exclude_main_stream
    return not configuration.streams or stream in configuration.streams


def plan_partitions(
    info: SessionInfo,
    start_offsets: Mapping[TopicPartition, int],
    topics: Mapping[str, int],
    configuration: PacketReadingConfiguration,
    strategy: StreamCreationStrategy,
    partition_mappings: Mapping[str, int],
) -> dict[TopicPartition, int]:
    """(topic, partition) → first offset to read for a session, for the streams the reader wants.

    Entries of the session's NewSession map give the start; partitions missing from it (stream
    topics created later) start at 0, since records are filtered by session key anyway.
    """
    data_source = info.data_source
    main = main_topic(data_source)
    candidates: set[TopicPartition] = set()
    if main in topics:
        if strategy == StreamCreationStrategy.PARTITION_BASE:
            candidates.update((main, p) for p in range(topics[main]))
        else:
            candidates.add((main, 0))
    candidates.update(tp for tp in start_offsets if tp[0] in topics)
    if strategy == StreamCreationStrategy.TOPIC_BASE:
        candidates.update(
            (stream_topic(data_source, stream), 0)
            for stream in discover_streams(data_source, topics)
        )
    plan: dict[TopicPartition, int] = {}
    for topic, partition in candidates:
        stream = stream_of(topic, partition, data_source, strategy, partition_mappings)
        if stream is None or not _wanted(stream, configuration):
            continue
        if partition >= topics.get(topic, 0):
            continue
        plan[(topic, partition)] = start_offsets.get((topic, partition), 0)
    return plan

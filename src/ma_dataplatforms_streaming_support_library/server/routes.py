"""Where a Stream API read connection reads: (topic, partition, start offset, stream label) routes."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from ..contracts.shared.stream_creation_strategy import StreamCreationStrategy
from ..layout import (
    MAIN_STREAM,
    essential_route,
    main_topic,
    main_topic_partitions,
    name_error,
    stream_topic,
)
from ..protos import api_pb2

__all__ = ["EARLIEST", "LATEST", "Route", "connection_routes", "essentials_routes"]

#: ``ConnectionDetails`` offsets as the C# server passes them to Kafka: -1 is the end of the
#: partition (latest), -2 its beginning; 0 and above are offsets (0 being the earliest).
LATEST = -1
EARLIEST = -2


@dataclass(frozen=True, slots=True)
class Route:
    """One partition a connection reads, the offset it asked for, and the stream it reports."""

    topic: str
    partition: int
    offset: int
    stream: str


def _offset_error(value: int, field: str) -> str:
    if value < EARLIEST:
        return (
            f"{field} must be -1 (latest), -2 (earliest) or an offset >= 0 (0 is the earliest), "
            f"got {value}"
        )
    return ""


def connection_routes(
    details: api_pb2.ConnectionDetails,
    strategy: StreamCreationStrategy,
    partition_mappings: Mapping[str, int],
) -> list[Route] | str:
    """The routes of ``ReadPackets``/``ReadDataPackets``, or an error naming the bad field.

    As the C# server: the main route (unless ``exclude_main_stream``) is the whole main topic
    when no stream is listed and its partition 0 otherwise, from ``main_offset``; each listed
    stream is read from its ``stream_offsets`` entry (missing entries read from 0, the earliest).
    Partition-based, a stream without a partition mapping is not read (its packets are in the
    main stream); topic-based, a stream is its own topic ``<data_source>.<stream>``. Packets are
    labelled with the route they arrive on, so the whole main topic reads as the main stream.
    """
    data_source = details.data_source
    error = name_error(data_source).replace("data_source", "details.data_source", 1)
    if error:
        return error
    error = _offset_error(details.main_offset, "details.main_offset")
    for index, offset in enumerate(details.stream_offsets):
        error = error or _offset_error(offset, f"details.stream_offsets[{index}]")
    if error:
        return error
    routes: list[Route] = []
    topic = main_topic(data_source)
    if not details.exclude_main_stream:
        partitions = (
            main_topic_partitions(partition_mappings)
            if strategy == StreamCreationStrategy.PARTITION_BASE and not details.streams
            else 1
        )
        routes.extend(
            Route(topic, partition, details.main_offset, MAIN_STREAM)
            for partition in range(partitions)
        )
    for index, stream in enumerate(details.streams):
        error = name_error(data_source, stream)
        if error:
            return error.replace("stream", f"details.streams[{index}]", 1)
        offset = details.stream_offsets[index] if index < len(details.stream_offsets) else 0
        if strategy == StreamCreationStrategy.TOPIC_BASE:
            routes.append(Route(stream_topic(data_source, stream), 0, offset, stream))
        elif stream in partition_mappings:
            routes.append(Route(topic, partition_mappings[stream], offset, stream))
    unique: dict[tuple[str, int], Route] = {}
    for route in routes:
        unique.setdefault((route.topic, route.partition), route)
    return list(unique.values())


def essentials_routes(details: api_pb2.ConnectionDetails) -> list[Route] | str:
    """The one route of ``ReadEssentials``: ``<data_source>_essential`` from ``essentials_offset``."""
    error = name_error(details.data_source).replace("data_source", "details.data_source", 1)
    error = error or _offset_error(details.essentials_offset, "details.essentials_offset")
    if error:
        return error
    topic, partition = essential_route(details.data_source)
    return [Route(topic, partition, details.essentials_offset, MAIN_STREAM)]

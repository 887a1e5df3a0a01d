"""Stream API topic layout: (data source, stream, strategy, mappings) → (topic, partition); pure, no I/O."""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping

from .contracts.shared.stream_creation_strategy import StreamCreationStrategy
from .redaction import shown

__all__ = [
    "DEAD_LETTER_TOPIC",
    "ESSENTIAL_SUFFIX",
    "MAIN_STREAM",
    "SESSION_INFO_TOPIC",
    "SYSTEM_STATUS_TOPIC",
    "Route",
    "data_route",
    "data_source_topics",
    "discover_streams",
    "essential_route",
    "essential_topic",
    "format_offset_key",
    "main_topic",
    "name_error",
    "parse_offset_key",
    "session_offset_entries",
    "stream_of",
    "stream_topic",
    "topic_name_error",
]

SESSION_INFO_TOPIC = "SessionInfo"
SYSTEM_STATUS_TOPIC = "SystemStatus"
DEAD_LETTER_TOPIC = "dead-Letter"
ESSENTIAL_SUFFIX = "_essential"
MAIN_STREAM = ""
MAX_TOPIC_LENGTH = 249

Route = tuple[str, int]

_LEGAL_NAME = re.compile(r"[A-Za-z0-9._-]+")


def main_topic(data_source: str) -> str:
    return data_source


def essential_topic(data_source: str) -> str:
    return data_source + ESSENTIAL_SUFFIX


def stream_topic(data_source: str, stream: str) -> str:
    return f"{data_source}.{stream}"


def topic_name_error(name: str) -> str:
    """Why Kafka would reject ``name`` as a topic name, or ``""`` if it is legal."""
    if not name:
        return "a topic name must not be empty"
    if name in (".", ".."):
        return f"{name!r} is not allowed as a topic name"
    if len(name) > MAX_TOPIC_LENGTH:
        return f"a topic name is at most {MAX_TOPIC_LENGTH} characters, this one has {len(name)}"
    if not _LEGAL_NAME.fullmatch(name):
        bad = sorted({ch for ch in name if not _LEGAL_NAME.fullmatch(ch)})
        return f"only ASCII letters, digits, '.', '_' and '-' are allowed; found {bad[:10]}"
    return ""


def name_error(data_source: str, stream: str = MAIN_STREAM) -> str:
    """Why Kafka would reject the topics of this data source / stream, or ``""`` if it would not."""
    if not data_source:
        return "data_source must be a non-empty str"
    # Each name must be legal alone and in the longest topic built from it (for a data source,
    # its essentials topic).
    checks = [("data_source", data_source, essential_topic(data_source))]
    if stream:
        checks.append(("stream", stream, stream_topic(data_source, stream)))
    for argument, value, longest in checks:
        reason = topic_name_error(value) or topic_name_error(longest)
        if reason:
            return f"{argument} {shown(value)} cannot be part of a Kafka topic name: {reason}"
    return ""


def data_route(
    data_source: str,
    stream: str,
    strategy: StreamCreationStrategy,
    partition_mappings: Mapping[str, int],
) -> Route:
    """Where a data packet of ``stream`` goes.

    Partition-based: the main topic, at the stream's mapped partition, or partition 0 for the main
    stream and for any unmapped stream (the Stream API merges those into the main stream).
    Topic-based: ``<ds>.<stream>`` partition 0, the main stream on ``<ds>`` partition 0.
    """
    if not stream:
        return main_topic(data_source), 0
    if strategy == StreamCreationStrategy.TOPIC_BASE:
        return stream_topic(data_source, stream), 0
    return main_topic(data_source), partition_mappings.get(stream, 0)


def essential_route(data_source: str) -> Route:
    """The extra copy of an essential packet (and every data format definition)."""
    return essential_topic(data_source), 0


def main_topic_partitions(partition_mappings: Mapping[str, int]) -> int:
    return max(partition_mappings.values(), default=0) + 1


def data_source_topics(
    data_source: str,
    strategy: StreamCreationStrategy,
    partition_mappings: Mapping[str, int],
    streams: Iterable[str] = (),
) -> dict[str, int]:
    """Every topic a writer of this data source needs, with its partition count."""
    topics = {
        SESSION_INFO_TOPIC: 1,
        SYSTEM_STATUS_TOPIC: 1,
        DEAD_LETTER_TOPIC: 1,
        main_topic(data_source): (
            main_topic_partitions(partition_mappings)
            if strategy == StreamCreationStrategy.PARTITION_BASE
            else 1
        ),
        essential_topic(data_source): 1,
    }
    if strategy == StreamCreationStrategy.TOPIC_BASE:
        for stream in streams:
            if stream:
                topics[stream_topic(data_source, stream)] = 1
    return topics


def discover_streams(data_source: str, topics: Iterable[str]) -> list[str]:
    """Topic-based stream names of ``data_source`` found among ``topics``, as the Stream API finds them.

    A topic is a stream topic when it is ``<ds>.<stream>`` (case-insensitive) and the stream holds no
    ``.``. Unlike the C# code we escape the data source, so regex characters in it match literally.
    """
    pattern = re.compile(rf"^{re.escape(data_source)}\.[^.]+$", re.IGNORECASE)
    prefix_length = len(data_source) + 1
    return sorted(topic[prefix_length:] for topic in topics if pattern.match(topic))


def session_offset_entries(
    data_source: str,
    strategy: StreamCreationStrategy,
    partition_mappings: Mapping[str, int],
    existing_topics: Iterable[str],
) -> list[Route]:
    """The (topic, partition) entries of a NewSession/EndOfSession offsets map, in C# order."""
    entries: list[Route] = [(main_topic(data_source), 0), (essential_topic(data_source), 0)]
    if strategy == StreamCreationStrategy.PARTITION_BASE:
        entries.extend((main_topic(data_source), p) for p in partition_mappings.values())
    else:
        entries.extend(
            (stream_topic(data_source, stream), 0)
            for stream in discover_streams(data_source, existing_topics)
        )
    return entries


def format_offset_key(topic: str, partition: int) -> str:
    return f"{topic}:{partition}"


def parse_offset_key(key: str) -> Route:
    """``"<topic>:<partition>"`` → (topic, partition); a bare topic means partition 0."""
    topic, sep, partition = key.rpartition(":")
    if not sep:
        return key, 0
    try:
        return topic, int(partition)
    except ValueError:
        return key, 0


def stream_of(
    topic: str,
    partition: int,
    data_source: str,
    strategy: StreamCreationStrategy,
    partition_mappings: Mapping[str, int],
) -> str | None:
    """The stream a (topic, partition) of ``data_source`` carries; ``None`` if it carries none.

    Partition numbers map back to names only through the reader's own mappings; an unmapped
    partition of the main topic reads as the main stream.
    """
    if topic == main_topic(data_source):
        if partition == 0:
            return MAIN_STREAM
        for stream, mapped in partition_mappings.items():
            if mapped == partition:
                return stream
        return MAIN_STREAM
    prefix = data_source + "."
    if strategy == StreamCreationStrategy.TOPIC_BASE and topic.startswith(prefix):
        return topic[len(prefix) :]
    return None

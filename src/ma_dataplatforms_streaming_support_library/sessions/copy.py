"""copy_session: replay one session from one store to another (embedded ↔ Kafka), data packets byte for byte.

Data records keep their topic, partition, key and value bytes. The session's NewSession and
EndOfSession records are rewritten with the offsets the records got in the target (their offsets
maps describe the target log, as they must); SessionInfo updates are copied verbatim. Data format
definitions the target does not know are copied first, so every id in the packets resolves there.
Record timestamps (submit times) are the time of the copy: the transport seam has no timestamp.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass

from ..core.data_format_management.catalog import DataFormatCatalog, describe_definition
from ..core.library.context import LibraryContext
from ..core.session_management.registry import SessionRecord
from ..errors import SessionCopyError
from ..layout import (
    DEAD_LETTER_TOPIC,
    SESSION_INFO_TOPIC,
    SYSTEM_STATUS_TOPIC,
    essential_topic,
    format_offset_key,
    main_topic,
    parse_offset_key,
)
from ..protos import open_data_pb2
from ..protos.packets import parse_message, parse_packet
from ..transport.base import Record, TopicPartition, Transport
from .scan import find_session, plan_scan, read_ranges

__all__ = ["CopyReport", "copy_between"]

logger = logging.getLogger(__name__)

Progress = Callable[[int, int], None]


@dataclass(frozen=True, slots=True)
class CopyReport:
    session_key: str
    data_source: str
    data_records: int
    session_records: int
    data_format_definitions: int


def _whole_topic(transport: Transport, topic: str) -> dict[TopicPartition, tuple[int, int]]:
    begins = transport.beginning_offsets(topic)
    return {(topic, p): (begins.get(p, 0), end) for p, end in transport.end_offsets(topic).items()}


def _records(
    transport: Transport, ranges: dict[TopicPartition, tuple[int, int]], timeout_s: float
) -> list[Record]:
    return [record for batch in read_ranges(transport, ranges, timeout_s) for record in batch]


def _rewrite_offsets(value: bytes, target: Transport, packet_type: str) -> bytes:
    """The same NewSession/EndOfSession packet with each offsets-map entry set to the target's end offset."""
    packet = parse_packet(value)
    content: open_data_pb2.NewSessionPacket | open_data_pb2.EndOfSessionPacket | None = None
    if packet is not None and packet_type == "NewSession":
        content = parse_message(open_data_pb2.NewSessionPacket, packet.content)
    elif packet is not None:
        content = parse_message(open_data_pb2.EndOfSessionPacket, packet.content)
    if packet is None or content is None:
        raise SessionCopyError(f"the session's {packet_type} record cannot be parsed; not copied")
    ends: dict[str, dict[int, int]] = {}
    for key in list(content.topic_partition_offsets):
        topic, partition = parse_offset_key(key)
        if topic not in ends:
            ends[topic] = target.end_offsets(topic)
        del content.topic_partition_offsets[key]
        content.topic_partition_offsets[format_offset_key(topic, partition)] = ends[topic].get(
            partition, 0
        )
    packet.content = content.SerializeToString()
    return packet.SerializeToString()


def _copy_definitions(source: LibraryContext, target: LibraryContext, data_source: str) -> int:
    """Copy the data format definitions of ``data_source`` that the target cannot resolve yet."""
    topic = essential_topic(data_source)
    if topic not in source.transport.list_topics():
        return 0
    target.data_formats.catch_up(data_source)
    copied = 0
    for record in _records(
        source.transport, _whole_topic(source.transport, topic), source.timeout_s
    ):
        packet = parse_packet(record.value)
        if packet is not None and packet.type != "DataFormatDefinition":
            continue
        definition = (
            None
            if packet is None
            else parse_message(open_data_pb2.DataFormatDefinitionPacket, packet.content)
        )
        if definition is None:
            logger.warning(
                "skipping an unreadable record at %s:%d offset %d",
                topic,
                record.partition,
                record.offset,
            )
            continue
        if _is_known(target.data_formats, data_source, definition):
            continue
        target.transport.produce(topic, 0, b"", record.value, record.timestamp_ms)
        target.transport.produce(main_topic(data_source), 0, b"", record.value, record.timestamp_ms)
        copied += 1
    return copied


def _is_known(
    catalog: DataFormatCatalog,
    data_source: str,
    definition: open_data_pb2.DataFormatDefinitionPacket,
) -> bool:
    kind, _ = describe_definition(definition)
    return catalog.find_by_id(data_source, kind, definition.identifier) is not None


def _ranges(source: LibraryContext, record: SessionRecord) -> dict[TopicPartition, tuple[int, int]]:
    """The session's data ranges, plus its data source's essentials from the session's start."""
    data_source = record.info.data_source
    scan = plan_scan(source.transport, record, None, source.configuration.partition_mappings)
    ranges = dict(scan.ranges)
    essentials = essential_topic(data_source)
    if essentials in source.transport.list_topics():
        start = record.start_offsets.get((essentials, 0), 0)
        end = source.transport.end_offsets(essentials).get(0, 0)
        ranges[(essentials, 0)] = (start, end)
    return ranges


def _create_topics(
    source: LibraryContext,
    target: LibraryContext,
    data_source: str,
    ranges: dict[TopicPartition, tuple[int, int]],
) -> None:
    source_topics = source.transport.list_topics()
    wanted = {
        SESSION_INFO_TOPIC: 1,
        SYSTEM_STATUS_TOPIC: 1,
        DEAD_LETTER_TOPIC: 1,
        essential_topic(data_source): 1,
    }
    wanted[main_topic(data_source)] = source_topics.get(main_topic(data_source), 1)
    wanted.update({topic: source_topics[topic] for topic, _ in ranges if topic in source_topics})
    target.transport.create_topics(wanted)


def _session_records(source: LibraryContext, session_key: str) -> list[tuple[Record, str]]:
    """The session's records of the SessionInfo topic, each with its packet type."""
    key = session_key.encode()
    records = _records(
        source.transport, _whole_topic(source.transport, SESSION_INFO_TOPIC), source.timeout_s
    )
    typed = []
    for record in records:
        if record.key != key:
            continue
        packet = parse_packet(record.value)
        typed.append((record, packet.type if packet is not None else ""))
    return typed


def _copy_data(
    source: LibraryContext,
    target: LibraryContext,
    session_key: str,
    ranges: dict[TopicPartition, tuple[int, int]],
    progress: Progress | None,
) -> int:
    """Every record of the session in ``ranges``, with its timestamp; returns how many."""
    key = session_key.encode()
    total = sum(end - start for start, end in ranges.values())
    scanned = copied = 0
    for batch in read_ranges(source.transport, ranges, source.timeout_s):
        scanned += len(batch)
        for data in batch:
            if data.key == key:
                target.transport.produce(
                    data.topic, data.partition, data.key, data.value, data.timestamp_ms
                )
                copied += 1
        if progress is not None:
            progress(scanned, total)
    return copied


def _copy_updates_and_end(target: Transport, info_records: list[tuple[Record, str]]) -> int:
    """SessionInfo updates and the first EndOfSession (offsets rewritten); returns how many."""
    written = 0
    ended = False
    for info, packet_type in info_records:
        if packet_type == "SessionInfo":
            value = info.value
        elif packet_type == "EndOfSession" and not ended:
            ended = True
            value = _rewrite_offsets(info.value, target, "EndOfSession")
        else:
            continue
        target.produce(SESSION_INFO_TOPIC, None, info.key, value, info.timestamp_ms)
        written += 1
    return written


def copy_between(
    source: LibraryContext,
    target: LibraryContext,
    session_key: str,
    progress: Progress | None = None,
) -> CopyReport:
    """Copy one session; raises SessionNotFoundError, SessionCopyError or TransportError."""
    record = find_session(source, session_key)
    target.sessions.catch_up()
    if target.sessions.get(session_key) is not None:
        raise SessionCopyError(
            f"session {session_key} is already in {target.transport.location}; not copied again"
        )
    data_source = record.info.data_source
    ranges = _ranges(source, record)
    _create_topics(source, target, data_source, ranges)
    definitions = _copy_definitions(source, target, data_source)
    info_records = _session_records(source, session_key)
    target.transport.flush(target.timeout_s)
    new_session = next(r for r, packet_type in info_records if packet_type == "NewSession")
    target.transport.produce(
        SESSION_INFO_TOPIC,
        None,
        new_session.key,
        _rewrite_offsets(new_session.value, target.transport, "NewSession"),
        new_session.timestamp_ms,
    )
    copied = _copy_data(source, target, session_key, ranges, progress)
    target.transport.flush(target.timeout_s)
    session_records = 1 + _copy_updates_and_end(target.transport, info_records)
    target.transport.flush(target.timeout_s)
    return CopyReport(session_key, data_source, copied, session_records, definitions)

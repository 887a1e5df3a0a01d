"""Listing the sessions of a store: info, lifecycle times and packet counts, without decoding samples."""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass

from ..contracts.session_management.session_info import SessionInfo
from ..core.library.context import LibraryContext
from ..core.session_management.registry import SessionRecord
from ..layout import SESSION_INFO_TOPIC
from ..protos.packets import PacketType, parse_packet
from ..transport.base import TopicPartition, Transport
from .scan import plan_scan, read_ranges
from .types import ProgressCallback

__all__ = ["SessionSummary", "lifecycle_times_ms", "list_in"]

logger = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class SessionSummary:
    """One session of a store, as ``list_sessions`` returns it.

    ``started_ms``/``ended_ms`` are the times its NewSession and first EndOfSession records were
    stored (ms since the Unix epoch; ``ended_ms`` None while live). ``record_span`` counts the
    records in the session's offset span: an upper bound of its packets, since sessions written at
    the same time share partitions. ``packets`` is the exact count when it was asked for, else None;
    ``last_record_ms`` is then the time its latest record was stored.
    """

    info: SessionInfo
    started_ms: int | None
    ended_ms: int | None
    record_span: int
    packets: int | None = None
    last_record_ms: int | None = None

    @property
    def session_key(self) -> str:
        """The session's key."""
        return self.info.session_key

    @property
    def is_live(self) -> bool:
        """True until the session's EndOfSession record is stored."""
        return not self.info.historical

    @property
    def last_activity_ms(self) -> int | None:
        """The latest record time known (of its records, else its start), ms since the epoch."""
        known = [t for t in (self.started_ms, self.last_record_ms, self.ended_ms) if t is not None]
        return max(known) if known else None


def lifecycle_times_ms(transport: Transport, timeout_s: float) -> dict[str, tuple[int, int | None]]:
    """Session key → (NewSession record time, first EndOfSession record time or None), in ms."""
    ranges = {
        (SESSION_INFO_TOPIC, partition): (0, end)
        for partition, end in transport.end_offsets(SESSION_INFO_TOPIC).items()
    }
    times: dict[str, tuple[int, int | None]] = {}
    for records in read_ranges(transport, ranges, timeout_s):
        for record in records:
            packet = parse_packet(record.value)
            if packet is None:
                logger.warning(
                    "unreadable record at %s:%d offset %d; skipped",
                    record.topic,
                    record.partition,
                    record.offset,
                )
                continue
            key = packet.session_key
            packet_type = PacketType.of(packet.type)
            if packet_type is PacketType.NEW_SESSION and key not in times:
                times[key] = (record.timestamp_ms, None)
            elif (
                packet_type is PacketType.END_OF_SESSION and key in times and times[key][1] is None
            ):
                times[key] = (times[key][0], record.timestamp_ms)
    return times


def _span(transport: Transport, record: SessionRecord) -> dict[TopicPartition, tuple[int, int]]:
    """The session's offset span per partition: to its recorded end, or to now while live."""
    scan = plan_scan(transport, record, None, {})
    ends = record.end_offsets or {}
    return {where: (start, ends.get(where, end)) for where, (start, end) in scan.ranges.items()}


def _exact_counts(
    context: LibraryContext,
    spans: Mapping[str, dict[TopicPartition, tuple[int, int]]],
    progress: ProgressCallback | None,
) -> tuple[Counter[bytes], dict[bytes, int]]:
    """Records per key, and each key's latest record time (ms), over the union of the spans
    (one pass over each partition)."""
    union: dict[TopicPartition, tuple[int, int]] = {}
    for ranges in spans.values():
        for where, (start, end) in ranges.items():
            low, high = union.get(where, (start, end))
            union[where] = (min(low, start), max(high, end))
    total = sum(end - start for start, end in union.values())
    counts: Counter[bytes] = Counter()
    latest: dict[bytes, int] = {}
    done = 0
    for records in read_ranges(context.transport, union, context.timeout_s):
        counts.update(record.key or b"" for record in records)
        # A batch is in log order, so the dict keeps each key's last record of the batch.
        for key, timestamp_ms in {r.key or b"": r.timestamp_ms for r in records}.items():
            latest[key] = max(timestamp_ms, latest.get(key, timestamp_ms))
        done += len(records)
        if progress is not None:
            progress(done, total)
    return counts, latest


def list_in(
    context: LibraryContext,
    *,
    data_source: str | None = None,
    count_packets: bool = False,
    progress: ProgressCallback | None = None,
) -> list[SessionSummary]:
    """The sessions of the context's store, oldest first; see ``list_sessions``."""
    context.sessions.catch_up()
    records = [
        r
        for r in context.sessions.records()
        if data_source is None or r.info.data_source == data_source
    ]
    times = lifecycle_times_ms(context.transport, context.timeout_s)
    spans = {r.info.session_key: _span(context.transport, r) for r in records}
    exact, latest = _exact_counts(context, spans, progress) if count_packets else (None, {})
    summaries = []
    for record in records:
        key = record.info.session_key
        started_ms, ended_ms = times.get(key, (None, None))
        summaries.append(
            SessionSummary(
                info=record.info,
                started_ms=started_ms,
                ended_ms=ended_ms,
                record_span=sum(end - start for start, end in spans[key].values()),
                packets=None if exact is None else exact[key.encode()],
                last_record_ms=latest.get(key.encode()),
            )
        )
    summaries.sort(key=lambda s: s.started_ms or 0)
    return summaries

"""PacketReaderService: reads sessions live or historic on one background thread and delivers packets in log order."""

from __future__ import annotations

import contextlib
import datetime
import gc
import logging
import time

from ...columnar.parsers import native_packet_delivery
from ...contracts.packet_reading.coverage_cursor_info import CoverageCursorInfo
from ...contracts.packet_reading.packet_reading_configuration import PacketReadingConfiguration
from ...contracts.packet_reading.received_packet_dto import ReceivedPacketDto
from ...contracts.packet_reading.stream_info import StreamInfo
from ...contracts.packet_writing.packet_bytes import PacketBytes
from ...contracts.session_management.session_info import SessionInfo
from ...contracts.shared.event import Event
from ...contracts.shared.i_handler import IHandler
from ...errors import TransportError
from ...layout import stream_of
from ...protos import open_data_pb2
from ...redaction import shown
from ...transport.base import Consumer, Record, TopicPartition
from ..base.retry import with_retries
from ..library.context import LibraryContext
from .marks import CORRUPT, COVERAGE_CURSOR, END_OF_SESSION, UNDECIDED, mark_of, poll_marker
from .reader_base import PacketReaderBase
from .session_reading import PartitionProgress, SessionReading, StreamProgress, plan_partitions

__all__ = ["PacketReaderService"]

logger = logging.getLogger(__name__)

_MAX_POLL_RECORDS = 500
_POLL_TIMEOUT_S = 0.05
_REFRESH_INTERVAL_S = 0.2
# A refresh asks the broker for metadata on the reading thread, which stalls delivery for that
# round trip (117 ms once, in the stream phase of a 50,000-record read). A reader that is
# behind (its last poll came back full) refreshes at this longer interval: what a refresh finds
# (new sessions, streams, session ends) can only be acted on once the records before it are read.
_BEHIND_REFRESH_INTERVAL_S = 2.0
# The official sample subscribes to events right after set_handler(); when no event had a
# subscriber yet at set_handler(), this short pause lets those subscriptions land before the first
# event is raised. A program that wired its events first starts reading at once.
_HANDLER_GRACE_S = 0.1
_UNLABELLED = "\x00unlabelled"
# The slots the compiled delivery fills, by role: data source, session key, stream, packet
# bytes, submit time.
_DTO_FIELDS = ("data_source", "session_key", "stream", "packet_bytes", "submit_time")


def _poll_records() -> int:
    """Records to take per poll. A poll's records, and the transport's messages behind them, are
    objects the garbage collector tracks; more than its first-generation threshold alive at once
    sets off collections that promote them, and then full collections of the heap (a 50,000-record
    read at 500 per poll ran ~90 young and one full collection, 25-70 ms of a ~300 ms read).
    A third of the threshold keeps a read clear of them."""
    threshold = gc.get_threshold()[0]
    if threshold <= 0:
        return _MAX_POLL_RECORDS
    return max(50, min(_MAX_POLL_RECORDS, threshold // 3))


_UTC_RANGE = (
    datetime.datetime.min.replace(tzinfo=datetime.timezone.utc),
    datetime.datetime.max.replace(tzinfo=datetime.timezone.utc),
)


def _utc(timestamp_ms: int) -> datetime.datetime:
    """A record's timestamp as a submit time; a broker keeps any 64-bit timestamp, so one past
    what ``datetime`` holds becomes its first or last instant rather than stopping the reader."""
    try:
        return datetime.datetime.fromtimestamp(timestamp_ms / 1000, tz=datetime.timezone.utc)
    except (OverflowError, ValueError, OSError):
        return _UTC_RANGE[timestamp_ms > 0]


class PacketReaderService(PacketReaderBase):
    """One thread per reader; handlers and events run on it. A handler exception is logged, never fatal."""

    def __init__(self, context: LibraryContext, configuration: PacketReadingConfiguration) -> None:
        super().__init__(configuration, context.timeout_s + 5)
        self._context = context
        self._readings: dict[str, SessionReading] = {}
        self._positions: dict[TopicPartition, int] = {}
        self._streams: dict[TopicPartition, str | None] = {}
        self._by_key: dict[bytes, SessionReading] = {}
        self._last_submit_ms = -1
        self._last_submit_time = datetime.datetime.fromtimestamp(0, tz=datetime.timezone.utc)
        #: Raised (with the error) when reading stops for good: the broker stayed unreachable
        #: past ``timeout_seconds`` and the retry policy; the service is stopped right after.
        self.reading_failed: Event[Exception] = Event("reading_failed")
        #: Records of the sessions read that were not Open Data Packets: each was logged with
        #: its topic, partition and offset, and skipped (never handed to a handler).
        self.corrupt_records = 0
        self._marks = poll_marker()
        delivery = native_packet_delivery(ReceivedPacketDto, _DTO_FIELDS, PacketBytes, "_data")
        self._deliver_run = None if delivery is None else delivery.deliver
        self._poll_records = _poll_records()

    # lifecycle --------------------------------------------------------------------------------
    def _on_start(self) -> None:
        registry = self._context.sessions
        registry.catch_up()
        records = registry.records()
        self._known_at_start = {record.info.session_key for record in records}
        # LIVE reads every session open at start(), even one that ends before the first refresh.
        self._ended_at_start = {r.info.session_key for r in records if r.info.historical}
        # Created now, so that its connection is up by the time a handler is set.
        consumer = self._context.transport.consumer()
        self._start_thread(self._run, consumer)

    def _sessions_completed(self) -> bool | None:
        if not self._readings:
            return None
        return all(reading.completed for reading in self._readings.values())

    # the reading thread -----------------------------------------------------------------------
    def _run(self, consumer: Consumer) -> None:
        waited_since = time.monotonic()
        warned = False
        while not self._handler_set.wait(0.5):
            if not warned and time.monotonic() - waited_since > self.configuration.timeout_seconds:
                warned = True
                logger.warning(
                    "packet reader %s: no handler set after %s s; call set_handler() to start "
                    "delivery",
                    self.id,
                    self.configuration.timeout_seconds,
                )
        if self._stopping.is_set():
            consumer.close()
            self.finished.set()
            return
        handler_set_at = time.monotonic()
        if not self._events_wired:
            time.sleep(max(0.0, handler_set_at + _HANDLER_GRACE_S - time.monotonic()))
        current = [consumer]
        try:
            self._read(current)
        except Exception as exc:
            self.failure = exc
            logger.exception("packet reader %s cannot go on; it stops: %s", self.id, exc)
        finally:
            current[0].close()
            self.finished.set()
        if self.failure is not None and not self._stopping.is_set():
            self._give_up(self.failure)

    def _give_up(self, failure: Exception) -> None:
        """Say that reading stopped for good: ``reading_failed``, then the service stops
        (``is_started`` False, ``stopped`` raised) so no one mistakes it for a quiet reader."""
        self.reading_failed.raise_event(self, failure)
        # A pending timeout is already logged as a warning; the failure is what ended this reader.
        with contextlib.suppress(TimeoutError):
            self.stop()

    def _read(self, current: list[Consumer]) -> None:
        """``_loop`` on ``current[0]``; when the broker cannot be reached, the connection is
        re-made (a grace of ``timeout_s``, then the retry policy) and every partition resumes at
        the next record to deliver. Raises the last error when the policy gives up."""
        while True:
            try:
                self._loop(current[0])
                return
            except TransportError as exc:
                if self._stopping.is_set():
                    return
                lost_at = time.monotonic()
                logger.warning(
                    "packet reader %s: the broker cannot be reached (%s); reconnecting "
                    "(retry policy %s)",
                    self.id,
                    exc,
                    self._context.configuration.retry_policy,
                )
                current[0].close()
                current[0] = with_retries(
                    self._reconnect,
                    self._context.configuration.retry_policy,
                    f"packet reader {self.id} reconnect",
                    self._stopping,
                    grace_s=self._context.timeout_s,
                )
                self._resume_clocks(time.monotonic() - lost_at)

    def _reconnect(self) -> Consumer:
        """A new consumer at the next offset of every partition, once the broker answers."""
        self._context.transport.list_topics()
        consumer = self._context.transport.consumer()
        try:
            consumer.assign(dict(self._positions))
        except TransportError:
            consumer.close()
            raise
        return consumer

    def _resume_clocks(self, outage_s: float) -> None:
        """Time without a broker is not idle time: push every idle clock on by the outage."""
        logger.warning(
            "packet reader %s reconnected after %.1f s; resuming at the next offsets",
            self.id,
            outage_s,
        )
        for reading in self._readings.values():
            reading.last_packet_at += outage_s
            reading.picked_at += outage_s
            for stream in reading.streams.values():
                stream.last_packet_at += outage_s

    def _loop(self, consumer: Consumer) -> None:
        last_refresh = -_BEHIND_REFRESH_INTERVAL_S
        started_at = time.monotonic()
        behind = False
        while not self._stopping.is_set():
            now = time.monotonic()
            since = now - last_refresh
            if since >= _BEHIND_REFRESH_INTERVAL_S or (since >= _REFRESH_INTERVAL_S and not behind):
                last_refresh = now
                self._refresh(consumer, now)
                if self._historic_done(now, started_at):
                    return
            records = consumer.poll(self._poll_records, _POLL_TIMEOUT_S)
            behind = len(records) >= self._poll_records
            if records:
                now = time.monotonic()
                self._deliver(records, now)
                # A historic read completes as soon as its last partition is drained.
                for reading in self._readings.values():
                    if reading.ended and not reading.completed:
                        self._check_completion(reading, now)

    # choosing sessions ------------------------------------------------------------------------
    def _matches(self, info: SessionInfo) -> bool:
        return info.data_source == self.configuration.data_source and super()._matches(info)

    def _refresh(self, consumer: Consumer, now: float) -> None:
        context = self._context
        topics = context.transport.list_topics()
        configuration = context.configuration
        for record in context.sessions.records():
            key = record.info.session_key
            reading = self._readings.get(key)
            if reading is None:
                if key in self._seen or not self._matches(record.info):
                    continue
                self._seen.add(key)
                reading = SessionReading(record.info, {})
                self._readings[key] = reading
                self._by_key[key.encode()] = reading
            elif not reading.completed:
                self._notice_updates(reading, record.info)
            if reading.completed:
                continue
            plan = plan_partitions(
                record.info,
                record.start_offsets,
                topics,
                self.configuration,
                configuration.stream_creation_strategy,
                configuration.partition_mappings,
            )
            self._assign(consumer, reading, plan)
            if record.end_offsets is not None and not reading.ended:
                reading.ended = True
                self._set_drain_targets(reading, record.end_offsets)
            self._check_completion(reading, now)

    def _assign(
        self, consumer: Consumer, reading: SessionReading, plan: dict[TopicPartition, int]
    ) -> None:
        rewind: dict[TopicPartition, int] = {}
        for where, start in plan.items():
            if where in reading.partitions:
                continue
            reading.partitions[where] = PartitionProgress(start)
            if reading.ended:
                self._set_drain_targets(reading, {})
            position = self._positions.get(where)
            if position is None or start < position:
                rewind[where] = start
                self._positions[where] = start
        if rewind:
            consumer.assign(rewind)

    def _set_drain_targets(
        self, reading: SessionReading, end_offsets: dict[TopicPartition, int]
    ) -> None:
        # A C# writer records end offsets before flushing, so records of the session can sit just past
        # them; everything stored when the end became known is still read.
        transport = self._context.transport
        watermarks: dict[str, dict[int, int]] = {}
        for (topic, partition), progress in reading.partitions.items():
            if progress.drain_target is not None:
                continue
            if topic not in watermarks:
                watermarks[topic] = transport.end_offsets(topic)
            watermark = watermarks[topic].get(partition, 0)
            progress.drain_target = max(end_offsets.get((topic, partition), 0), watermark)

    def _notice_updates(self, reading: SessionReading, info: SessionInfo) -> None:
        before = reading.info
        reading.info = info
        if info == before or not reading.started:
            # Before session_reading_started the change is simply part of that event's args.
            return
        if before.historical != info.historical and (
            info.identifier,
            info.details,
            info.associate_session_keys,
        ) == (before.identifier, before.details, before.associate_session_keys):
            return
        self.session_info_updated.raise_event(self, info)
        for key in info.associate_session_keys:
            if key not in before.associate_session_keys:
                self.session_association_info_updated.raise_event(
                    self, self._context.sessions.association(info, key)
                )

    # delivery ---------------------------------------------------------------------------------
    def _deliver(self, records: list[Record], now: float) -> None:
        """Hand one poll's records to the handlers, in log order; other sessions' records are skipped.

        Consecutive records of one partition and session form a run: the session, partition
        progress, stream and consumer position are looked up and stored once per run. Where the
        native columnar implementation is active, the plain packets of a run are delivered by
        its compiled loop (``_codec.PacketDelivery``), which builds the same DTOs; the records
        a reader acts on (a session's end, a coverage cursor, anything corrupt) come back here."""
        handlers = self._handlers
        is_stopping = self._stopping.is_set
        deliver_run = self._deliver_run
        marks = self._marks(records)
        run_key: bytes | None
        run_topic, run_partition, run_key = "", -1, b"\x00"
        reading: SessionReading | None = None
        progress = PartitionProgress(0)
        data_source = session_key = stream = ""
        next_offset = 0
        run_started = False
        last_ms, submit_time = self._last_submit_ms, self._last_submit_time
        index, count = 0, len(records)
        try:
            while index < count:
                if is_stopping():
                    return
                record = records[index]
                mark = marks[index]
                index += 1
                topic, partition, offset, key, value, timestamp_ms = record
                if partition != run_partition or key != run_key or topic != run_topic:
                    self._end_run(reading, progress, (run_topic, run_partition), next_offset)
                    run_topic, run_partition, run_key = topic, partition, key
                    reading, progress, stream = self._run_target(topic, partition, key)
                    if reading is not None:
                        data_source = reading.info.data_source
                        session_key = reading.info.session_key
                    run_started = False
                next_offset = offset + 1
                if reading is None or offset < progress.next_offset:
                    continue
                if not run_started:
                    run_started = True
                    reading.last_packet_at = now
                    self._start_stream(reading, stream, now)
                if not mark and deliver_run is not None:
                    start = index - 1
                    delivered_to, last_ms, submit_time = deliver_run(
                        records,
                        marks,
                        start,
                        data_source,
                        session_key,
                        stream,
                        handlers,
                        is_stopping,
                        last_ms,
                        submit_time,
                        _utc,
                        self._handler_failed,
                    )
                    if delivered_to > start:
                        index = delivered_to
                        next_offset = records[index - 1][2] + 1
                        continue
                    # Not one it takes (a value that is not exact bytes, say): delivered below.
                if mark:
                    if mark == UNDECIDED:
                        mark = mark_of(value)
                    if mark == CORRUPT:
                        self._report_corrupt(record)
                        continue
                if timestamp_ms != last_ms:
                    last_ms, submit_time = timestamp_ms, _utc(timestamp_ms)
                dto = ReceivedPacketDto(
                    data_source, session_key, stream, PacketBytes(value), submit_time
                )
                for handler in handlers:
                    try:
                        handler.handle(dto)
                    except Exception:
                        self._handler_failed(handler, record)
                if not mark:
                    continue
                if mark == END_OF_SESSION:
                    self._complete_stream(reading, stream)
                elif mark == COVERAGE_CURSOR:
                    self._raise_coverage(reading, record)
        finally:
            self._end_run(reading, progress, (run_topic, run_partition), next_offset)
            self._last_submit_ms, self._last_submit_time = last_ms, submit_time

    @staticmethod
    def _handler_failed(handler: IHandler[ReceivedPacketDto], record: Record) -> None:
        """Log the exception a handler raised on ``record`` (called while it is handled)."""
        logger.exception(
            "packet handler %r raised on %s:%d offset %d; reading continues",
            handler,
            record.topic,
            record.partition,
            record.offset,
        )

    def _end_run(
        self,
        reading: SessionReading | None,
        progress: PartitionProgress,
        where: TopicPartition,
        next_offset: int,
    ) -> None:
        """Store how far a run of records got: the consumer position and the session's progress."""
        if where[1] < 0:
            return  # before the first run
        self._positions[where] = next_offset
        if reading is not None and next_offset > progress.next_offset:
            progress.next_offset = next_offset

    def _run_target(
        self, topic: str, partition: int, key: bytes | None
    ) -> tuple[SessionReading | None, PartitionProgress, str]:
        """The session, partition progress and stream a run of records is delivered to; the
        session is None when the run is not this reader's to deliver."""
        skip = None, PartitionProgress(0), ""
        reading = self._by_key.get(key) if key else None
        if reading is None or reading.completed:
            return skip
        where = (topic, partition)
        progress = reading.partitions.get(where)
        if progress is None:
            return skip
        stream = self._streams.get(where, _UNLABELLED)
        if stream is _UNLABELLED:
            stream = self._stream_of(where, reading.info.data_source)
        if stream is None:
            return skip
        return reading, progress, stream

    def _stream_of(self, where: TopicPartition, data_source: str) -> str | None:
        if where not in self._streams:
            configuration = self._context.configuration
            self._streams[where] = stream_of(
                where[0],
                where[1],
                data_source,
                configuration.stream_creation_strategy,
                configuration.partition_mappings,
            )
        return self._streams[where]

    def _report_corrupt(self, record: Record) -> None:
        """Count and log a record that is not an Open Data Packet; handlers never see it."""
        self.corrupt_records += 1
        logger.error(
            "corrupt record at %s:%d offset %d (session %s): not an Open Data Packet; skipped "
            "(%d corrupt records so far)",
            record.topic,
            record.partition,
            record.offset,
            shown(record.key),
            self.corrupt_records,
        )

    def _raise_coverage(self, reading: SessionReading, record: Record) -> None:
        try:
            content = open_data_pb2.Packet.FromString(record.value).content
            cursor = open_data_pb2.CoverageCursorInfoPacket.FromString(content)
        except Exception:
            logger.warning(
                "unreadable coverage cursor at %s offset %d", record.topic, record.offset
            )
            return
        self.coverage_cursor_received.raise_event(
            self,
            CoverageCursorInfo(
                reading.info.data_source, reading.info.session_key, cursor.coverage_cursor_time
            ),
        )

    def _start_session(self, reading: SessionReading) -> None:
        if not reading.started:
            reading.started = True
            self.session_reading_started.raise_event(self, reading.info)

    def _start_stream(self, reading: SessionReading, stream: str, now: float) -> None:
        self._start_session(reading)
        progress = reading.streams.get(stream)
        if progress is None:
            reading.streams[stream] = StreamProgress(now)
            self.stream_reading_started.raise_event(
                self, StreamInfo(reading.info.data_source, reading.info.session_key, stream)
            )
        else:
            progress.last_packet_at = now

    def _complete_stream(self, reading: SessionReading, stream: str) -> None:
        progress = reading.streams.get(stream)
        if progress is not None and not progress.completed:
            progress.completed = True
            self.stream_reading_completed.raise_event(
                self, StreamInfo(reading.info.data_source, reading.info.session_key, stream)
            )

    def _behind(self, reading: SessionReading, stream: str | None = None) -> bool:
        """Whether the log holds records this reader has not consumed yet on the partitions of
        the session (of ``stream`` only, if given): a reader that is behind is busy, not idle."""
        ends: dict[str, dict[int, int]] = {}
        try:
            for where in reading.partitions:
                if (
                    stream is not None
                    and self._stream_of(where, reading.info.data_source) != stream
                ):
                    continue
                topic, partition = where
                if topic not in ends:
                    ends[topic] = self._context.transport.end_offsets(topic)
                if self._positions.get(where, 0) < ends[topic].get(partition, 0):
                    return True
        except TransportError as exc:
            logger.warning("packet reader %s: cannot check for unread records: %s", self.id, exc)
        return False

    def _check_completion(self, reading: SessionReading, now: float) -> None:
        timeout = self.configuration.timeout_seconds
        for stream, progress in reading.streams.items():
            if not progress.completed and now - progress.last_packet_at > timeout:
                if self._behind(reading, stream):
                    progress.last_packet_at = now
                    continue
                self._timed_out(
                    f"stream {stream!r} of session {reading.info.session_key!r} had no packet for "
                    f"{timeout} s; completing it"
                )
                self._complete_stream(reading, stream)
        drained = reading.ended and all(
            progress.drain_target is not None
            and self._positions.get(where, 0) >= progress.drain_target
            for where, progress in reading.partitions.items()
        )
        idle = reading.idle_for(now) > timeout and all(
            p.completed for p in reading.streams.values()
        )
        if idle and not drained and self._behind(reading):
            reading.last_packet_at = now
            idle = False
        if not drained and not idle:
            return
        if idle and not drained:
            self._timed_out(
                f"session {reading.info.session_key!r} had no packet for {timeout} s"
                + ("" if reading.ended else " and has not ended")
                + "; completing it"
            )
        for stream in list(reading.streams):
            self._complete_stream(reading, stream)
        self._start_session(reading)
        reading.completed = True
        self.session_reading_completed.raise_event(self, reading.info)

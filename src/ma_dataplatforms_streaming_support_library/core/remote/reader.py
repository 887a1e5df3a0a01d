"""RemotePacketReaderService: the official packet reader over a Stream API server."""

from __future__ import annotations

import datetime
import logging
import queue
import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from ...contracts.packet_reading.coverage_cursor_info import CoverageCursorInfo
from ...contracts.packet_reading.packet_reading_configuration import PacketReadingConfiguration
from ...contracts.packet_reading.received_packet_dto import ReceivedPacketDto
from ...contracts.packet_reading.stream_info import StreamInfo
from ...contracts.packet_writing.packet_bytes import PacketBytes
from ...contracts.session_management.session_association_info import SessionAssociationInfo
from ...contracts.session_management.session_info import SessionInfo
from ...protos import api_pb2, open_data_pb2
from ..packet_reading.reader_base import PacketReaderBase
from .calls import RpcFailure, call, session_info
from .streams import Delivery, SessionStreams, connection_details

if TYPE_CHECKING:
    from .context import RemoteContext

__all__ = ["RemotePacketReaderService"]

logger = logging.getLogger(__name__)

_REFRESH_INTERVAL_S = 0.5
_HANDLER_GRACE_S = 0.1
_QUEUED_RESPONSES = 256
# Once a session has ended, its reads count as drained when nothing arrived for this long (the
# Stream API tells a client neither offsets nor the end of a read): a short settle when every
# stream that started has sent its EndOfSession packet, a longer one otherwise.
_SETTLE_S = 0.3
_DRAIN_S = 2.0
_END_OF_SESSION_TYPE = b"\x0a\x0cEndOfSession"
_COVERAGE_CURSOR_TYPE = b"\x0a\x12CoverageCursorInfo"


@dataclass(slots=True)
class _Reading:
    info: SessionInfo
    streams: SessionStreams
    last_packet_at: float = field(default_factory=time.monotonic)
    started: bool = False
    completed: bool = False
    stream_seen: dict[str, float] = field(default_factory=dict)
    stream_done: set[str] = field(default_factory=set)


class RemotePacketReaderService(PacketReaderBase):
    """Reads sessions as the in-process reader does (which sessions, the events and their order),
    from the server's read connections: one per session and set of streams, opened from the
    session's start offsets. Packets and events are delivered on the reader's one thread.

    A stream completes at its EndOfSession packet or after ``timeout_seconds`` without a packet.
    A session completes once the server reports it ended and its reads have drained (see
    ``_SETTLE_S``), or, not ended, after ``timeout_seconds`` without a packet."""

    def __init__(self, context: RemoteContext, configuration: PacketReadingConfiguration) -> None:
        super().__init__(configuration, context.timeout_s + 5)
        self._context = context
        self._deliveries: queue.Queue[Delivery] = queue.Queue(_QUEUED_RESPONSES)
        self._readings: dict[str, _Reading] = {}

    # lifecycle --------------------------------------------------------------------------------
    def _on_start(self) -> None:
        data_source = self.configuration.data_source
        self._context.use_data_source(data_source)
        for session_key, info in self._session_infos(self._session_keys()):
            self._known_at_start.add(session_key)
            if info.is_complete:
                self._ended_at_start.add(session_key)
        self._start_thread(self._run)

    def _sessions_completed(self) -> bool | None:
        if not self._readings:
            return None
        return all(reading.completed for reading in self._readings.values())

    def _session_keys(self) -> list[str]:
        response = call(
            self._context,
            self._context.sessions.GetCurrentSessions,
            api_pb2.GetCurrentSessionsRequest(data_source=self.configuration.data_source),
            "GetCurrentSessions",
        )
        return list(dict.fromkeys(response.session_keys))

    def _session_infos(self, keys: list[str]) -> list[tuple[str, api_pb2.GetSessionInfoResponse]]:
        found = []
        for key in keys:
            response = call(
                self._context,
                self._context.sessions.GetSessionInfo,
                api_pb2.GetSessionInfoRequest(session_key=key),
                "GetSessionInfo",
            )
            if response.success:
                found.append((key, response))
        return found

    # the reading thread -----------------------------------------------------------------------
    def _run(self) -> None:
        while not self._handler_set.wait(0.5):
            pass
        try:
            if not self._stopping.is_set():
                if not self._events_wired:
                    time.sleep(_HANDLER_GRACE_S)
                self._loop()
        except Exception as exc:
            self.failure = exc
            logger.exception("packet reader %s stopped: %s", self.id, exc)
        finally:
            for reading in self._readings.values():
                reading.streams.close()
            self.finished.set()

    def _loop(self) -> None:
        started_at = time.monotonic()
        next_refresh = 0.0
        while not self._stopping.is_set():
            now = time.monotonic()
            if now >= next_refresh:
                next_refresh = now + _REFRESH_INTERVAL_S
                self._refresh()
            try:
                session_key, items = self._deliveries.get(timeout=0.05)
            except queue.Empty:
                pass
            else:
                self._deliver(session_key, items)
            now = time.monotonic()
            for reading in self._readings.values():
                if not reading.completed:
                    self._check_completion(reading, now)
            if self._historic_done(now, started_at):
                return

    def _refresh(self) -> None:
        try:
            keys = [key for key in self._session_keys() if key not in self._seen]
            active = [key for key, r in self._readings.items() if not r.completed]
            for session_key, response in self._session_infos(keys + active):
                self._seen.add(session_key)
                self._track(session_key, response)
        except RpcFailure as exc:
            logger.warning("packet reader %s: %s", self.id, exc)

    def _track(self, session_key: str, response: api_pb2.GetSessionInfoResponse) -> None:
        info = session_info(session_key, response)
        reading = self._readings.get(session_key)
        if reading is None:
            if not self._matches(info):
                return
            streams = SessionStreams(
                self._context, session_key, self._deliveries, self._stopping.is_set
            )
            reading = self._readings[session_key] = _Reading(info, streams)
        else:
            self._notice_updates(reading, info)
        configuration = self.configuration
        wanted = list(configuration.streams) or list(response.streams)
        new = [stream for stream in wanted if stream not in reading.streams.streams]
        main = not configuration.exclude_main_stream and not reading.streams.main_stream
        if new or main:
            details = connection_details(response, session_key, new, exclude_main_stream=not main)
            reading.streams.add(details)

    def _notice_updates(self, reading: _Reading, info: SessionInfo) -> None:
        before, reading.info = reading.info, info
        if not reading.started or (
            info.identifier,
            info.details,
            info.associate_session_keys,
        ) == (before.identifier, before.details, before.associate_session_keys):
            return
        self.session_info_updated.raise_event(self, info)
        for key in info.associate_session_keys:
            if key not in before.associate_session_keys:
                try:
                    associate = self._session_infos([key])
                except RpcFailure:
                    associate = []
                self.session_association_info_updated.raise_event(
                    self,
                    SessionAssociationInfo(
                        info,
                        session_info(key, associate[0][1]) if associate else None,
                        info.session_key,
                    ),
                )

    # delivery ---------------------------------------------------------------------------------
    def _deliver(self, session_key: str, items: list[tuple[bytes, str, int]] | str) -> None:
        reading = self._readings.get(session_key)
        if reading is None or reading.completed:
            return
        if isinstance(items, str):
            raise RpcFailure(f"session {session_key!r}: {items}")
        now = time.monotonic()
        reading.last_packet_at = now
        info = reading.info
        handlers = self._handlers
        last_ns, submit_time = -1, datetime.datetime.fromtimestamp(0, tz=datetime.timezone.utc)
        for packet, stream, submit_ns in items:
            if self._stopping.is_set():
                return
            self._start_stream(reading, stream, now)
            if submit_ns != last_ns:
                last_ns = submit_ns
                submit_time = datetime.datetime.fromtimestamp(
                    submit_ns / 1e9, tz=datetime.timezone.utc
                )
            dto = ReceivedPacketDto(
                info.data_source, session_key, stream, PacketBytes(packet), submit_time
            )
            for handler in handlers:
                try:
                    handler.handle(dto)
                except Exception:
                    logger.exception(
                        "packet handler %r raised on session %r stream %r; reading continues",
                        handler,
                        session_key,
                        stream,
                    )
            if packet.startswith(_END_OF_SESSION_TYPE):
                self._complete_stream(reading, stream)
            elif packet.startswith(_COVERAGE_CURSOR_TYPE):
                self._raise_coverage(reading, packet)

    def _raise_coverage(self, reading: _Reading, packet: bytes) -> None:
        try:
            content = open_data_pb2.Packet.FromString(packet).content
            cursor = open_data_pb2.CoverageCursorInfoPacket.FromString(content)
        except Exception:
            logger.warning("unreadable coverage cursor in session %r", reading.info.session_key)
            return
        self.coverage_cursor_received.raise_event(
            self,
            CoverageCursorInfo(
                reading.info.data_source, reading.info.session_key, cursor.coverage_cursor_time
            ),
        )

    def _start_stream(self, reading: _Reading, stream: str, now: float) -> None:
        if stream in reading.stream_seen:
            reading.stream_seen[stream] = now
            return
        if not reading.started:
            reading.started = True
            self.session_reading_started.raise_event(self, reading.info)
        reading.stream_seen[stream] = now
        self.stream_reading_started.raise_event(
            self, StreamInfo(reading.info.data_source, reading.info.session_key, stream)
        )

    def _complete_stream(self, reading: _Reading, stream: str) -> None:
        if stream in reading.stream_seen and stream not in reading.stream_done:
            reading.stream_done.add(stream)
            self.stream_reading_completed.raise_event(
                self, StreamInfo(reading.info.data_source, reading.info.session_key, stream)
            )

    def _check_completion(self, reading: _Reading, now: float) -> None:
        timeout = self.configuration.timeout_seconds
        for stream, seen_at in reading.stream_seen.items():
            if stream not in reading.stream_done and now - seen_at > timeout:
                self._timed_out(
                    f"stream {stream!r} of session {reading.info.session_key!r} had no packet for "
                    f"{timeout} s; completing it"
                )
                self._complete_stream(reading, stream)
        quiet = now - reading.last_packet_at
        if reading.info.historical:
            all_ended = len(reading.stream_done) == len(reading.stream_seen) > 0
            if quiet < (_SETTLE_S if all_ended else min(_DRAIN_S, timeout)):
                return
        elif quiet <= timeout:
            return
        else:
            self._timed_out(
                f"session {reading.info.session_key!r} had no packet for {timeout} s and has not "
                "ended; completing it"
            )
        for stream in list(reading.stream_seen):
            self._complete_stream(reading, stream)
        if not reading.started:
            reading.started = True
            self.session_reading_started.raise_event(self, reading.info)
        reading.completed = True
        reading.streams.close()
        self.session_reading_completed.raise_event(self, reading.info)

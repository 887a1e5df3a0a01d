"""What every packet reader shares: its events, handlers, reading thread lifecycle and timeouts.

The in-process reader (``PacketReaderService``, on a transport) and the remote one (on a Stream
API server) differ only in where packets come from; both deliver them to handlers and raise the
official events on their one reading thread.
"""

from __future__ import annotations

import abc
import fnmatch
import logging
import threading
from typing import Any

from ...contracts.packet_reading.coverage_cursor_info import CoverageCursorInfo
from ...contracts.packet_reading.i_packet_reader_service import IPacketReaderService
from ...contracts.packet_reading.packet_reading_configuration import PacketReadingConfiguration
from ...contracts.packet_reading.packet_reading_type import PacketReadingType
from ...contracts.packet_reading.received_packet_dto import ReceivedPacketDto
from ...contracts.packet_reading.stream_info import StreamInfo
from ...contracts.session_management.session_association_info import SessionAssociationInfo
from ...contracts.session_management.session_info import SessionInfo
from ...contracts.shared.event import Event
from ...contracts.shared.i_handler import IHandler
from ...errors import ReaderTimeoutError
from ..base.service import ServiceBase
from .iteration import DEFAULT_MAX_QUEUED, BlockingIterator, iterate_packets

__all__ = ["PacketReaderBase"]

logger = logging.getLogger(__name__)


class PacketReaderBase(ServiceBase, IPacketReaderService):
    """Events, handlers and the reading thread's lifecycle; subclasses read and deliver.

    ``join_timeout_s`` bounds how long ``stop()`` waits for the reading thread. A stream
    or session that times out with ``raise_exception_on_timeout`` raises ``ReaderTimeoutError``
    (a ``TimeoutError``) from the next ``stop()``.
    """

    service_name = "packet reader service"

    def __init__(self, configuration: PacketReadingConfiguration, join_timeout_s: float) -> None:
        super().__init__()
        error = configuration.validate()
        if error:
            raise ValueError(error)
        self.configuration = configuration
        self._join_timeout_s = join_timeout_s
        self.session_reading_started: Event[SessionInfo] = Event("session_reading_started")
        self.session_reading_completed: Event[SessionInfo] = Event("session_reading_completed")
        self.stream_reading_started: Event[StreamInfo] = Event("stream_reading_started")
        self.stream_reading_completed: Event[StreamInfo] = Event("stream_reading_completed")
        self.session_info_updated: Event[SessionInfo] = Event("session_info_updated")
        self.coverage_cursor_received: Event[CoverageCursorInfo] = Event("coverage_cursor_received")
        self.session_association_info_updated: Event[SessionAssociationInfo] = Event(
            "session_association_info_updated"
        )
        # Replaced, never mutated, so the reading thread iterates it without a lock.
        self._handlers: tuple[IHandler[ReceivedPacketDto], ...] = ()
        self._handlers_lock = threading.Lock()
        self._handler_set = threading.Event()
        self._events_wired = False
        self._stopping = threading.Event()
        self._thread: threading.Thread | None = None
        self._seen: set[str] = set()
        self._known_at_start: set[str] = set()
        self._ended_at_start: set[str] = set()
        self._timeout_error: ReaderTimeoutError | None = None
        self.finished = threading.Event()
        #: The error that stopped the reading thread, if one did (iterators raise it).
        self.failure: Exception | None = None

    # handlers ---------------------------------------------------------------------------------
    def set_handler(self, handler: IHandler[ReceivedPacketDto]) -> None:
        if handler is None or not callable(getattr(handler, "handle", None)):
            raise TypeError(
                f"set_handler: handler must be an IHandler with handle(), got {handler!r}"
            )
        with self._handlers_lock:
            if handler not in self._handlers:
                self._handlers = (*self._handlers, handler)
            if not self._handler_set.is_set():
                self._events_wired = any(event.subscriber_count for event in self._events())
        self._handler_set.set()

    def _events(self) -> tuple[Event[Any], ...]:
        return (
            self.session_reading_started,
            self.session_reading_completed,
            self.stream_reading_started,
            self.stream_reading_completed,
            self.session_info_updated,
            self.coverage_cursor_received,
            self.session_association_info_updated,
        )

    def remove_handler(self, handler: IHandler[ReceivedPacketDto]) -> None:
        with self._handlers_lock:
            self._handlers = tuple(h for h in self._handlers if h != handler)

    # lifecycle --------------------------------------------------------------------------------
    def _start_thread(self, target: Any, *args: Any) -> None:
        self._thread = threading.Thread(
            target=target,
            args=args,
            name=f"ma-streaming-reader-{str(self.id)[:8]}",
            daemon=True,
        )
        self._thread.start()

    def _on_stop(self) -> None:
        self._stopping.set()
        self._handler_set.set()
        if self._thread is not None and self._thread is not threading.current_thread():
            self._thread.join(self._join_timeout_s)
        if self._timeout_error is not None:
            error, self._timeout_error = self._timeout_error, None
            raise error

    def _historic_done(self, now: float, started_at: float) -> bool:
        configuration = self.configuration
        if configuration.reading_type is not PacketReadingType.HISTORIC:
            return False
        completed = self._sessions_completed()
        if completed is not None:
            return completed
        if now - started_at < configuration.timeout_seconds:
            return False
        wanted = (
            configuration.session_key or f"pattern {configuration.session_identifier_pattern!r}"
        )
        self._timed_out(
            f"no session of data source {configuration.data_source!r} matching {wanted} "
            f"was found within {configuration.timeout_seconds} s"
        )
        return True

    def _matches(self, info: SessionInfo) -> bool:
        """Whether the configuration asks for this session: its key, or its identifier matching
        the glob (case-sensitive); LIVE takes sessions open at start() and later ones, HISTORIC
        the sessions that existed at start()."""
        configuration = self.configuration
        if configuration.session_key:
            return info.session_key == configuration.session_key
        pattern = configuration.session_identifier_pattern
        if pattern and pattern != "*" and not fnmatch.fnmatchcase(info.identifier, pattern):
            return False
        if configuration.reading_type is PacketReadingType.LIVE:
            return info.session_key not in self._ended_at_start
        if configuration.reading_type is PacketReadingType.HISTORIC:
            return info.session_key in self._known_at_start
        return True

    @abc.abstractmethod
    def _sessions_completed(self) -> bool | None:
        """None while no session is being read, else whether every one read has completed."""

    def _timed_out(self, message: str) -> None:
        logger.warning("packet reader %s: %s", self.id, message)
        if self.configuration.raise_exception_on_timeout and self._timeout_error is None:
            self._timeout_error = ReaderTimeoutError(message)

    # for scripts ------------------------------------------------------------------------------
    def packets(
        self, *, timeout: float | None = None, max_queued: int = DEFAULT_MAX_QUEUED
    ) -> BlockingIterator[ReceivedPacketDto]:
        """``for dto in reader.packets(): ...`` — bounded, with back-pressure; see iteration.py."""
        return iterate_packets(self, timeout=timeout, max_queued=max_queued)

    def wait_until_finished(self, timeout_s: float | None = None) -> bool:
        """Block until a HISTORIC reader has read everything (or stopped); True if it finished."""
        return self.finished.wait(timeout_s)

    def __repr__(self) -> str:
        return f"{type(self).__name__}(id={self.id}, configuration={self.configuration!r})"

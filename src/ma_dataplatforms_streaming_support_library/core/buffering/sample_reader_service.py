"""SampleReaderService: the buffering service — merges a packet reader's samples in time order."""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterable
from typing import Any, get_args, get_origin

from ...arrays import I32Array
from ...contracts.buffering.buffering_configuration import BufferingConfiguration
from ...contracts.buffering.end_sample_data import EndSampleData
from ...contracts.buffering.end_timestamp_data import EndTimestampData
from ...contracts.buffering.i_sample_reader_service import ISampleReaderService
from ...contracts.buffering.sample_data import SampleData
from ...contracts.buffering.start_sample_data import StartSampleData
from ...contracts.buffering.start_timestamp_data import StartTimestampData
from ...contracts.buffering.timestamp_data import TimestampData
from ...contracts.packet_reading.i_packet_reader_service import IPacketReaderService
from ...contracts.packet_reading.received_packet_dto import ReceivedPacketDto
from ...contracts.packet_reading.stream_info import StreamInfo
from ...contracts.session_management.session_info import SessionInfo
from ...contracts.shared.event import Event
from ...contracts.shared.i_handler import IHandler
from ...redaction import shown
from ..base.service import ServiceBase
from .columnar_decoding import decode_sample_packet
from .handler_items import sample_data_items, timestamp_data_items
from .idle_clock import IdleClock
from .merged_block_listener import MergedBlockListener
from .packet_decoding import FormatResolver, SampleDecoder
from .parameter_registry import ParameterRegistry
from .session_merger import Action, SessionMerger

__all__ = ["DEFAULT_STREAM_DISCOVERY_GRACE_S", "SampleReaderService"]

logger = logging.getLogger(__name__)

#: what set_reader_service uses of a packet reader
_READER_MEMBERS = (
    "set_handler",
    "remove_handler",
    "session_reading_started",
    "stream_reading_completed",
    "session_reading_completed",
)

#: A historic reader goes through a session's streams in chunks, one stream after the other;
#: one second in which the reader could deliver (the sample reader's own processing time does not
#: count) lets the first chunk of every stream arrive before any release.
DEFAULT_STREAM_DISCOVERY_GRACE_S = 1.0


class _PacketHandler(IHandler[ReceivedPacketDto]):
    def __init__(self, service: SampleReaderService) -> None:
        self._service = service

    def handle(self, obj: ReceivedPacketDto) -> None:
        self._service.handle_packet(obj)


class SampleReaderService(ServiceBase, ISampleReaderService):
    """Buffers the packets of a packet reader and delivers them merged, in time order.

    Release rules are those of ``SessionBuffer``. Handlers run
    on the packet reader's thread, per session: ``session_data_merging_started``, the ``Start…``
    items, the released slices, the ``End…`` items, ``session_data_merging_completed``. An
    exception in a handler is logged and delivery goes on. ``stop()`` releases what every open
    session still buffers, with its end items, before detaching from the reader.
    """

    service_name = "sample reader"

    def __init__(
        self,
        configuration: BufferingConfiguration,
        decoder: SampleDecoder | None = None,
        resolver: FormatResolver | None = None,
        *,
        stream_discovery_grace_s: float = DEFAULT_STREAM_DISCOVERY_GRACE_S,
    ) -> None:
        """``decoder`` defaults to the columnar codecs; ``resolver`` turns data format ids into
        parameter lists (without one, only packets with inline parameter lists are read).
        ``stream_discovery_grace_s``: see ``SessionBuffer`` (releases wait that long after a
        session's first packet, so that every stream of the session has shown up). It is measured
        on an ``IdleClock``: time spent processing packets does not count, since the packet
        reader cannot deliver meanwhile."""
        super().__init__()
        if not isinstance(configuration, BufferingConfiguration):
            raise TypeError(
                "buffering_configuration must be a BufferingConfiguration, "
                f"got {type(configuration).__name__}"
            )
        configuration.validate()
        self.configuration = configuration
        self.session_data_merging_started: Event[SessionInfo] = Event(
            "session_data_merging_started"
        )
        self.session_data_merging_completed: Event[SessionInfo] = Event(
            "session_data_merging_completed"
        )
        self.parameter_registry = ParameterRegistry(configuration.subscribed_parameters)
        self._idle_clock = IdleClock()
        self._merger = SessionMerger(
            configuration,
            self.parameter_registry,
            decoder or decode_sample_packet,
            resolver,
            stream_discovery_grace_s,
            self._idle_clock,
        )
        self._timestamp_handlers: list[IHandler[TimestampData]] = []
        self._sample_handlers: list[IHandler[SampleData]] = []
        self._listeners: list[MergedBlockListener] = []
        self._lock = threading.RLock()
        self._delivery_lock = threading.RLock()
        self._reader: IPacketReaderService | None = None
        self._packet_handler = _PacketHandler(self)
        self._warned_not_started = False

    # ---------------------------------------------------------------- handlers

    def set_handler(
        self,
        handler: IHandler[TimestampData] | IHandler[SampleData],
        data_type: type | None = None,
    ) -> None:
        kind = _handled_type(handler, data_type)
        with self._lock:
            if issubclass(kind, TimestampData):
                self._timestamp_handlers.append(handler)  # type: ignore[arg-type]
            else:
                self._sample_handlers.append(handler)  # type: ignore[arg-type]

    def remove_handler(self, handler: IHandler[TimestampData] | IHandler[SampleData]) -> None:
        with self._lock:
            for handlers in (self._timestamp_handlers, self._sample_handlers):
                if handler in handlers:
                    handlers.remove(handler)  # type: ignore[arg-type]

    def add_block_listener(self, listener: MergedBlockListener) -> None:
        """Receive every release as arrays (used by the data reader)."""
        with self._lock:
            if listener not in self._listeners:
                self._listeners.append(listener)

    def remove_block_listener(self, listener: MergedBlockListener) -> None:
        with self._lock:
            if listener in self._listeners:
                self._listeners.remove(listener)

    # ------------------------------------------------------------------ reader

    def set_reader_service(self, reading_service: IPacketReaderService) -> None:
        """Take packets and session/stream events from ``reading_service`` (replacing any
        reader set before). When the reader's configuration names its streams, every session
        waits for all of them before releasing (their first packets may come late).

        Raises ``TypeError`` naming the argument, before changing anything, for an object that
        is not a packet reader."""
        if not all(hasattr(reading_service, name) for name in _READER_MEMBERS):
            raise TypeError(
                "set_reader_service: reading_service must be a packet reader service "
                f"(IPacketReaderService), got {shown(reading_service)}"
            )
        with self._lock:
            previous, self._reader = self._reader, reading_service
            streams = getattr(getattr(reading_service, "configuration", None), "streams", None)
            self._merger.expect_streams(streams or [])
        if previous is not None:
            self._detach(previous)
        reading_service.session_reading_started.subscribe(self._on_session_started)
        reading_service.stream_reading_completed.subscribe(self._on_stream_completed)
        reading_service.session_reading_completed.subscribe(self._on_session_completed)
        reading_service.set_handler(self._packet_handler)

    def _detach(self, reader: IPacketReaderService) -> None:
        reader.remove_handler(self._packet_handler)
        reader.session_reading_started.unsubscribe(self._on_session_started)
        reader.stream_reading_completed.unsubscribe(self._on_stream_completed)
        reader.session_reading_completed.unsubscribe(self._on_session_completed)

    # ------------------------------------------------------------ subscription

    def subscribe(self, parameter_identifiers: Iterable[str]) -> bool:
        identifiers = _identifiers("subscribe", parameter_identifiers)
        if identifiers is None:
            return False
        with self._lock:
            self.parameter_registry.subscribe(identifiers)
        return True

    def subscribe_all(self) -> bool:
        with self._lock:
            self.parameter_registry.subscribe_all()
        return True

    def unsubscribe(self, parameter_identifiers: Iterable[str]) -> bool:
        identifiers = _identifiers("unsubscribe", parameter_identifiers)
        if identifiers is None:
            return False
        with self._lock:
            self._merger.drop_parameters(self.parameter_registry.unsubscribe(identifiers))
        return True

    def unsubscribe_all(self) -> bool:
        with self._lock:
            self._merger.drop_parameters(self.parameter_registry.unsubscribe_all())
        return True

    def parameter_numbers(self, parameter_identifiers: list[str]) -> I32Array:
        """The numbers blocks use for ``parameter_identifiers`` (numbering new ones)."""
        with self._lock:
            return self.parameter_registry.indices(parameter_identifiers)

    def is_subscribed(self, parameter_identifier: str) -> bool:
        with self._lock:
            registry = self.parameter_registry
            return registry.is_subscribed(int(registry.indices([parameter_identifier])[0]))

    # ----------------------------------------------------------------- queries

    def get_last_time_info(self, data_source: str, session_key: str) -> list[tuple[str, int]]:
        with self._lock:
            state = self._merger.session(data_source, session_key)
            return [] if state is None else state.buffer.last_time_info()

    def get_late_sample_count(self, data_source: str, session_key: str) -> int:
        """Samples of the session that arrived after their slice was released (not delivered)."""
        with self._lock:
            state = self._merger.session(data_source, session_key)
            return 0 if state is None else state.buffer.late_sample_count

    # ----------------------------------------------------------- packet path

    def handle_packet(self, dto: ReceivedPacketDto) -> None:
        """Take one packet (the packet reader calls this through its handler)."""
        if not self.is_started:
            if not self._warned_not_started:
                self._warned_not_started = True
                logger.warning(
                    "sample reader %s is not started: packets are dropped until start() "
                    "(start the sample reader before the packet reader)",
                    self.id,
                )
            return
        with self._delivery_lock, self._idle_clock.busy():
            with self._lock:
                actions = self._merger.packet(dto)
            self._deliver(actions)

    def _on_session_started(self, sender: object, info: SessionInfo) -> None:
        if self.is_started:
            with self._delivery_lock, self._idle_clock.busy():
                with self._lock:
                    actions = self._merger.session_started(info)
                self._deliver(actions)

    def _on_stream_completed(self, sender: object, info: StreamInfo) -> None:
        if self.is_started:
            with self._delivery_lock, self._idle_clock.busy():
                with self._lock:
                    actions = self._merger.stream_completed(
                        info.data_source, info.session_key, info.stream
                    )
                self._deliver(actions)

    def _on_session_completed(self, sender: object, info: SessionInfo) -> None:
        if self.is_started:
            with self._delivery_lock, self._idle_clock.busy():
                with self._lock:
                    actions = self._merger.session_completed(info)
                self._deliver(actions)

    def _on_stop(self) -> None:
        with self._delivery_lock:
            with self._lock:
                actions = [
                    action
                    for state in self._merger.open_sessions()
                    for action in self._merger.session_completed(state.info)
                ]
                reader, self._reader = self._reader, None
            self._deliver(actions)
        if reader is not None:
            self._detach(reader)

    # ---------------------------------------------------------------- delivery

    def _deliver(self, actions: list[Action]) -> None:
        if not actions:
            return
        with self._lock:
            timestamp_handlers = list(self._timestamp_handlers)
            sample_handlers = list(self._sample_handlers)
            listeners = list(self._listeners)
        name = self.parameter_registry.name
        for action in actions:
            info = action.session.info
            ds, key = info.data_source, info.session_key
            if action.kind == "start":
                self.session_data_merging_started.raise_event(self, info)
                _call(timestamp_handlers, StartTimestampData(ds, key))
                _call(sample_handlers, StartSampleData(ds, key))
                for listener in listeners:
                    _notify(listener.on_session_started, info)
            elif action.kind == "block" and action.block is not None:
                block = action.block
                if timestamp_handlers:
                    for item in timestamp_data_items(block, ds, key, name):
                        _call(timestamp_handlers, item)
                if sample_handlers:
                    for sample in sample_data_items(block, ds, key, name):
                        _call(sample_handlers, sample)
                for listener in listeners:
                    _notify(listener.on_merged_block, info, block)
            elif action.kind == "end":
                buffer = action.session.buffer
                start, end = buffer.origin or 0, buffer.cursor or 0
                _call(timestamp_handlers, EndTimestampData(ds, key, start, end))
                _call(sample_handlers, EndSampleData(ds, key, start, end))
                for listener in listeners:
                    _notify(listener.on_session_completed, info)
                self.session_data_merging_completed.raise_event(self, info)


def _call(handlers: list[Any], item: object) -> None:
    for handler in handlers:
        try:
            handler.handle(item)
        except Exception:
            logger.exception("buffering handler %r raised on %r; delivery goes on", handler, item)


def _notify(callback: Any, *args: object) -> None:
    try:
        callback(*args)
    except Exception:
        logger.exception("merged block listener %r raised; delivery goes on", callback)


def _identifiers(operation: str, parameter_identifiers: Iterable[str]) -> list[str] | None:
    if isinstance(parameter_identifiers, (str, bytes)) or parameter_identifiers is None:
        logger.error(
            "%s: parameter_identifiers must be an iterable of str, got %s",
            operation,
            shown(parameter_identifiers),
        )
        return None
    try:
        identifiers = list(parameter_identifiers)
    except TypeError:
        logger.error(
            "%s: parameter_identifiers must be an iterable of str, got %s",
            operation,
            shown(parameter_identifiers),
        )
        return None
    bad = [identifier for identifier in identifiers if not isinstance(identifier, str)]
    if bad:
        logger.error(
            "%s: parameter_identifiers must hold only str, got %s", operation, shown(bad[0])
        )
        return None
    return identifiers


def _handled_type(handler: object, data_type: type | None) -> type:
    """TimestampData or SampleData: from ``data_type``, else from the handler's IHandler[...]."""
    candidates = [data_type] if data_type is not None else []
    if data_type is None:
        for cls in type(handler).__mro__:
            for base in getattr(cls, "__orig_bases__", ()):
                if get_origin(base) is IHandler:
                    candidates.extend(arg for arg in get_args(base) if isinstance(arg, type))
    for candidate in candidates:
        if isinstance(candidate, type) and issubclass(candidate, (TimestampData, SampleData)):
            return candidate
    raise TypeError(
        f"set_handler: cannot tell whether {handler!r} handles TimestampData or SampleData; "
        "subclass IHandler[TimestampData] / IHandler[SampleData] or pass data_type"
    )

"""Helpers of the service contract suite: a support-library factory, packet builders, recorders.

Everything goes through the official API exactly as a user program would::

    SupportLibraryBootstrapper.bootstrap(StreamingApiConfiguration(broker_list, strategy, [], 10),
                                         logger).create() → initialise() → start() → services

``library_factory`` (like quix-streams' ``topic_factory``) builds as many independent support
libraries on the test's ``broker_list`` as a test needs and stops them afterwards. Plain helpers
(``wait_for``, packet builders, ``EventRecorder``) are imported by the test modules from here.
"""

from __future__ import annotations

import threading
import time
import uuid
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any, TypeVar

import pytest

from ma_dataplatforms_streaming_support_library.contracts.data_format_management.i_data_format_management_service import (
    IDataFormatManagementService,
)
from ma_dataplatforms_streaming_support_library.contracts.packet_reading.packet_reading_configuration import (
    PacketReadingConfiguration,
)
from ma_dataplatforms_streaming_support_library.contracts.packet_reading.packet_reading_type import (
    PacketReadingType,
)
from ma_dataplatforms_streaming_support_library.contracts.packet_reading.received_packet_dto import (
    ReceivedPacketDto,
)
from ma_dataplatforms_streaming_support_library.contracts.packet_writing.i_packet_writer_service import (
    IPacketWriterService,
)
from ma_dataplatforms_streaming_support_library.contracts.packet_writing.packet_bytes import (
    PacketBytes,
)
from ma_dataplatforms_streaming_support_library.contracts.session_management.i_session_management_service import (
    ISessionManagementService,
)
from ma_dataplatforms_streaming_support_library.contracts.session_management.session_creation_info import (
    SessionCreationInfo,
)
from ma_dataplatforms_streaming_support_library.contracts.session_management.session_info import (
    SessionInfo,
)
from ma_dataplatforms_streaming_support_library.contracts.shared.i_handler import IHandler
from ma_dataplatforms_streaming_support_library.contracts.shared.stream_api_configuration import (
    StreamingApiConfiguration,
)
from ma_dataplatforms_streaming_support_library.contracts.shared.stream_creation_strategy import (
    StreamCreationStrategy,
)
from ma_dataplatforms_streaming_support_library.core.base.logger import ILogger
from ma_dataplatforms_streaming_support_library.core.base.support_library_bootstrapper import (
    SupportLibraryBootstrapper,
)
from ma_dataplatforms_streaming_support_library.protos import open_data_pb2
from ma_dataplatforms_streaming_support_library.transport import (
    BROKER_ENVIRONMENT_VARIABLE,
    Record,
    Transport,
)

WAIT_S = 20.0
SESSION_INFO_TOPIC = "SessionInfo"
TOPIC_BASE = StreamCreationStrategy.TOPIC_BASE
PARTITION_BASE = StreamCreationStrategy.PARTITION_BASE
#: the partition mappings used whenever a test runs PARTITION_BASE with named streams
MAPPINGS = {"stream1": 1, "stream2": 2}

T = TypeVar("T")


# waiting ----------------------------------------------------------------------------------------
def wait_for(predicate: Callable[[], T], timeout: float = WAIT_S, message: str = "") -> T:
    """Poll ``predicate`` until it returns something truthy; fail the test after ``timeout`` s."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout} s waiting for {message or predicate}")
        time.sleep(0.05)


# logging ----------------------------------------------------------------------------------------
class RecordingLogger(ILogger):
    """An ``ILogger`` (the official custom-logger interface) that keeps every message."""

    def __init__(self) -> None:
        self.messages: list[tuple[str, str]] = []
        self._lock = threading.Lock()

    def _add(self, level: str, message: str) -> None:
        with self._lock:
            self.messages.append((level, message))

    def debug(self, message: str) -> None:
        self._add("debug", message)

    def info(self, message: str) -> None:
        self._add("info", message)

    def warning(self, message: str) -> None:
        self._add("warning", message)

    def error(self, message: str) -> None:
        self._add("error", message)

    def find(self, *fragments: str, levels: Sequence[str] = ("warning", "error")) -> list[str]:
        """Messages at ``levels`` that contain every fragment."""
        with self._lock:
            return [
                message
                for level, message in self.messages
                if level in levels and all(fragment in message for fragment in fragments)
            ]


# support libraries ------------------------------------------------------------------------------
@dataclass
class Library:
    """One started support library and the services a test created on it."""

    api: Any
    logger: RecordingLogger
    broker_list: str
    strategy: StreamCreationStrategy
    partition_mappings: dict[str, int] = field(default_factory=dict)

    def session_service(self, start: bool = True) -> ISessionManagementService:
        result = self.api.get_session_manager_api().create_service()
        assert result.success and result.data is not None, result.error_message
        return _ready(result.data, start)

    def format_service(self, start: bool = True) -> IDataFormatManagementService:
        result = self.api.get_data_format_manager_api().create_service()
        assert result.success and result.data is not None, result.error_message
        return _ready(result.data, start)

    def writer_service(self, start: bool = True) -> IPacketWriterService:
        result = self.api.get_writing_packet_api().create_service()
        assert result.success and result.data is not None, result.error_message
        return _ready(result.data, start)

    def reader(self, configuration: PacketReadingConfiguration) -> Any:
        """A reader created and initialised, not started: subscribe to its events first."""
        result = self.api.get_reading_packet_api().create_service_with_config(configuration)
        assert result.success and result.data is not None, result.error_message
        result.data.initialise()
        return result.data

    def stop(self) -> None:
        self.api.stop()


def _ready(service: T, start: bool) -> T:
    service.initialise()  # type: ignore[attr-defined]
    if start:
        service.start()  # type: ignore[attr-defined]
    return service


LibraryFactory = Callable[..., Library]


@pytest.fixture
def library_factory(broker_list: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[LibraryFactory]:
    """``make(strategy=TOPIC_BASE, *, partition_mappings=None, timeout_seconds=10)`` → started library."""
    # A developer's MA_STREAMING_BROKER must not turn both parametrisations into one transport.
    monkeypatch.delenv(BROKER_ENVIRONMENT_VARIABLE, raising=False)
    made: list[Library] = []

    def make(
        strategy: StreamCreationStrategy = TOPIC_BASE,
        *,
        partition_mappings: dict[str, int] | None = None,
        timeout_seconds: float = 10,
    ) -> Library:
        logger = RecordingLogger()
        configuration = StreamingApiConfiguration(
            broker_list,
            strategy,
            [],
            timeout_seconds,
            partition_mappings=partition_mappings,
        )
        api = SupportLibraryBootstrapper.bootstrap(configuration, logger).create()
        api.initialise()
        api.start()
        library = Library(api, logger, broker_list, strategy, dict(partition_mappings or {}))
        made.append(library)
        return library

    yield make
    for library in reversed(made):
        library.stop()


@pytest.fixture
def library(library_factory: LibraryFactory) -> Library:
    """A started TOPIC_BASE support library on the test's broker list."""
    return library_factory()


# packets ----------------------------------------------------------------------------------------
def packet(
    packet_type: str,
    session_key: str,
    content: bytes = b"",
    *,
    essential: bool = False,
    packet_id: int = 0,
) -> PacketBytes:
    envelope = open_data_pb2.Packet(
        type=packet_type,
        session_key=session_key,
        is_essential=essential,
        content=content,
        id=packet_id,
    )
    return PacketBytes(envelope.SerializeToString())


def new_session_packet(data_source: str, session_key: str, packet_id: int = 0) -> PacketBytes:
    content = open_data_pb2.NewSessionPacket(data_source=data_source).SerializeToString()
    return packet("NewSession", session_key, content, packet_id=packet_id)


def end_session_packet(data_source: str, session_key: str, packet_id: int = 0) -> PacketBytes:
    content = open_data_pb2.EndOfSessionPacket(data_source=data_source).SerializeToString()
    return packet("EndOfSession", session_key, content, packet_id=packet_id)


def marker_packet(
    session_key: str, label: str, packet_id: int = 0, *, essential: bool = False
) -> PacketBytes:
    content = open_data_pb2.MarkerPacket(
        timestamp=time.time_ns(), label=label, type="Test", value=packet_id
    ).SerializeToString()
    return packet("Marker", session_key, content, essential=essential, packet_id=packet_id)


def periodic_packet(
    session_key: str, data_format_id: int, values: Sequence[float], packet_id: int = 0
) -> PacketBytes:
    column = open_data_pb2.SampleColumn(
        double_samples=open_data_pb2.DoubleSampleList(
            samples=[
                open_data_pb2.DoubleSample(value=v, status=open_data_pb2.DATA_STATUS_VALID)
                for v in values
            ]
        )
    )
    content = open_data_pb2.PeriodicDataPacket(
        data_format=open_data_pb2.SampleDataFormat(data_format_identifier=data_format_id),
        start_time=time.time_ns(),
        interval=1_000_000,
        columns=[column],
    ).SerializeToString()
    return packet("PeriodicData", session_key, content, packet_id=packet_id)


def envelope(dto: ReceivedPacketDto) -> open_data_pb2.Packet:
    return open_data_pb2.Packet.FromString(dto.packet_bytes.data)


def unique(prefix: str = "") -> str:
    return f"{prefix}{uuid.uuid4().hex[:8]}"


# writing whole sessions -------------------------------------------------------------------------
@dataclass
class WrittenSession:
    session_key: str
    #: stream → the PacketBytes written to it, in order (NewSession, markers, EndOfSession)
    packets: dict[str, list[PacketBytes]]


def create_session(
    sessions: ISessionManagementService, data_source: str, identifier: str = "", **extra: Any
) -> SessionInfo:
    result = sessions.create_new_session(
        SessionCreationInfo(data_source=data_source, identifier=identifier, **extra)
    )
    assert result.success and result.data is not None, result.error_message
    return result.data


def write_stream_packets(
    writer: IPacketWriterService,
    data_source: str,
    session_key: str,
    streams: Sequence[str],
    count: int,
    *,
    first_id: int = 1,
) -> dict[str, list[PacketBytes]]:
    """``count`` markers on each stream, interleaved; packet ids count up from ``first_id``."""
    written: dict[str, list[PacketBytes]] = {stream: [] for stream in streams}
    packet_id = first_id
    for index in range(count):
        for stream in streams:
            data = marker_packet(session_key, f"{stream or 'main'}-{index}", packet_id)
            packet_id += 1
            result = writer.write_data(data_source, stream, session_key, data)
            assert result.success, result.error_message
            written[stream].append(data)
    return written


def write_session(
    sessions: ISessionManagementService,
    writer: IPacketWriterService,
    data_source: str,
    *,
    streams: Sequence[str] = ("",),
    count: int = 5,
    identifier: str = "",
    end: bool = True,
) -> WrittenSession:
    """What the official writer sample does: NewSession on each stream, data, EndOfSession on each
    stream, then ``end_session``."""
    info = create_session(sessions, data_source, identifier)
    key = info.session_key
    packets: dict[str, list[PacketBytes]] = {stream: [] for stream in streams}
    for stream in streams:
        start = new_session_packet(data_source, key)
        assert writer.write_data(data_source, stream, key, start).success
        packets[stream].append(start)
    for stream, written in write_stream_packets(writer, data_source, key, streams, count).items():
        packets[stream].extend(written)
    if end:
        end_session(sessions, writer, data_source, key, streams, packets)
    return WrittenSession(key, packets)


def end_session(
    sessions: ISessionManagementService,
    writer: IPacketWriterService,
    data_source: str,
    session_key: str,
    streams: Sequence[str],
    packets: dict[str, list[PacketBytes]] | None = None,
) -> None:
    for stream in streams:
        stop = end_session_packet(data_source, session_key)
        assert writer.write_data(data_source, stream, session_key, stop).success
        if packets is not None:
            packets[stream].append(stop)
    result = sessions.end_session(data_source, session_key)
    assert result.success, result.error_message


# reading ----------------------------------------------------------------------------------------
class EventRecorder(IHandler[ReceivedPacketDto]):
    """A packet handler that also records every reader event, all in one ordered journal.

    Journal entries: ``("session_started", key)``, ``("stream_started", key, stream)``,
    ``("packet", key, stream, dto)``, ``("stream_completed", key, stream)``,
    ``("session_completed", key, info)``, ``("info_updated", key, info)``, ``("coverage", key, info)``,
    ``("association", main_key, info)``.
    Defines its own ``__init__`` without calling ``super().__init__()``, like the official sample.
    """

    def __init__(self, delay_s: float = 0.0) -> None:
        self.journal: list[tuple[Any, ...]] = []
        self.delay_s = delay_s
        self._lock = threading.Lock()

    def _add(self, *entry: Any) -> None:
        with self._lock:
            self.journal.append(entry)

    def handle(self, packet: ReceivedPacketDto) -> None:
        if self.delay_s:
            time.sleep(self.delay_s)
        self._add("packet", packet.session_key, packet.stream, packet)

    def attach(self, reader: Any) -> EventRecorder:
        """Subscribe to every event of ``reader`` (call before ``start()``)."""
        reader.session_reading_started.subscribe(self.on_session_started)
        reader.session_reading_completed.subscribe(self.on_session_completed)
        reader.stream_reading_started.subscribe(self.on_stream_started)
        reader.stream_reading_completed.subscribe(self.on_stream_completed)
        reader.session_info_updated.subscribe(self.on_info_updated)
        reader.coverage_cursor_received.subscribe(self.on_coverage)
        reader.session_association_info_updated.subscribe(self.on_association)
        return self

    def on_session_started(self, sender: object, info: SessionInfo) -> None:
        self._add("session_started", info.session_key)

    def on_session_completed(self, sender: object, info: SessionInfo) -> None:
        self._add("session_completed", info.session_key, info)

    def on_stream_started(self, sender: object, info: Any) -> None:
        self._add("stream_started", info.session_key, info.stream)

    def on_stream_completed(self, sender: object, info: Any) -> None:
        self._add("stream_completed", info.session_key, info.stream)

    def on_info_updated(self, sender: object, info: SessionInfo) -> None:
        self._add("info_updated", info.session_key, info)

    def on_coverage(self, sender: object, info: Any) -> None:
        self._add("coverage", info.session_key, info)

    def on_association(self, sender: object, info: Any) -> None:
        self._add("association", info.main_session_info.session_key, info)

    # queries ----------------------------------------------------------------------------------
    def entries(self, kind: str, session_key: str | None = None) -> list[tuple[Any, ...]]:
        with self._lock:
            return [
                e
                for e in self.journal
                if e[0] == kind and (session_key is None or e[1] == session_key)
            ]

    def packets(self, session_key: str | None = None) -> list[ReceivedPacketDto]:
        return [entry[3] for entry in self.entries("packet", session_key)]

    def packets_by_stream(self, session_key: str) -> dict[str, list[bytes]]:
        by_stream: dict[str, list[bytes]] = {}
        for dto in self.packets(session_key):
            by_stream.setdefault(dto.stream, []).append(dto.packet_bytes.data)
        return by_stream

    def completed(self, session_key: str) -> bool:
        return bool(self.entries("session_completed", session_key))

    def wait_completed(self, session_key: str, timeout: float = WAIT_S) -> None:
        wait_for(lambda: self.completed(session_key), timeout, f"session {session_key} completed")

    def session_journal(self, session_key: str) -> list[tuple[Any, ...]]:
        with self._lock:
            return [e for e in self.journal if e[1] == session_key]


def assert_event_order(journal: list[tuple[Any, ...]], streams: Sequence[str]) -> None:
    """The reader's event order for one session: session started → per stream: started before its
    packets, completed after them → session completed last; each event exactly once."""
    kinds = [
        entry[0] for entry in journal if entry[0] not in ("info_updated", "coverage", "association")
    ]
    assert kinds[0] == "session_started", journal[:3]
    assert kinds.count("session_started") == 1
    assert kinds[-1] == "session_completed", journal[-3:]
    assert kinds.count("session_completed") == 1
    for stream in streams:
        positions = [
            (index, entry[0])
            for index, entry in enumerate(journal)
            if entry[0] in ("stream_started", "stream_completed", "packet") and entry[2] == stream
        ]
        stream_kinds = [kind for _, kind in positions]
        assert stream_kinds.count("stream_started") == 1, (stream, stream_kinds)
        assert stream_kinds.count("stream_completed") == 1, (stream, stream_kinds)
        assert stream_kinds[0] == "stream_started", (stream, stream_kinds)
        assert stream_kinds[-1] == "stream_completed", (stream, stream_kinds)
    started_streams = {entry[2] for entry in journal if entry[0] == "stream_started"}
    assert started_streams == set(streams)


def live_configuration(
    data_source: str, *, timeout_seconds: float = 10, **overrides: Any
) -> PacketReadingConfiguration:
    """The official reader sample's configuration (positional), LIVE on ``data_source``."""
    configuration = PacketReadingConfiguration(
        "", timeout_seconds, False, data_source, "*", PacketReadingType.LIVE, []
    )
    for name, value in overrides.items():
        setattr(configuration, name, value)
    return configuration


def historic_configuration(
    data_source: str, *, timeout_seconds: float = 10, **overrides: Any
) -> PacketReadingConfiguration:
    return live_configuration(
        data_source,
        timeout_seconds=timeout_seconds,
        reading_type=PacketReadingType.HISTORIC,
        **overrides,
    )


def start_reader(
    library: Library, configuration: PacketReadingConfiguration, **kw: Any
) -> tuple[Any, EventRecorder]:
    """Create a reader, subscribe a recorder to its events, start it, then set the handler (the
    sample's order)."""
    reader = library.reader(configuration)
    recorder = EventRecorder(**kw).attach(reader)
    reader.start()
    reader.set_handler(recorder)
    return reader, recorder


# the log, read directly through the transport ---------------------------------------------------
def read_all(transport: Transport, topic: str) -> list[Record]:
    records: list[Record] = []
    for partition, end in sorted(transport.end_offsets(topic).items()):
        records.extend(transport.read_range(topic, partition, 0, end, timeout_s=WAIT_S))
    return records


def session_info_packets(
    transport: Transport, session_key: str
) -> list[tuple[Record, open_data_pb2.Packet]]:
    """Records of ``SessionInfo`` whose Kafka key is ``session_key``, with their parsed envelope."""
    found = []
    for record in read_all(transport, SESSION_INFO_TOPIC):
        if record.key == session_key.encode():
            found.append((record, open_data_pb2.Packet.FromString(record.value)))
    return found

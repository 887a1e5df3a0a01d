"""Interop with the C# Stream API layout on a real Kafka-protocol broker.

Two directions, both checked with an independent raw confluent-kafka client (no library code on
the other side):
- what our writer produces is decoded record by record and compared with the reference layout
  (topic, partition, key, envelope type strings, offsets maps);
- records laid out by hand the way the C# server writes them, quirks included, are read by our
  session service, data format service and packet reader.
"""

from __future__ import annotations

import threading
import time
import uuid
from collections.abc import Iterator
from typing import Any

import pytest
from confluent_kafka import Consumer, Producer, TopicPartition
from confluent_kafka.admin import AdminClient, NewTopic

from ma_dataplatforms_streaming_support_library.contracts.packet_reading.received_packet_dto import (
    ReceivedPacketDto,
)
from ma_dataplatforms_streaming_support_library.contracts.packet_writing.packet_bytes import (
    PacketBytes,
)
from ma_dataplatforms_streaming_support_library.contracts.session_management.session_creation_info import (
    SessionCreationInfo,
)
from ma_dataplatforms_streaming_support_library.contracts.shared.i_handler import IHandler
from ma_dataplatforms_streaming_support_library.contracts.shared.stream_api_configuration import (
    StreamingApiConfiguration,
)
from ma_dataplatforms_streaming_support_library.contracts.shared.stream_creation_strategy import (
    StreamCreationStrategy,
)
from ma_dataplatforms_streaming_support_library.core.base.logger import Logger
from ma_dataplatforms_streaming_support_library.core.base.support_library_bootstrapper import (
    SupportLibraryBootstrapper,
)
from ma_dataplatforms_streaming_support_library.protos import open_data_pb2 as od

pytestmark = pytest.mark.kafka

Raw = tuple[str, int, int, bytes | None, bytes]


def raw_read(bootstrap: str, topic: str) -> list[Raw]:
    """Every record of every partition of ``topic``, with an independent confluent-kafka consumer."""
    admin = AdminClient({"bootstrap.servers": bootstrap})
    partitions = admin.list_topics(topic, timeout=10).topics[topic].partitions
    consumer = Consumer(
        {
            "bootstrap.servers": bootstrap,
            "group.id": f"interop-{uuid.uuid4().hex}",
            "enable.auto.commit": False,
        }
    )
    records: list[Raw] = []
    try:
        for partition in partitions:
            low, high = consumer.get_watermark_offsets(TopicPartition(topic, partition), timeout=10)
            if high <= low:
                continue
            consumer.assign([TopicPartition(topic, partition, low)])
            deadline = time.monotonic() + 20
            while time.monotonic() < deadline:
                message = consumer.poll(0.5)
                if message is None or message.error():
                    continue
                records.append((topic, partition, message.offset(), message.key(), message.value()))
                if message.offset() >= high - 1:
                    break
    finally:
        consumer.close()
    return records


def packet(value: bytes) -> od.Packet:
    return od.Packet.FromString(value)


class Library:
    """The official API on one broker, started and stopped around a test."""

    def __init__(self, bootstrap: str, strategy: StreamCreationStrategy, **kwargs: Any) -> None:
        configuration = StreamingApiConfiguration(bootstrap, strategy, [], 10, **kwargs)
        self.lib = SupportLibraryBootstrapper.bootstrap(configuration, Logger()).create()
        self.lib.initialise()
        self.lib.start()
        self.sessions = self._start(self.lib.get_session_manager_api())
        self.formats = self._start(self.lib.get_data_format_manager_api())
        self.writer = self._start(self.lib.get_writing_packet_api())

    @staticmethod
    def _start(module_api: Any) -> Any:
        service = module_api.create_service().data
        service.initialise()
        service.start()
        return service

    def write(self, data_source: str, stream: str, key: str, body: od.Packet) -> None:
        result = self.writer.write_data(
            data_source, stream, key, PacketBytes(body.SerializeToString())
        )
        assert result.success, result.error_message

    def stop(self) -> None:
        for service in (self.writer, self.formats, self.sessions):
            service.stop()
        self.lib.stop()


@pytest.fixture
def library_factory(kafka_bootstrap: str) -> Iterator[Any]:
    libraries: list[Library] = []

    def make(strategy: StreamCreationStrategy, **kwargs: Any) -> Library:
        library = Library(kafka_bootstrap, strategy, **kwargs)
        libraries.append(library)
        return library

    yield make
    for library in libraries:
        library.stop()


def periodic(key: str, format_id: int, start_ns: int) -> od.Packet:
    content = od.PeriodicDataPacket(
        data_format=od.SampleDataFormat(data_format_identifier=format_id),
        start_time=start_ns,
        interval=1_000_000,
    )
    content.columns.add().double_samples.samples.add(value=1.5, status=od.DATA_STATUS_VALID)
    return od.Packet(type="PeriodicData", session_key=key, content=content.SerializeToString())


@pytest.mark.parametrize(
    "strategy", [StreamCreationStrategy.TOPIC_BASE, StreamCreationStrategy.PARTITION_BASE]
)
def test_our_records_follow_the_stream_api_layout(
    strategy: StreamCreationStrategy, kafka_bootstrap: str, data_source: str, library_factory: Any
) -> None:
    mappings = {"stream1": 1, "stream2": 2}
    library = library_factory(strategy, partition_mappings=mappings)
    created = library.sessions.create_new_session(SessionCreationInfo(data_source, "interop"))
    assert created.success, created.error_message
    key = created.data.session_key
    format_id = library.formats.get_parameter_data_format_id(
        data_source, ["A:X", "B:X"]
    ).data.data_format_id
    config = od.Packet(type="Configuration", session_key=key, is_essential=True, content=b"")
    library.write(data_source, "", key, config)
    for stream in ("stream1", "stream2"):
        library.write(data_source, stream, key, periodic(key, format_id, 1))
    assert library.sessions.end_session(data_source, key).success

    # SessionInfo: a NewSession and an EndOfSession record keyed by the session key.
    info_records = [r for r in raw_read(kafka_bootstrap, "SessionInfo") if r[3] == key.encode()]
    types = [packet(r[4]).type for r in info_records]
    assert types == ["NewSession", "EndOfSession"]
    new_session = od.NewSessionPacket.FromString(packet(info_records[0][4]).content)
    end = od.EndOfSessionPacket.FromString(packet(info_records[1][4]).content)
    assert new_session.data_source == data_source
    assert new_session.session_info.data_source == data_source
    assert new_session.session_info.identifier == "interop"
    if strategy == StreamCreationStrategy.TOPIC_BASE:
        expected_end_keys = {
            f"{data_source}:0",
            f"{data_source}_essential:0",
            f"{data_source}.stream1:0",
            f"{data_source}.stream2:0",
        }
        assert set(new_session.topic_partition_offsets) == {
            f"{data_source}:0",
            f"{data_source}_essential:0",
        }
    else:
        expected_end_keys = {
            f"{data_source}:0",
            f"{data_source}_essential:0",
            f"{data_source}:1",
            f"{data_source}:2",
        }
        assert set(new_session.topic_partition_offsets) == expected_end_keys
    assert set(end.topic_partition_offsets) == expected_end_keys

    # Data format definition: empty key, envelope session_key "", on <ds>_essential and <ds> p0.
    essentials = raw_read(kafka_bootstrap, f"{data_source}_essential")
    definitions = [r for r in essentials if packet(r[4]).type == "DataFormatDefinition"]
    assert len(definitions) == 1 and definitions[0][3] == b"" and definitions[0][1] == 0
    definition = od.DataFormatDefinitionPacket.FromString(packet(definitions[0][4]).content)
    assert definition.identifier == format_id
    assert list(definition.parameter_identifiers.parameter_identifiers) == ["A:X", "B:X"]
    main = raw_read(kafka_bootstrap, data_source)
    assert next(r for r in main if r[1] == 0 and r[3] == b"")[4] == definitions[0][4]

    # The essential Configuration packet: on <ds>_essential and on its stream (main, p0), same bytes.
    essential_copies = [r for r in essentials if r[3] == key.encode()]
    assert [packet(r[4]).type for r in essential_copies] == ["Configuration"]
    assert any(r[4] == essential_copies[0][4] and r[1] == 0 for r in main if r[3] == key.encode())

    # Data records: stream topics (topic-based) or mapped partitions (partition-based); end offsets exact.
    for stream, partition in mappings.items():
        if strategy == StreamCreationStrategy.TOPIC_BASE:
            records = raw_read(kafka_bootstrap, f"{data_source}.{stream}")
            assert [(r[1], r[3]) for r in records] == [(0, key.encode())]
            assert end.topic_partition_offsets[f"{data_source}.{stream}:0"] == records[-1][2] + 1
        else:
            records = [r for r in main if r[1] == partition]
            assert [r[3] for r in records] == [key.encode()]
            assert end.topic_partition_offsets[f"{data_source}:{partition}"] == records[-1][2] + 1
        assert packet(records[0][4]).type == "PeriodicData"


class Collector(IHandler[ReceivedPacketDto]):
    def __init__(self) -> None:
        self.packets: list[tuple[str, str]] = []

    def handle(self, obj: ReceivedPacketDto) -> None:
        self.packets.append((obj.stream, packet(obj.packet_bytes.data).type))


def produce_like_csharp(
    bootstrap: str, records: list[tuple[str, int, bytes, bytes]]
) -> dict[tuple[str, int], int]:
    """Produce with the C# producer settings (zstd, no headers); returns the offset of each topic/partition's last record."""
    producer = Producer({"bootstrap.servers": bootstrap, "compression.type": "zstd"})
    offsets: dict[tuple[str, int], int] = {}
    lock = threading.Lock()

    def delivered(error: Any, message: Any) -> None:
        assert error is None, error
        with lock:
            offsets[(message.topic(), message.partition())] = message.offset()

    for topic, partition, key, value in records:
        producer.produce(topic, value=value, key=key, partition=partition, on_delivery=delivered)
        producer.flush(10)
    return offsets


def test_a_session_laid_out_like_the_csharp_server_reads_back(
    kafka_bootstrap: str, data_source: str, library_factory: Any
) -> None:
    admin = AdminClient({"bootstrap.servers": kafka_bootstrap})
    topics = ["SessionInfo", data_source, f"{data_source}_essential", f"{data_source}.Car"]
    futures = admin.create_topics(
        [NewTopic(t, num_partitions=1, replication_factor=-1) for t in topics]
    )
    for future in futures.values():
        try:
            future.result(10)
        except Exception as exc:  # the SessionInfo topic may exist already
            assert "TOPIC_ALREADY_EXISTS" in str(exc)

    key = str(uuid.uuid4())
    format_id = 638_000_000_000_000_123
    definition = od.Packet(
        type="DataFormatDefinition",
        session_key="",
        is_essential=True,
        content=od.DataFormatDefinitionPacket(
            identifier=format_id,
            type=od.DATA_FORMAT_TYPE_PARAMETER,
            parameter_identifiers=od.ParameterList(parameter_identifiers=["vCar:Chassis"]),
        ).SerializeToString(),
    ).SerializeToString()
    new_session = od.Packet(
        type="NewSession",
        session_key=key,
        content=od.NewSessionPacket(
            data_source=data_source,
            topic_partition_offsets={f"{data_source}:0": 0, f"{data_source}_essential:0": 0},
            session_info=od.SessionInfoPacket(
                data_source=data_source, identifier="csharp", type="Session"
            ),
        ).SerializeToString(),
    ).SerializeToString()
    partial_update = od.Packet(
        type="SessionInfo",
        session_key=key,
        content=od.SessionInfoPacket(
            data_source=data_source, details={"Driver": "A"}
        ).SerializeToString(),
    ).SerializeToString()
    body = lambda t: od.Packet(type=t, session_key=key, content=b"").SerializeToString()  # noqa: E731
    data = periodic(key, format_id, 5).SerializeToString()
    produce_like_csharp(
        kafka_bootstrap,
        [
            ("SessionInfo", 0, key.encode(), new_session),
            (f"{data_source}_essential", 0, b"", definition),
            (data_source, 0, b"", definition),
            (data_source, 0, key.encode(), body("NewSession")),
            (f"{data_source}.Car", 0, key.encode(), body("NewSession")),
            (f"{data_source}.Car", 0, key.encode(), data),
            (f"{data_source}.Car", 0, b"another-session", data),
            ("SessionInfo", 0, key.encode(), partial_update),
        ],
    )
    # The C# server captures end offsets before flushing: two records of the session land past them.
    end_offsets = {
        f"{data_source}:0": 2,
        f"{data_source}_essential:0": 1,
        f"{data_source}.Car:0": 3,
    }
    end = od.Packet(
        type="EndOfSession",
        session_key=key,
        content=od.EndOfSessionPacket(
            data_source=data_source, topic_partition_offsets=end_offsets
        ).SerializeToString(),
    ).SerializeToString()
    second_end = od.Packet(
        type="EndOfSession",
        session_key=key,
        content=od.EndOfSessionPacket(
            data_source=data_source, topic_partition_offsets={}
        ).SerializeToString(),
    ).SerializeToString()
    produce_like_csharp(
        kafka_bootstrap,
        [
            ("SessionInfo", 0, key.encode(), end),
            (f"{data_source}.Car", 0, key.encode(), data),
            (f"{data_source}.Car", 0, key.encode(), body("EndOfSession")),
            (data_source, 0, key.encode(), body("EndOfSession")),
            ("SessionInfo", 0, key.encode(), second_end),
        ],
    )

    library = library_factory(StreamCreationStrategy.TOPIC_BASE)
    info = library.sessions.get_session_info(data_source, key)
    assert info.success, info.error_message
    assert info.data.identifier == "csharp"
    assert info.data.details == {"Driver": "A"}
    assert info.data.historical
    resolved = library.formats.get_parameters_list(data_source, format_id)
    assert resolved.success and resolved.data.parameter_list == ["vCar:Chassis"]

    reader = library.lib.get_reading_packet_api().create_service(data_source, key).data
    events: list[tuple[str, str]] = []
    for name in (
        "session_reading_started",
        "stream_reading_started",
        "stream_reading_completed",
        "session_reading_completed",
    ):
        getattr(reader, name).subscribe(
            lambda _s, a, name=name: events.append((name, getattr(a, "stream", "")))
        )
    collector = Collector()
    reader.initialise()
    reader.start()
    reader.set_handler(collector)
    assert reader.wait_until_finished(30)
    reader.stop()
    by_stream: dict[str, list[str]] = {}
    for stream, packet_type in collector.packets:
        by_stream.setdefault(stream, []).append(packet_type)
    assert by_stream == {
        "": ["NewSession", "EndOfSession"],
        "Car": ["NewSession", "PeriodicData", "PeriodicData", "EndOfSession"],
    }
    assert events[0] == ("session_reading_started", "")
    assert events[-1] == ("session_reading_completed", "")
    completed = {stream for name, stream in events if name == "stream_reading_completed"}
    assert completed == {"", "Car"}

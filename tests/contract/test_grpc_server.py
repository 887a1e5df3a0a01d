"""The Stream API gRPC server, driven through plain grpcio stubs, on both stores.

Every RPC on both strategies, bad input, and sessions written over gRPC read through the official
API and ``read_session``, and the other way round. The C# server's integration tests are restated
one by one in test_grpc_csharp_*.py.
"""

from __future__ import annotations

import json
import threading
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import grpc
import pytest

from ma_dataplatforms_streaming_support_library import read_session
from ma_dataplatforms_streaming_support_library.contracts.packet_writing.packet_bytes import (
    PacketBytes,
)
from ma_dataplatforms_streaming_support_library.contracts.shared.stream_api_configuration import (
    StreamingApiConfiguration,
)
from ma_dataplatforms_streaming_support_library.errors import ConfigurationError
from ma_dataplatforms_streaming_support_library.protos import (
    api_pb2,
    api_pb2_grpc,
    key_generator_pb2,
    open_data_pb2,
)
from ma_dataplatforms_streaming_support_library.server import (
    ServerOptions,
    StreamApiServer,
    load_app_config,
)

from .conftest import (
    MAPPINGS,
    PARTITION_BASE,
    TOPIC_BASE,
    LibraryFactory,
    historic_configuration,
    start_reader,
    wait_for,
    write_session,
)
from .grpc_rig import (
    WAIT_S,
    Client,
    client_for,
    collect,
    connect,
    detail,
    start_server,
)


@pytest.fixture(params=[TOPIC_BASE, PARTITION_BASE], ids=["topic", "partition"])
def strategy(request: pytest.FixtureRequest) -> Any:
    return request.param


@pytest.fixture
def client(broker_list: str, strategy: Any) -> Iterator[Client]:
    server = start_server(broker_list, strategy)
    try:
        yield from client_for(server)
    finally:
        server.stop(1)


# helpers ------------------------------------------------------------------------------------------
def create(client: Client, data_source: str, **fields: Any) -> str:
    response = client.sessions.CreateSession(
        api_pb2.CreateSessionRequest(data_source=data_source, **fields)
    )
    assert response.success
    return str(response.session_key)


def marker(session_key: str, label: str, *, essential: bool = False) -> open_data_pb2.Packet:
    content = open_data_pb2.MarkerPacket(timestamp=time.time_ns(), label=label, type="Lap")
    return open_data_pb2.Packet(
        type="Marker",
        session_key=session_key,
        content=content.SerializeToString(),
        is_essential=essential,
    )


def periodic(session_key: str, data_format_id: int, values: list[float]) -> open_data_pb2.Packet:
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
        start_time=1_700_000_000_000_000_000,
        interval=10_000_000,
        columns=[column],
    )
    return open_data_pb2.Packet(
        type="PeriodicData", session_key=session_key, content=content.SerializeToString()
    )


def labels(responses: list[api_pb2.PacketResponse]) -> list[str]:
    return [
        open_data_pb2.MarkerPacket.FromString(r.packet.content).label
        for r in responses
        if r.packet.type == "Marker"
    ]


# key generator ------------------------------------------------------------------------------------
def test_key_generator_answers_guid_strings_and_increasing_ticks(client: Client) -> None:
    text = client.keys.GenerateUniqueKey(
        key_generator_pb2.GenerateUniqueKeyRequest(type=key_generator_pb2.KEY_TYPE_STRING)
    )
    assert text.WhichOneof("key") == "string_key"
    assert str(uuid.UUID(text.string_key)) == text.string_key
    numbers = [
        client.keys.GenerateUniqueKey(
            key_generator_pb2.GenerateUniqueKeyRequest(type=key_generator_pb2.KEY_TYPE_ULONG)
        ).ulong_key
        for _ in range(3)
    ]
    assert numbers == sorted(set(numbers)) and numbers[0] > 6 * 10**17
    with pytest.raises(grpc.RpcError) as raised:
        client.keys.GenerateUniqueKey(key_generator_pb2.GenerateUniqueKeyRequest())
    assert raised.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert "type" in raised.value.details()


# connections --------------------------------------------------------------------------------------
def test_connections_open_get_close(client: Client, data_source: str) -> None:
    connection = connect(client, data_source, streams=["stream1"], stream_offsets=[-1])
    got = client.connections.GetConnection(api_pb2.GetConnectionRequest(connection=connection))
    assert got.details.data_source == data_source and list(got.details.streams) == ["stream1"]
    close = api_pb2.CloseConnectionRequest(connection=connection)
    assert client.connections.CloseConnection(close).success
    assert not client.connections.CloseConnection(close).success
    unknown = client.connections.GetConnection(api_pb2.GetConnectionRequest(connection=connection))
    assert not unknown.HasField("details")


def test_connections_past_the_cap_get_id_zero(broker_list: str, data_source: str) -> None:
    server = start_server(broker_list, TOPIC_BASE, max_connections=3)
    try:
        for client in client_for(server):
            ids = [
                client.connections.NewConnection(
                    api_pb2.NewConnectionRequest(
                        details=api_pb2.ConnectionDetails(data_source=data_source)
                    )
                ).connection.id
                for _ in range(5)
            ]
            assert all(ids[:3]) and ids[3:] == [0, 0]
            assert client.connections.CloseConnection(
                api_pb2.CloseConnectionRequest(connection=api_pb2.Connection(id=ids[0]))
            ).success
            assert client.connections.NewConnection(
                api_pb2.NewConnectionRequest(details=api_pb2.ConnectionDetails(data_source="x"))
            ).connection.id
    finally:
        server.stop(1)


# sessions -----------------------------------------------------------------------------------------
def test_session_lifecycle_as_the_session_manager(client: Client, data_source: str) -> None:
    other = create(client, data_source)
    key = create(client, data_source, identifier="run 1", version=2, details={"driver": "A"})
    info = client.sessions.GetSessionInfo(api_pb2.GetSessionInfoRequest(session_key=key))
    assert info.success and not info.is_complete
    assert (info.data_source, info.identifier, info.type, info.version) == (
        data_source,
        "run 1",
        "Session",
        2,
    )
    assert dict(info.details) == {"driver": "A"}
    assert f"{data_source}:0" in info.topic_partition_offsets
    current = client.sessions.GetCurrentSessions(
        api_pb2.GetCurrentSessionsRequest(data_source=data_source)
    )
    assert current.success and set(current.session_keys) == {key, other}

    assert client.sessions.UpdateSessionIdentifier(
        api_pb2.UpdateSessionIdentifierRequest(session_key=key, identifier="run 2")
    ).success
    assert client.sessions.UpdateSessionDetails(
        api_pb2.UpdateSessionDetailsRequest(session_key=key, details={"track": "B"})
    ).success
    assert client.sessions.AddAssociateSession(
        api_pb2.AddAssociateSessionRequest(session_key=key, associate_session_key=other)
    ).success
    ended = client.sessions.EndSession(api_pb2.EndSessionRequest(session_key=key))
    assert ended.success and ended.end_session.data_source == data_source
    assert f"{data_source}:0" in ended.end_session.topic_partition_offsets
    info = client.sessions.GetSessionInfo(api_pb2.GetSessionInfoRequest(session_key=key))
    assert info.is_complete and info.identifier == "run 2"
    assert dict(info.details) == {"driver": "A", "track": "B"}
    assert list(info.associate_session_keys) == [other]
    assert not client.sessions.EndSession(api_pb2.EndSessionRequest(session_key=key)).success


def test_unknown_session_keys_answer_success_false(client: Client) -> None:
    key = str(uuid.uuid4())
    assert not client.sessions.GetSessionInfo(
        api_pb2.GetSessionInfoRequest(session_key=key)
    ).success
    assert not client.sessions.EndSession(api_pb2.EndSessionRequest(session_key=key)).success
    assert not client.sessions.UpdateSessionIdentifier(
        api_pb2.UpdateSessionIdentifierRequest(session_key=key, identifier="x")
    ).success
    assert not client.sessions.UpdateSessionDetails(
        api_pb2.UpdateSessionDetailsRequest(session_key=key, details={"a": "b"})
    ).success
    assert not client.sessions.AddAssociateSession(
        api_pb2.AddAssociateSessionRequest(session_key=key, associate_session_key=key)
    ).success


def test_a_data_source_kafka_cannot_name_is_invalid_argument(client: Client) -> None:
    with pytest.raises(grpc.RpcError) as raised:
        client.sessions.CreateSession(api_pb2.CreateSessionRequest(data_source="bad name/ds"))
    assert raised.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert "data_source" in raised.value.details()


def test_session_start_and_stop_notifications(client: Client, data_source: str) -> None:
    starts = client.sessions.GetSessionStartNotification(
        api_pb2.GetSessionStartNotificationRequest(data_source=data_source)
    )
    stops = client.sessions.GetSessionStopNotification(
        api_pb2.GetSessionStopNotificationRequest(data_source=data_source)
    )
    time.sleep(0.5)  # let both subscriptions reach the server
    create(client, "another" + data_source)
    key = create(client, data_source)
    assert client.sessions.EndSession(api_pb2.EndSessionRequest(session_key=key)).success
    started = next(iter(starts))
    stopped = next(iter(stops))
    assert (started.session_key, started.data_source) == (key, data_source)
    assert (stopped.session_key, stopped.data_source) == (key, data_source)
    starts.cancel()
    stops.cancel()


# data formats -------------------------------------------------------------------------------------
def test_data_format_ids_are_ordered_lists_reused_per_data_source(
    client: Client, data_source: str
) -> None:
    def parameter_id(*parameters: str) -> int:
        request = api_pb2.GetParameterDataFormatIdRequest(
            data_source=data_source, parameters=parameters
        )
        return int(client.formats.GetParameterDataFormatId(request).data_format_identifier)

    first = parameter_id("vCar:Chassis", "nEngine:Chassis")
    assert parameter_id("vCar:Chassis", "nEngine:Chassis") == first
    swapped = parameter_id("nEngine:Chassis", "vCar:Chassis")
    assert swapped != first
    listed = client.formats.GetParametersList(
        api_pb2.GetParametersListRequest(data_source=data_source, data_format_identifier=first)
    )
    assert list(listed.parameters) == ["vCar:Chassis", "nEngine:Chassis"]
    event_id = client.formats.GetEventDataFormatId(
        api_pb2.GetEventDataFormatIdRequest(data_source=data_source, event="Crash:Chassis")
    ).data_format_identifier
    got = client.formats.GetEvent(
        api_pb2.GetEventRequest(data_source=data_source, data_format_identifier=event_id)
    )
    assert got.event == "Crash:Chassis"
    unknown = client.formats.GetParametersList(
        api_pb2.GetParametersListRequest(data_source=data_source, data_format_identifier=12345)
    )
    assert list(unknown.parameters) == []
    with pytest.raises(grpc.RpcError) as raised:
        client.formats.GetParameterDataFormatId(
            api_pb2.GetParameterDataFormatIdRequest(data_source=data_source)
        )
    assert raised.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert "parameters" in raised.value.details()


# writing and reading ------------------------------------------------------------------------------
def _write_grpc_session(client: Client, data_source: str) -> tuple[str, dict[str, list[bytes]]]:
    """A session as the Python samples write one: NewSession on each stream, data, markers,
    EndOfSession on each stream (one client stream), then EndSession."""
    key = create(client, data_source, identifier="over grpc")
    format_id = client.formats.GetParameterDataFormatId(
        api_pb2.GetParameterDataFormatIdRequest(
            data_source=data_source, parameters=["vCar:Chassis"]
        )
    ).data_format_identifier
    new = open_data_pb2.NewSessionPacket(data_source=data_source).SerializeToString()
    end = open_data_pb2.EndOfSessionPacket(data_source=data_source).SerializeToString()
    written: dict[str, list[bytes]] = {"": [], "stream1": []}
    requests = []
    for stream in written:
        packets = [open_data_pb2.Packet(type="NewSession", session_key=key, content=new)]
        packets += [periodic(key, format_id, [float(i), float(i) + 0.5]) for i in range(5)]
        packets += [marker(key, f"{stream or 'main'}-lap")]
        packets += [open_data_pb2.Packet(type="EndOfSession", session_key=key, content=end)]
        written[stream] = [p.SerializeToString() for p in packets]
        requests.append(
            api_pb2.WriteDataPacketsRequest(
                details=[detail(data_source, key, p, stream) for p in packets]
            )
        )
    client.writer.WriteDataPackets(iter(requests))
    assert client.sessions.EndSession(api_pb2.EndSessionRequest(session_key=key)).success
    return key, written


def test_a_session_written_over_grpc_reads_through_the_official_api_and_read_session(
    client: Client, library_factory: LibraryFactory, data_source: str, strategy: Any
) -> None:
    key, written = _write_grpc_session(client, data_source)
    mappings = MAPPINGS if strategy == PARTITION_BASE else None
    library = library_factory(strategy, partition_mappings=mappings)
    _, recorder = start_reader(library, historic_configuration(data_source, session_key=key))
    recorder.wait_completed(key)
    assert recorder.packets_by_stream(key) == written
    data = read_session(key, library.broker_list, partition_mappings=mappings)
    speed = data.parameter("vCar:Chassis")
    assert len(speed.values) == 2 * 5 * 2
    assert data.complete


def test_a_session_written_through_the_official_api_reads_over_grpc(
    client: Client, library_factory: LibraryFactory, data_source: str, strategy: Any
) -> None:
    mappings = MAPPINGS if strategy == PARTITION_BASE else None
    library = library_factory(strategy, partition_mappings=mappings)
    written = write_session(
        library.session_service(),
        library.writer_service(),
        data_source,
        streams=["", "stream1"],
        count=4,
    )
    connection = connect(
        client,
        data_source,
        session_key=written.session_key,
        streams=["stream1"],
        stream_offsets=[0],
    )
    total = sum(len(packets) for packets in written.packets.values())
    responses = collect(
        client.reader.ReadPackets(api_pb2.ReadPacketsRequest(connection=connection)), total
    )
    by_stream: dict[str, list[bytes]] = {}
    for response in responses:
        by_stream.setdefault(response.stream, []).append(response.packet.SerializeToString())
        assert response.submit_time.seconds > 0
    assert by_stream == {s: [p.data for p in ps] for s, ps in written.packets.items()}
    info = client.sessions.GetSessionInfo(
        api_pb2.GetSessionInfoRequest(session_key=written.session_key)
    )
    assert info.success and info.is_complete and "stream1" in info.streams


def test_latest_offset_reads_only_what_is_written_after_the_call(
    client: Client, data_source: str
) -> None:
    key = create(client, data_source)

    def write(label: str) -> None:
        client.writer.WriteDataPacket(
            api_pb2.WriteDataPacketRequest(detail=detail(data_source, key, marker(key, label)))
        )

    for index in range(3):
        write(f"old{index}")
    earliest = connect(client, data_source, session_key=key, main_offset=0)
    latest = connect(client, data_source, session_key=key, main_offset=-1)
    # ReadEssentials makes the server's queued writes durable, so "latest" is past the old ones.
    list(client.reader.ReadEssentials(api_pb2.ReadEssentialsRequest(connection=earliest)))
    call = client.reader.ReadPackets(api_pb2.ReadPacketsRequest(connection=latest))
    # The server resolves "latest" when the call starts reading, at a moment the client cannot
    # see: new packets are written until the reader has some.
    stop = threading.Event()
    written: list[str] = []

    def keep_writing() -> None:
        while not stop.is_set() and len(written) < 200:
            written.append(f"new{len(written)}")
            write(written[-1])
            time.sleep(0.1)

    writer = threading.Thread(target=keep_writing, daemon=True)
    writer.start()
    try:
        got = labels(collect(call, 3))
    finally:
        stop.set()
        writer.join(10)
    assert len(got) == 3 and all(label.startswith("new") for label in got)
    first = written.index(got[0])
    assert got == written[first : first + 3]
    everything = labels(
        collect(
            client.reader.ReadPackets(api_pb2.ReadPacketsRequest(connection=earliest)),
            3 + len(written),
        )
    )
    assert everything == ["old0", "old1", "old2", *written]


def test_read_essentials_catches_up_and_ends(client: Client, data_source: str) -> None:
    key = create(client, data_source)
    format_id = client.formats.GetParameterDataFormatId(
        api_pb2.GetParameterDataFormatIdRequest(data_source=data_source, parameters=["a:b"])
    ).data_format_identifier
    client.writer.WriteDataPacket(
        api_pb2.WriteDataPacketRequest(
            detail=detail(data_source, key, marker(key, "config", essential=True))
        )
    )
    client.writer.WriteDataPacket(
        api_pb2.WriteDataPacketRequest(detail=detail(data_source, key, marker(key, "plain")))
    )
    connection = connect(client, data_source, essentials_offset=0)
    packets = [
        response.packet
        for message in client.reader.ReadEssentials(
            api_pb2.ReadEssentialsRequest(connection=connection), timeout=WAIT_S
        )
        for response in message.response
    ]
    assert [p.type for p in packets] == ["DataFormatDefinition", "Marker"]
    definition = open_data_pb2.DataFormatDefinitionPacket.FromString(packets[0].content)
    assert definition.identifier == format_id
    bound = connect(client, data_source, essentials_offset=0, session_key=key)
    only_session = list(
        client.reader.ReadEssentials(
            api_pb2.ReadEssentialsRequest(connection=bound), timeout=WAIT_S
        )
    )
    assert [r.packet.type for m in only_session for r in m.response] == ["Marker"]


def test_read_data_packets_filters_parameters_events_and_markers(
    client: Client, data_source: str
) -> None:
    key = create(client, data_source)

    def format_of(*parameters: str) -> int:
        return int(
            client.formats.GetParameterDataFormatId(
                api_pb2.GetParameterDataFormatIdRequest(
                    data_source=data_source, parameters=parameters
                )
            ).data_format_identifier
        )

    speed, engine, both = (
        format_of("vCar:Chassis"),
        format_of("nEngine:Chassis"),
        format_of("nEngine:Chassis", "vCar:Chassis"),
    )
    event = open_data_pb2.EventPacket(
        data_format=open_data_pb2.EventDataFormat(event_identifier="Crash:Chassis"), timestamp=1
    )
    packets = [
        periodic(key, speed, [1.0]),
        periodic(key, engine, [2.0]),
        periodic(key, both, [3.0, 4.0]),
        periodic(key, 999, [5.0]),  # an id nobody defined: dropped
        marker(key, "lap"),
        open_data_pb2.Packet(type="Event", session_key=key, content=event.SerializeToString()),
        open_data_pb2.Packet(type="EndOfSession", session_key=key, content=b""),
    ]
    client.writer.WriteDataPackets(
        iter(
            [
                api_pb2.WriteDataPacketsRequest(
                    details=[detail(data_source, key, p) for p in packets]
                )
            ]
        )
    )
    connection = connect(client, data_source, session_key=key)

    def read(**filters: Any) -> list[open_data_pb2.Packet]:
        request = api_pb2.DataPacketRequest(connection=connection, **filters)
        call = client.reader.ReadDataPackets(api_pb2.ReadDataPacketsRequest(request=request))
        return [r.packet for r in collect(call, 99, timeout=3.0)]

    kept = read(include_parameters=["^vCar"], exclude_events=[".*"])
    assert [p.content for p in kept] == [packets[0].content, packets[2].content]
    kept = read(exclude_parameters=["vCar"], include_markers=True)
    assert [p.type for p in kept] == ["PeriodicData", "PeriodicData", "Marker", "Event"]
    with pytest.raises(grpc.RpcError) as raised:
        list(
            client.reader.ReadDataPackets(
                api_pb2.ReadDataPacketsRequest(
                    request=api_pb2.DataPacketRequest(
                        connection=connection, include_parameters=["("]
                    )
                ),
                timeout=WAIT_S,
            )
        )
    assert raised.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert "include_parameters[0]" in raised.value.details()


def test_batched_responses_carry_several_packets(broker_list: str, data_source: str) -> None:
    server = start_server(broker_list, TOPIC_BASE, batching_responses=True)
    try:
        for client in client_for(server):
            key = create(client, data_source)
            client.writer.WriteDataPackets(
                iter(
                    [
                        api_pb2.WriteDataPacketsRequest(
                            details=[
                                detail(data_source, key, marker(key, str(i))) for i in range(50)
                            ]
                        )
                    ]
                )
            )
            connection = connect(client, data_source, session_key=key)
            call = client.reader.ReadPackets(api_pb2.ReadPacketsRequest(connection=connection))
            sizes: list[int] = []
            for message in call:
                sizes.append(len(message.response))
                if sum(sizes) >= 50:
                    break
            call.cancel()
            assert sum(sizes) == 50 and max(sizes) > 1
    finally:
        server.stop(1)


# bad input ----------------------------------------------------------------------------------------
def test_reading_an_unknown_or_closed_connection(client: Client, data_source: str) -> None:
    unknown = api_pb2.Connection(id=42)
    assert list(client.reader.ReadPackets(api_pb2.ReadPacketsRequest(connection=unknown))) == []
    assert (
        list(client.reader.ReadEssentials(api_pb2.ReadEssentialsRequest(connection=unknown))) == []
    )
    connection = connect(client, data_source)
    call = client.reader.ReadPackets(api_pb2.ReadPacketsRequest(connection=connection))
    time.sleep(0.5)
    assert client.connections.CloseConnection(
        api_pb2.CloseConnectionRequest(connection=connection)
    ).success
    assert list(call) == []  # the stream ends with status OK once its connection is closed


def test_bad_offsets_and_streams_are_invalid_argument(client: Client, data_source: str) -> None:
    for details, field in (
        ({"main_offset": -7}, "details.main_offset"),
        ({"streams": ["a b"], "stream_offsets": [0]}, "details.streams[0]"),
    ):
        connection = connect(client, data_source, **details)
        with pytest.raises(grpc.RpcError) as raised:
            list(client.reader.ReadPackets(api_pb2.ReadPacketsRequest(connection=connection)))
        assert raised.value.code() == grpc.StatusCode.INVALID_ARGUMENT
        assert field in raised.value.details()


def test_refused_writes_name_the_problem(client: Client, data_source: str) -> None:
    unknown = str(uuid.uuid4())
    with pytest.raises(grpc.RpcError) as raised:
        client.writer.WriteDataPacket(
            api_pb2.WriteDataPacketRequest(
                detail=detail(data_source, unknown, marker(unknown, "x"))
            )
        )
    assert raised.value.code() == grpc.StatusCode.NOT_FOUND
    assert "session_key" in raised.value.details()
    key = create(client, data_source)
    assert client.sessions.EndSession(api_pb2.EndSessionRequest(session_key=key)).success
    with pytest.raises(grpc.RpcError) as raised:
        client.writer.WriteDataPacket(
            api_pb2.WriteDataPacketRequest(detail=detail(data_source, key, marker(key, "late")))
        )
    assert raised.value.code() == grpc.StatusCode.FAILED_PRECONDITION
    live = create(client, data_source)
    untyped = open_data_pb2.Packet(session_key=live, content=b"\x01")
    with pytest.raises(grpc.RpcError) as raised:
        client.writer.WriteDataPackets(
            iter(
                [
                    api_pb2.WriteDataPacketsRequest(
                        details=[
                            detail(data_source, live, marker(live, "ok")),
                            detail(data_source, live, untyped),
                        ]
                    )
                ]
            )
        )
    assert raised.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert "1 of 2 packets" in raised.value.details() and "type" in raised.value.details()


def test_a_client_that_disconnects_mid_stream_keeps_what_it_sent(
    client: Client, data_source: str
) -> None:
    key = create(client, data_source)
    release = threading.Event()

    def requests() -> Iterator[api_pb2.WriteDataPacketsRequest]:
        for index in range(5):
            yield api_pb2.WriteDataPacketsRequest(
                details=[detail(data_source, key, marker(key, f"sent{index}"))]
            )
        release.wait(WAIT_S)

    writer = client.server.writer
    assert writer is not None
    before = writer.packets_written
    call = client.writer.WriteDataPackets.future(requests())
    wait_for(lambda: writer.packets_written - before >= 5, message="5 packets written")
    call.cancel()
    release.set()
    connection = connect(client, data_source, session_key=key)
    read = collect(client.reader.ReadPackets(api_pb2.ReadPacketsRequest(connection=connection)), 5)
    assert labels(read) == [f"sent{i}" for i in range(5)]


def test_a_reader_that_never_reads_holds_the_server_back(
    client: Client, library_factory: LibraryFactory, data_source: str, strategy: Any
) -> None:
    library = library_factory(
        strategy, partition_mappings=MAPPINGS if strategy == PARTITION_BASE else None
    )
    sessions, writer = library.session_service(), library.writer_service()
    written = write_session(sessions, writer, data_source, count=0, end=False)
    key = written.session_key
    padding = b"x" * 4000
    connection = connect(client, data_source, session_key=key)
    reader = client.server.reader
    assert reader is not None
    before = reader.records_read
    call = client.reader.ReadPackets(api_pb2.ReadPacketsRequest(connection=connection))
    total = 20_000  # 80 MB of packets, far more than gRPC's flow-control windows
    for index in range(total):
        content = open_data_pb2.MarkerPacket(label=str(index), description=padding.decode())
        data = open_data_pb2.Packet(
            type="Marker", session_key=key, content=content.SerializeToString()
        )
        assert writer.write_data(
            data_source, "", key, PacketBytes(data.SerializeToString())
        ).success
    writer.flush()
    time.sleep(2.0)
    stalled = reader.records_read - before
    assert stalled < total / 2, f"the server read {stalled} of {total} records for a stalled client"
    first = next(iter(call))
    assert first.response[0].packet.type == "NewSession"
    call.cancel()


def test_app_config_json_keys_keep_their_meaning(tmp_path: Path) -> None:
    path = tmp_path / "AppConfig.json"
    path.write_text(
        json.dumps(
            {
                "StreamCreationStrategy": 2,
                "BrokerUrl": "localhost:9092",
                "PartitionMappings": [{"Stream": "Stream1", "Partition": 1}],
                "IntegrateSessionManagement": False,
                "BatchingResponses": True,
                "StreamApiPort": 14000,
            }
        )
    )
    configuration = load_app_config(path, "embedded:")
    assert configuration.broker_list == "embedded:"
    assert configuration.stream_creation_strategy == TOPIC_BASE
    assert configuration.partition_mappings == {"Stream1": 1}
    assert not configuration.integrate_session_management
    assert configuration.batching_responses and configuration.stream_api_port == 14000
    path.write_text(json.dumps({"StreamApiPrt": 1}))
    with pytest.raises(ConfigurationError, match="StreamApiPrt"):
        load_app_config(path)


def test_session_management_not_integrated_answers_success_false(
    broker_list: str, data_source: str
) -> None:
    configuration = StreamingApiConfiguration(
        broker_list, TOPIC_BASE, [], 10, integrate_session_management=False
    )
    server = StreamApiServer(
        configuration, ServerOptions(host="127.0.0.1", port=0, key_generator_port=None)
    ).start()
    try:
        channel = grpc.insecure_channel(f"127.0.0.1:{server.port}")
        sessions = api_pb2_grpc.SessionManagementServiceStub(channel)
        assert not sessions.CreateSession(
            api_pb2.CreateSessionRequest(data_source=data_source)
        ).success
        stream = sessions.GetSessionStartNotification(
            api_pb2.GetSessionStartNotificationRequest(data_source=data_source)
        )
        assert list(stream) == []
        # As the C# server, writes are then not checked against a session registry.
        key = str(uuid.uuid4())
        api_pb2_grpc.PacketWriterServiceStub(channel).WriteDataPacket(
            api_pb2.WriteDataPacketRequest(detail=detail(data_source, key, marker(key, "free")))
        )
        channel.close()
    finally:
        server.stop(1)


def test_session_creation_and_termination_times(client: Client, data_source: str) -> None:
    before_ns = time.time_ns()
    key = create(client, data_source)
    info = client.sessions.GetSessionInfo(api_pb2.GetSessionInfoRequest(session_key=key))
    created_ns = info.creation_time.ToNanoseconds()
    assert before_ns - 1_000_000_000 <= created_ns <= time.time_ns()
    assert not info.HasField("termination_time")
    ended = client.sessions.EndSession(
        api_pb2.EndSessionRequest(data_source=data_source, session_key=key)
    )
    assert ended.success and ended.end_session.termination_time.ToNanoseconds() >= created_ns
    info = client.sessions.GetSessionInfo(api_pb2.GetSessionInfoRequest(session_key=key))
    assert info.is_complete
    assert info.creation_time.ToNanoseconds() == created_ns
    assert info.termination_time == ended.end_session.termination_time

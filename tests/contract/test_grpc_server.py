"""The Stream API gRPC server, driven through plain grpcio stubs, on both stores.

Scenarios of the C# server's integration tests (session manager, data formats, topic- and
partition-based write/read, batched read) restated against ``StreamApiServer``, plus sessions
written over gRPC read through the official API and ``read_session``, and the other way round.
"""

from __future__ import annotations

import re
import threading
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import grpc
import pytest

from ma_dataplatforms_streaming_support_library.contracts.shared.stream_api_configuration import (
    StreamingApiConfiguration,
)
from ma_dataplatforms_streaming_support_library.protos import (
    api_pb2,
    api_pb2_grpc,
    key_generator_pb2,
    key_generator_pb2_grpc,
    open_data_pb2,
)
from ma_dataplatforms_streaming_support_library.server import ServerOptions, StreamApiServer
from ma_dataplatforms_streaming_support_library.sessions.read import read_session

from .conftest import (
    MAPPINGS,
    PARTITION_BASE,
    TOPIC_BASE,
    LibraryFactory,
    envelope,
    historic_configuration,
    start_reader,
    wait_for,
    write_session,
)

WAIT_S = 20.0


@dataclass
class Client:
    """Stubs of every service on one channel, as a Stream API client program holds them."""

    server: StreamApiServer
    channel: grpc.Channel
    connections: Any
    sessions: Any
    formats: Any
    writer: Any
    reader: Any
    keys: Any


def _client(server: StreamApiServer) -> Iterator[Client]:
    channel = grpc.insecure_channel(f"127.0.0.1:{server.port}")
    key_channel = grpc.insecure_channel(f"127.0.0.1:{server.key_generator_port}")
    try:
        yield Client(
            server,
            channel,
            api_pb2_grpc.ConnectionManagerServiceStub(channel),
            api_pb2_grpc.SessionManagementServiceStub(channel),
            api_pb2_grpc.DataFormatManagerServiceStub(channel),
            api_pb2_grpc.PacketWriterServiceStub(channel),
            api_pb2_grpc.PacketReaderServiceStub(channel),
            key_generator_pb2_grpc.UniqueKeyGeneratorServiceStub(key_channel),
        )
    finally:
        channel.close()
        key_channel.close()


def _server(broker_list: str, strategy: Any, **options: Any) -> StreamApiServer:
    configuration = StreamingApiConfiguration(
        broker_list,
        strategy,
        [],
        10,
        partition_mappings=MAPPINGS if strategy == PARTITION_BASE else None,
        batching_responses=options.pop("batching_responses", False),
    )
    return StreamApiServer(
        configuration, ServerOptions(host="127.0.0.1", port=0, key_generator_port=0, **options)
    ).start()


@pytest.fixture(params=[TOPIC_BASE, PARTITION_BASE], ids=["topic", "partition"])
def strategy(request: pytest.FixtureRequest) -> Any:
    return request.param


@pytest.fixture
def client(broker_list: str, strategy: Any) -> Iterator[Client]:
    server = _server(broker_list, strategy)
    try:
        yield from _client(server)
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


def detail(
    data_source: str, session_key: str, packet: open_data_pb2.Packet, stream: str = ""
) -> api_pb2.DataPacketDetails:
    return api_pb2.DataPacketDetails(
        message=packet, data_source=data_source, stream=stream, session_key=session_key
    )


def connect(client: Client, data_source: str, **details: Any) -> api_pb2.Connection:
    response = client.connections.NewConnection(
        api_pb2.NewConnectionRequest(
            details=api_pb2.ConnectionDetails(data_source=data_source, **details)
        )
    )
    assert response.connection.id != 0
    return response.connection


def collect(call: Any, count: int, timeout: float = WAIT_S) -> list[api_pb2.PacketResponse]:
    """Read ``count`` packet responses from a server stream, then cancel it."""
    found: list[api_pb2.PacketResponse] = []
    done = threading.Event()

    def pump() -> None:
        try:
            for message in call:
                found.extend(message.response)
                if len(found) >= count:
                    break
        except grpc.RpcError as exc:
            if exc.code() != grpc.StatusCode.CANCELLED:
                raise
        finally:
            done.set()

    thread = threading.Thread(target=pump, daemon=True)
    thread.start()
    done.wait(timeout)
    call.cancel()
    thread.join(5)
    return found


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
    server = _server(broker_list, TOPIC_BASE, max_connections=3)
    try:
        for client in _client(server):
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

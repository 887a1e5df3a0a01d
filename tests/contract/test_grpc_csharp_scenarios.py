"""The C# server's session and data format integration tests, restated against our server.

Where the C# tests seed Kafka before starting the server (session packets on ``SessionInfo``,
data format definitions on ``<data source>_essential``), these write the same records through the
transport, start the server, and check what a client then sees over gRPC. The C# session keys
and ids are fixed there; here they are fresh per test, since the Kafka broker is shared by the
whole run. Packet write/read scenarios are in test_grpc_csharp_packets.py and
test_grpc_csharp_data_packets.py.
"""

from __future__ import annotations

import datetime
import json
import random
import threading
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from google.protobuf.duration_pb2 import Duration

from ma_dataplatforms_streaming_support_library.layout import ESSENTIAL_SUFFIX, SESSION_INFO_TOPIC
from ma_dataplatforms_streaming_support_library.protos import api_pb2, open_data_pb2
from ma_dataplatforms_streaming_support_library.server import StreamApiServer, load_app_config
from ma_dataplatforms_streaming_support_library.transport import Transport

from .conftest import PARTITION_BASE, TOPIC_BASE
from .grpc_rig import WAIT_S, Client, client_for, start_server

MINUS_TWO_HOURS = Duration()
MINUS_TWO_HOURS.FromTimedelta(datetime.timedelta(hours=-2))


def _envelope(kind: str, session_key: str, content: Any) -> bytes:
    return open_data_pb2.Packet(
        type=kind, session_key=session_key, content=content.SerializeToString()
    ).SerializeToString()


def _seed_ended_session(transport: Transport, data_source: str, key: str) -> list[str]:
    """The C# tests' pre-existing session on ``SessionInfo``: started (main offset 10), described,
    renamed, two associates added (one twice, the last packet twice), ended. Its associates."""
    associates = [str(uuid.uuid4()), str(uuid.uuid4())]
    packets = [
        (
            "NewSession",
            open_data_pb2.NewSessionPacket(
                data_source=data_source,
                topic_partition_offsets={f"{data_source}:0": 10},
                utc_offset=MINUS_TWO_HOURS,
            ),
        ),
        ("SessionInfo", open_data_pb2.SessionInfoPacket(type="SessionInfo", version=1)),
        ("SessionInfo", open_data_pb2.SessionInfoPacket(identifier="new_identifier")),
        ("SessionInfo", open_data_pb2.SessionInfoPacket(associate_session_keys=associates[:1])),
        ("SessionInfo", open_data_pb2.SessionInfoPacket(associate_session_keys=associates)),
        ("SessionInfo", open_data_pb2.SessionInfoPacket(associate_session_keys=associates)),
        ("EndOfSession", open_data_pb2.EndOfSessionPacket(data_source=data_source)),
    ]
    packets[1][1].data_source = data_source
    transport.create_topics({SESSION_INFO_TOPIC: 1})
    for kind, content in packets:
        transport.produce(SESSION_INFO_TOPIC, 0, key.encode(), _envelope(kind, key, content))
    transport.flush(WAIT_S)
    return associates


def _seed_definitions(transport: Transport, data_source: str, *definitions: Any) -> None:
    """Data format definitions on ``<data source>_essential``, keyed "" as the C# tests do."""
    topic = data_source + ESSENTIAL_SUFFIX
    transport.create_topics({topic: 1})
    for definition in definitions:
        transport.produce(topic, 0, b"", _envelope("DataFormatDefinition", "", definition))
    transport.flush(WAIT_S)


def _parameters_definition(identifier: int, parameters: list[str]) -> Any:
    return open_data_pb2.DataFormatDefinitionPacket(
        type=open_data_pb2.DATA_FORMAT_TYPE_PARAMETER,
        parameter_identifiers=open_data_pb2.ParameterList(parameter_identifiers=parameters),
        identifier=identifier,
    )


def _event_definition(identifier: int, event: str) -> Any:
    return open_data_pb2.DataFormatDefinitionPacket(
        type=open_data_pb2.DATA_FORMAT_TYPE_EVENT, event_identifier=event, identifier=identifier
    )


def _serving(server: StreamApiServer) -> Iterator[Client]:
    try:
        yield from client_for(server)
    finally:
        server.stop(1)


def _first_of(call: Any, found: list[Any], arrived: threading.Event) -> threading.Thread:
    def follow() -> None:
        for message in call:
            found.append(message)
            arrived.set()
            return

    thread = threading.Thread(target=follow, daemon=True)
    thread.start()
    return thread


# session management -------------------------------------------------------------------------------
def _expected_offset_keys(strategy: Any, data_source: str) -> set[str]:
    if strategy == TOPIC_BASE:
        streams = [f"{data_source}.stream1:0", f"{data_source}.stream2:0"]
    else:
        streams = [f"{data_source}:1", f"{data_source}:2"]
    return {f"{data_source}:0", f"{data_source}_essential:0", *streams}


def _session_fields(info: Any) -> tuple[Any, ...]:
    return (
        info.type,
        info.version,
        list(info.associate_session_keys),
        info.is_complete,
        info.identifier,
        info.utc_offset,
    )


@pytest.mark.parametrize("strategy", [TOPIC_BASE, PARTITION_BASE], ids=["topic", "partition"])
def test_the_session_manipulation_actions(
    broker_list: str, transport: Transport, data_source: str, strategy: Any
) -> None:
    """C#: TopicBasedSessionManagerShould.Do_The_Session_Manipulation_Actions_Properly (topic)
    and PartitionBasedSessionManagerShould.Do_The_Session_Manipulation_Actions_Properly
    (partition): an ended session is on the log before the server starts; topic-based, the two
    stream topics exist; then one session's whole life over gRPC."""
    old = str(uuid.uuid4())
    _seed_ended_session(transport, data_source, old)
    if strategy == TOPIC_BASE:
        transport.create_topics({f"{data_source}.stream1": 1, f"{data_source}.stream2": 1})
    server = start_server(broker_list, strategy, integrate_data_format_management=False)
    for client in _serving(server):
        _one_session_life(client, data_source, strategy, old)


def _one_session_life(client: Client, data_source: str, strategy: Any, old: str) -> None:
    """The C# scenario's steps after the start, ``old`` being the session seeded before it."""
    sessions = client.sessions
    current = api_pb2.GetCurrentSessionsRequest(data_source=data_source)
    assert list(sessions.GetCurrentSessions(current).session_keys) == [old]

    starts: list[Any] = []
    started = threading.Event()
    start_call = sessions.GetSessionStartNotification(
        api_pb2.GetSessionStartNotificationRequest(data_source=data_source)
    )
    _first_of(start_call, starts, started)
    created = sessions.CreateSession(
        api_pb2.CreateSessionRequest(
            data_source=data_source, type="Session", version=20, utc_offset=MINUS_TWO_HOURS
        )
    )
    assert created.success and created.new_session.data_source == data_source
    offsets = dict(created.new_session.topic_partition_offsets)
    assert set(offsets) == _expected_offset_keys(strategy, data_source)
    assert list(offsets.values()) == [0, 0, 0, 0]
    key = created.session_key
    assert uuid.UUID(key).int != 0
    assert started.wait(WAIT_S) and starts[0].session_key == key
    start_call.cancel()

    response = sessions.GetCurrentSessions(current)
    assert response.success and sorted(response.session_keys) == sorted([old, key])
    assert sessions.GetSessionInfo(api_pb2.GetSessionInfoRequest(session_key=old)).is_complete

    def info() -> Any:
        got = sessions.GetSessionInfo(api_pb2.GetSessionInfoRequest(session_key=key))
        assert got.success and got.data_source == data_source
        return got

    assert _session_fields(info()) == ("Session", 20, [], False, "", MINUS_TWO_HOURS)
    assert sessions.UpdateSessionIdentifier(
        api_pb2.UpdateSessionIdentifierRequest(session_key=key, identifier="test_identifier")
    ).success
    renamed = ("Session", 20, [], False, "test_identifier", MINUS_TWO_HOURS)
    assert _session_fields(info()) == renamed
    associate = str(uuid.uuid4())
    assert sessions.AddAssociateSession(
        api_pb2.AddAssociateSessionRequest(session_key=key, associate_session_key=associate)
    ).success
    associated = ("Session", 20, [associate], False, "test_identifier", MINUS_TWO_HOURS)
    assert _session_fields(info()) == associated

    stops: list[Any] = []
    stopped = threading.Event()
    stop_call = sessions.GetSessionStopNotification(
        api_pb2.GetSessionStopNotificationRequest(data_source=data_source)
    )
    _first_of(stop_call, stops, stopped)
    ended = sessions.EndSession(api_pb2.EndSessionRequest(session_key=key))
    assert ended.success and ended.end_session.data_source == data_source
    assert len(ended.end_session.topic_partition_offsets) == 4
    assert _session_fields(info()) == (
        "Session",
        20,
        [associate],
        True,
        "test_identifier",
        MINUS_TWO_HOURS,
    )
    assert stopped.wait(WAIT_S) and stops[0].session_key == key
    stop_call.cancel()


def test_sessions_on_the_log_before_the_start_are_served(
    broker_list: str, transport: Transport, data_source: str
) -> None:
    """C#: SessionInfoServiceShould.Read_All_Exist_Session_Related_Packets_And_Update_The_
    Repository: the repository it inspects is what GetCurrentSessions/GetSessionInfo answer, and
    its NumberOfSessions metric is our ``stream_api_sessions_total``."""
    key = str(uuid.uuid4())
    associates = _seed_ended_session(transport, data_source, key)
    server = start_server(
        broker_list, PARTITION_BASE, integrate_data_format_management=False, metrics_port=0
    )
    for client in _serving(server):
        current = client.sessions.GetCurrentSessions(
            api_pb2.GetCurrentSessionsRequest(data_source=data_source)
        )
        assert list(current.session_keys) == [key]
        info = client.sessions.GetSessionInfo(api_pb2.GetSessionInfoRequest(session_key=key))
        assert info.success and info.is_complete
        assert dict(info.topic_partition_offsets) == {f"{data_source}:0": 10}
        assert info.main_offset == 10
        assert (info.identifier, info.type, info.version) == ("new_identifier", "SessionInfo", 1)
        assert sorted(info.associate_session_keys) == sorted(associates)
        assert server.metrics is not None
        sessions_total = server.metrics.registry.get_sample_value(
            "stream_api_sessions_total", {"data_source": data_source}
        )
        assert sessions_total == 1


def test_a_server_with_session_management_starts_and_holds_the_session_info_topic(
    broker_list: str, transport: Transport
) -> None:
    """C#: SessionInfoServiceShould.Start_Properly_When_Broker_Is_Available and
    Create_Session_Info_Topic_At_Starting_When_Not_Exist. The Kafka test broker is shared by the
    run, so "not there before" is checked on the stores that are fresh per test."""
    if broker_list.startswith(("embedded:", "memory:")):
        assert SESSION_INFO_TOPIC not in transport.list_topics()
    server = start_server(broker_list, PARTITION_BASE, integrate_data_format_management=False)
    for _ in _serving(server):
        assert transport.list_topics().get(SESSION_INFO_TOPIC) == 1


# data formats -------------------------------------------------------------------------------------
def test_data_formats_on_the_log_before_the_start_are_served(
    broker_list: str, transport: Transport, data_source: str
) -> None:
    """C#: DataFormatManagerShould.Initialise_The_Data_Format_Management_Repository_With_Exist_Data
    and DataFormatInfoServiceShould.Read_All_Exist_Data_Format_Related_Packets_And_Update_The_
    Repository (its repository is what the DataFormatManagerService answers from)."""
    parameters = ["Param1", "Param2", "Param3"]
    parameter_id, event_id = random.getrandbits(63), random.getrandbits(63)
    _seed_definitions(
        transport,
        data_source,
        _parameters_definition(parameter_id, parameters),
        _event_definition(event_id, "event1"),
    )
    server = start_server(broker_list, PARTITION_BASE, integrate_session_management=False)
    for client in _serving(server):
        formats = client.formats
        assert (
            formats.GetEventDataFormatId(
                api_pb2.GetEventDataFormatIdRequest(data_source=data_source, event="event1")
            ).data_format_identifier
            == event_id
        )
        assert (
            formats.GetParameterDataFormatId(
                api_pb2.GetParameterDataFormatIdRequest(
                    data_source=data_source, parameters=parameters
                )
            ).data_format_identifier
            == parameter_id
        )
        event = formats.GetEvent(
            api_pb2.GetEventRequest(data_source=data_source, data_format_identifier=event_id)
        )
        assert event.event == "event1"
        listed = formats.GetParametersList(
            api_pb2.GetParametersListRequest(
                data_source=data_source, data_format_identifier=parameter_id
            )
        )
        assert list(listed.parameters) == parameters


def test_a_second_definition_of_a_format_adds_an_identifier(
    broker_list: str, transport: Transport, data_source: str
) -> None:
    """C#: DataFormatInfoServiceShould.Add_Identifiers_To_Exist_DataFormat_Records_Identifier_
    Exist_Data_Format_Related_Packets_And_Update_The_Repository: both identifiers of the same
    parameter list (and of the same event) resolve to it, and a lookup by name answers the first,
    as the C# DataFormatManager answers ``Identifiers[0]``."""
    parameters = ["Param1", "Param2", "Param3"]
    p1, p2, e1, e2 = (random.getrandbits(63) for _ in range(4))
    _seed_definitions(
        transport,
        data_source,
        _parameters_definition(p1, parameters),
        _event_definition(e1, "event1"),
        _parameters_definition(p2, parameters),
        _event_definition(e2, "event1"),
    )
    server = start_server(broker_list, PARTITION_BASE, integrate_session_management=False)
    for client in _serving(server):
        formats = client.formats
        for identifier in (p1, p2):
            listed = formats.GetParametersList(
                api_pb2.GetParametersListRequest(
                    data_source=data_source, data_format_identifier=identifier
                )
            )
            assert list(listed.parameters) == parameters
        for identifier in (e1, e2):
            assert (
                formats.GetEvent(
                    api_pb2.GetEventRequest(
                        data_source=data_source, data_format_identifier=identifier
                    )
                ).event
                == "event1"
            )
        by_name = formats.GetParameterDataFormatId(
            api_pb2.GetParameterDataFormatIdRequest(data_source=data_source, parameters=parameters)
        )
        assert by_name.data_format_identifier == p1
        event_by_name = formats.GetEventDataFormatId(
            api_pb2.GetEventDataFormatIdRequest(data_source=data_source, event="event1")
        )
        assert event_by_name.data_format_identifier == e1


def test_the_data_format_manipulation_actions(broker_list: str, data_source: str) -> None:
    """C#: DataFormatManagerShould.Do_The_Data_Format_Management_Manipulation_Actions_Properly"""
    server = start_server(broker_list, PARTITION_BASE, integrate_session_management=False)
    for client in _serving(server):
        formats = client.formats
        event_id = formats.GetEventDataFormatId(
            api_pb2.GetEventDataFormatIdRequest(data_source=data_source, event="NewEvent")
        ).data_format_identifier
        assert event_id > 0
        event = formats.GetEvent(
            api_pb2.GetEventRequest(data_source=data_source, data_format_identifier=event_id)
        )
        assert event.event == "NewEvent"
        parameters = ["NewParameter1", "NewParameter2"]
        parameter_id = formats.GetParameterDataFormatId(
            api_pb2.GetParameterDataFormatIdRequest(data_source=data_source, parameters=parameters)
        ).data_format_identifier
        assert parameter_id > 0
        listed = formats.GetParametersList(
            api_pb2.GetParametersListRequest(
                data_source=data_source, data_format_identifier=parameter_id
            )
        )
        assert list(listed.parameters) == parameters


def _essential_topics(transport: Transport) -> set[str]:
    return {topic for topic in transport.list_topics() if topic.endswith(ESSENTIAL_SUFFIX)}


def test_starting_creates_no_essentials_topic_and_a_new_data_source_gets_one(
    broker_list: str, transport: Transport, data_source: str
) -> None:
    """C#: DataFormatInfoServiceShould.Start_Properly_When_Broker_Is_Available,
    Not_Created_Subscriber_On_Empty_Fresh_Broker and Create_Subscriber_After_DataSource_Added:
    starting adds no ``_essential`` topic; a data source first named after the start (here by
    its first data format) gets its essentials topic and its formats are served."""
    before = _essential_topics(transport)
    server = start_server(broker_list, PARTITION_BASE, integrate_session_management=False)
    for client in _serving(server):
        assert _essential_topics(transport) == before
        identifier = client.formats.GetParameterDataFormatId(
            api_pb2.GetParameterDataFormatIdRequest(data_source=data_source, parameters=["a"])
        ).data_format_identifier
        assert _essential_topics(transport) - before == {data_source + ESSENTIAL_SUFFIX}
        listed = client.formats.GetParametersList(
            api_pb2.GetParametersListRequest(
                data_source=data_source, data_format_identifier=identifier
            )
        )
        assert list(listed.parameters) == ["a"]


# the host's configuration -------------------------------------------------------------------------
#: every property of the C# host's AppConfig.json (its HostStreamApiConfiguration), with a value
#: and the StreamingApiConfiguration attribute and value it must give
HOST_KEYS: dict[str, tuple[Any, str, Any]] = {
    "StreamCreationStrategy": (2, "stream_creation_strategy", TOPIC_BASE),
    "BrokerUrl": ("localhost:9097", "broker_list", "localhost:9097"),
    "PartitionMappings": (
        [{"Stream": "Stream1", "Partition": 1}],
        "partition_mappings",
        {"Stream1": 1},
    ),
    "StreamApiPort": (14000, "stream_api_port", 14000),
    "IntegrateSessionManagement": (False, "integrate_session_management", False),
    "IntegrateDataFormatManagement": (False, "integrate_data_format_management", False),
    "UseRemoteKeyGenerator": (True, "use_remote_key_generator", True),
    "RemoteKeyGeneratorServiceAddress": (
        "keys:15379",
        "remote_key_generator_service_address",
        "keys:15379",
    ),
    "BatchingResponses": (True, "batching_responses", True),
    "InitialisationTimeoutSeconds": (7, "initialisation_timeout_seconds", 7),
}


def test_the_host_configuration_has_every_stream_api_configuration_property(
    tmp_path: Path,
) -> None:
    """C#: HostStreamApiConfigurationShould.Have_The_Same_Properties_As_Stream_Api_Configuration:
    an AppConfig.json with every property of the C# host's configuration loads, each with its
    meaning there."""
    path = tmp_path / "AppConfig.json"
    path.write_text(json.dumps({key: value for key, (value, _, _) in HOST_KEYS.items()}))
    configuration = load_app_config(path)
    for key, (_, attribute, expected) in HOST_KEYS.items():
        assert getattr(configuration, attribute) == expected, key

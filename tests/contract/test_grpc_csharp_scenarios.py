"""The C# server's session integration tests and its host configuration test, restated.

Where the C# tests seed Kafka with session packets on ``SessionInfo`` before starting the server,
these write the same records through the transport, start the server, and check what a client
then sees over gRPC. The C# session keys are fixed there; here they are fresh per test, since
the Kafka broker is shared by the whole run. The other C# scenarios are restated in
test_grpc_csharp_packets.py, test_grpc_csharp_data_packets.py and test_grpc_csharp_formats.py.
"""

from __future__ import annotations

import datetime
import json
import threading
import uuid
from pathlib import Path
from typing import Any

import pytest
from google.protobuf.duration_pb2 import Duration

from ma_dataplatforms_streaming_support_library.layout import SESSION_INFO_TOPIC
from ma_dataplatforms_streaming_support_library.protos import api_pb2, open_data_pb2
from ma_dataplatforms_streaming_support_library.server import load_app_config
from ma_dataplatforms_streaming_support_library.transport import Transport

from .conftest import PARTITION_BASE, TOPIC_BASE
from .grpc_rig import WAIT_S, Client, packet_bytes, serving, start_server

MINUS_TWO_HOURS = Duration()
MINUS_TWO_HOURS.FromTimedelta(datetime.timedelta(hours=-2))


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
        transport.produce(SESSION_INFO_TOPIC, 0, key.encode(), packet_bytes(kind, key, content))
    transport.flush(WAIT_S)
    return associates


def _first_of(call: Any, found: list[Any], arrived: threading.Event) -> None:
    """Follow a notification stream for its first message; return once the server has the
    subscription (it sends the call's headers then), as the C# test's listener is running."""

    def follow() -> None:
        for message in call:
            found.append(message)
            arrived.set()
            return

    threading.Thread(target=follow, daemon=True).start()
    call.initial_metadata()


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
    for client in serving(server):
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
    for client in serving(server):
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
    for _ in serving(server):
        assert transport.list_topics().get(SESSION_INFO_TOPIC) == 1


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

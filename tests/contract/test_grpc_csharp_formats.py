"""The C# server's data format integration tests, restated against our server.

Where the C# tests seed Kafka with data format definitions on ``<data source>_essential`` before
starting the server, these write the same records through the transport, start the server, and
check what a client then sees over gRPC. Identifiers are fresh per test (the C# tests draw them
from their key generator).
"""

from __future__ import annotations

import random
from typing import Any

from ma_dataplatforms_streaming_support_library.layout import ESSENTIAL_SUFFIX
from ma_dataplatforms_streaming_support_library.protos import api_pb2, open_data_pb2
from ma_dataplatforms_streaming_support_library.transport import Transport

from .conftest import PARTITION_BASE
from .grpc_rig import WAIT_S, packet_bytes, serving, start_server


def _seed_definitions(transport: Transport, data_source: str, *definitions: Any) -> None:
    """Data format definitions on ``<data source>_essential``, keyed "" as the C# tests do."""
    topic = data_source + ESSENTIAL_SUFFIX
    transport.create_topics({topic: 1})
    for definition in definitions:
        transport.produce(topic, 0, b"", packet_bytes("DataFormatDefinition", "", definition))
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
    for client in serving(server):
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
    for client in serving(server):
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
    for client in serving(server):
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
    for client in serving(server):
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


def test_a_data_source_on_the_store_before_the_start_is_served(
    broker_list: str, transport: Transport, data_source: str
) -> None:
    """C#: DataFormatInfoServiceShould.Create_Subscriber_For_Existed_DataSource, in what a client
    sees: the data source's main topic exists before the start, with no essentials topic; after
    it, ReadEssentials on it ends with nothing, and its first data format is served. (The C#
    service also creates the ``_essential`` topic of every known data source at its start; ours
    creates it with the first essential packet, which no RPC can tell apart.)"""
    transport.create_topics({data_source: 1})
    server = start_server(broker_list, PARTITION_BASE, integrate_session_management=False)
    for client in serving(server):
        connection = client.connections.NewConnection(
            api_pb2.NewConnectionRequest(details=api_pb2.ConnectionDetails(data_source=data_source))
        ).connection
        essentials = client.reader.ReadEssentials(
            api_pb2.ReadEssentialsRequest(connection=connection), timeout=WAIT_S
        )
        assert [r for message in essentials for r in message.response] == []
        identifier = client.formats.GetParameterDataFormatId(
            api_pb2.GetParameterDataFormatIdRequest(data_source=data_source, parameters=["a"])
        ).data_format_identifier
        listed = client.formats.GetParametersList(
            api_pb2.GetParametersListRequest(
                data_source=data_source, data_format_identifier=identifier
            )
        )
        assert list(listed.parameters) == ["a"]

"""The C# server's TopicBasedDataPacketWriteAndReadShould, restated against our server.

As there: topic-based, streams ``AppGroup1Stream``/``AppGroup2Stream``, data format management
integrated and session management not; each scenario opens its own connection (session key: a
fresh GUID for the run, both stream offsets 0) and starts ``ReadDataPackets`` with the scenario's
filter before writing. Packets carry data formats the server hands out for this data source.
"""

from __future__ import annotations

import random
import threading
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest

from ma_dataplatforms_streaming_support_library.protos import api_pb2, open_data_pb2

from .conftest import TOPIC_BASE
from .grpc_rig import WAIT_S, Client, Listener, client_for, connect, detail, start_server

APP_GROUP_1 = "AppGroup1Stream"
APP_GROUP_2 = "AppGroup2Stream"
INCLUDED = "IncludeParameter123"
EXCLUDED = "ExcludeParameter123"
INCLUDED_EVENT = "IncludeEvents321"
EXCLUDED_EVENT = "ExcludeEvents321"
VALID = open_data_pb2.DATA_STATUS_VALID


def _samples(values: list[float]) -> open_data_pb2.DoubleSampleList:
    return open_data_pb2.DoubleSampleList(
        samples=[open_data_pb2.DoubleSample(value=v, status=VALID) for v in values]
    )


@dataclass
class Rig:
    """A server configured as the C# class does, one client, and this test's data source."""

    client: Client
    data_source: str

    def receive(self, run: str, **request: Any) -> Listener:
        """A connection for session ``run`` and a ReadDataPackets call filtered by ``request``."""
        connection = connect(
            self.client,
            self.data_source,
            session_key=run,
            stream_offsets=[0, 0],
            streams=[APP_GROUP_1, APP_GROUP_2],
        )
        data_request = api_pb2.DataPacketRequest(connection=connection, **request)
        return Listener(
            self.client.reader.ReadDataPackets(api_pb2.ReadDataPacketsRequest(request=data_request))
        )

    def write(self, run: str, kind: str, content: bytes, stream: str = "") -> None:
        packet = open_data_pb2.Packet(type=kind, session_key=run, content=content)
        self.client.writer.WriteDataPacket(
            api_pb2.WriteDataPacketRequest(detail=detail(self.data_source, run, packet, stream))
        )

    def format_of(self, parameters: list[str]) -> open_data_pb2.SampleDataFormat:
        response = self.client.formats.GetParameterDataFormatId(
            api_pb2.GetParameterDataFormatIdRequest(
                data_source=self.data_source, parameters=parameters
            )
        )
        return open_data_pb2.SampleDataFormat(
            data_format_identifier=response.data_format_identifier
        )

    def periodic(self, parameters: list[str], seed: int = 23456) -> bytes:
        draw = random.Random(seed).random
        return open_data_pb2.PeriodicDataPacket(
            data_format=self.format_of(parameters),
            start_time=1732899679000123456,
            interval=2,
            columns=[
                open_data_pb2.SampleColumn(double_samples=_samples([draw(), 100.0 * (i + 1)]))
                for i in range(len(parameters))
            ],
        ).SerializeToString()

    def row(self, parameters: list[str], seed: int = 23456) -> bytes:
        draw = random.Random(seed).random
        return open_data_pb2.RowDataPacket(
            data_format=self.format_of(parameters),
            timestamps=[1732899802000123456, 1732899902000123456],
            rows=[
                open_data_pb2.SampleRow(double_samples=_samples([draw() for _ in parameters])),
                open_data_pb2.SampleRow(
                    double_samples=_samples([10.0 * (i + 1) for i in range(len(parameters))])
                ),
            ],
        ).SerializeToString()

    def synchro(self, parameters: list[str], seed: int = 23456) -> bytes:
        draw = random.Random(seed).random
        return open_data_pb2.SynchroDataPacket(
            data_format=self.format_of(parameters),
            start_time=1732899679000123456,
            intervals=[500, 450],
            columns=[
                open_data_pb2.SampleColumn(
                    double_samples=_samples([draw(), 100.0 * (i + 1), 10.0 * (i + 1)])
                )
                for i in range(len(parameters))
            ],
        ).SerializeToString()

    def event(self, name: str) -> bytes:
        response = self.client.formats.GetEventDataFormatId(
            api_pb2.GetEventDataFormatIdRequest(data_source=self.data_source, event=name)
        )
        return open_data_pb2.EventPacket(
            data_format=open_data_pb2.EventDataFormat(
                data_format_identifier=response.data_format_identifier
            ),
            timestamp=1732898779000123456,
            raw_values=[209.4, 325.3, 0.0],
        ).SerializeToString()


MARKER = open_data_pb2.MarkerPacket(
    timestamp=1732898780000123456, label="Test Marker", type="Lap", value=1
).SerializeToString()


@pytest.fixture
def rig(broker_list: str, data_source: str) -> Iterator[Rig]:
    server = start_server(
        broker_list,
        TOPIC_BASE,
        partition_mappings={APP_GROUP_1: 1, APP_GROUP_2: 2},
        integrate_session_management=False,
    )
    try:
        for client in client_for(server):
            yield Rig(client, data_source)
    finally:
        server.stop(1)


def _arrives(listener: Listener, content: bytes, stream: str = APP_GROUP_1) -> bool:
    return listener.wait_until(
        lambda found: any(r.packet.content == content and r.stream == stream for r in found)
    )


def _delivered(listener: Listener, content: bytes) -> bool:
    return any(r.packet.content == content for r in listener.responses())


def _one_kind_on_a_stream(rig: Rig, kind: str, content: bytes, stream: str) -> None:
    run = str(uuid.uuid4())
    listener = rig.receive(run)
    rig.write(run, kind, content, stream)
    assert listener.wait_until(
        lambda found: any(
            r.stream == stream
            and r.packet.session_key == run
            and r.packet.type == kind
            and r.packet.content == content
            for r in found
        )
    )
    listener.cancel()


def _only_the_included_arrives(
    rig: Rig, kind: str, included: bytes, excluded: bytes, **request: Any
) -> None:
    """The C# filter scenarios: the excluded packet is written first, then the included one; the
    included one arrives and the excluded one never does."""
    run = str(uuid.uuid4())
    listener = rig.receive(run, **request)
    rig.write(run, kind, excluded, APP_GROUP_1)
    rig.write(run, kind, included, APP_GROUP_1)
    assert _arrives(listener, included)
    listener.cancel()
    assert not _delivered(listener, excluded)
    assert listener.error is None


def test_one_periodic_packet_on_app_group_1_stream(rig: Rig) -> None:
    """C#: TopicBasedDataPacketWriteAndReadShould.
    Publish_One_PeriodicDataPacket_Using_AppGroup1Stream_And_SessionKey_To_AppStream1_Topic"""
    _one_kind_on_a_stream(rig, "PeriodicData", rig.periodic(["IncludeParameter"]), APP_GROUP_1)


def test_one_synchro_packet_on_app_group_2_stream(rig: Rig) -> None:
    """C#: TopicBasedDataPacketWriteAndReadShould.
    Publish_One_SynchroDataPacket_Using_AppGroup2Stream_And_SessionKey_To_AppStream2_Topic"""
    _one_kind_on_a_stream(rig, "SynchroData", rig.synchro(["IncludeParameter"]), APP_GROUP_2)


def test_one_row_packet_on_app_group_2_stream(rig: Rig) -> None:
    """C#: TopicBasedDataPacketWriteAndReadShould.
    Publish_One_RowDataPacket_Using_AppGroup2Stream_And_SessionKey_To_AppStream2_Topic"""
    _one_kind_on_a_stream(rig, "RowData", rig.row(["IncludeParameter"]), APP_GROUP_2)


def test_data_packets_arrive_on_the_stream_they_were_written_to(rig: Rig) -> None:
    """C#: TopicBasedDataPacketWriteAndReadShould.
    Publish_DataPackets_With_SessionKey_To_Specified_Topic_Based_on_Stream"""
    run = str(uuid.uuid4())
    listener = rig.receive(run)
    written = [
        ("RowData", rig.row(["IncludeParameter"], 1001), APP_GROUP_1),
        ("RowData", rig.row(["IncludeParameter"], 1002), APP_GROUP_2),
        ("PeriodicData", rig.periodic(["IncludeParameter"], 1003), ""),
    ]
    for kind, content, stream in written:
        rig.write(run, kind, content, stream)
    assert all(_arrives(listener, content, stream) for _, content, stream in written)
    listener.cancel()


def test_data_of_another_session_key_is_not_delivered(rig: Rig) -> None:
    """C#: TopicBasedDataPacketWriteAndReadShould.
    When_Publish_Data_With_Different_SessionKey_Than_The_Receive_SessionKey_The_Data_Should_
    Net_Be_Delivered"""
    run = str(uuid.uuid4())
    listener = rig.receive(run)
    content = rig.periodic(["IncludeParameter"], 4001)
    rig.write("unknown", "PeriodicData", content)
    rig.write(run, "PeriodicData", content, APP_GROUP_1)
    assert _arrives(listener, content)
    listener.cancel()
    assert not any(r.packet.session_key == "unknown" for r in listener.responses())


def test_1000_periodic_packets_of_one_write_stream_are_all_delivered(rig: Rig) -> None:
    """C#: TopicBasedDataPacketWriteAndReadShould.
    When_Publish_1000_Data_Using_WriteStream_And_SessionKey_All_Messages_Should_Be_Delivered
    (the write stream stays open until the reader has every packet, as there)."""
    run = str(uuid.uuid4())
    listener = rig.receive(run)
    streams = ["", APP_GROUP_1, APP_GROUP_2]
    seeds = random.Random(7)
    requests = [
        api_pb2.WriteDataPacketsRequest(
            details=[
                detail(
                    rig.data_source,
                    run,
                    open_data_pb2.Packet(
                        type="PeriodicData",
                        session_key=run,
                        content=rig.periodic(["IncludeParameter"], seeds.randrange(2**31)),
                    ),
                    streams[i % 3],
                )
            ]
        )
        for i in range(1000)
    ]
    delivered = threading.Event()

    def send() -> Iterator[api_pb2.WriteDataPacketsRequest]:
        yield from requests
        delivered.wait(WAIT_S)

    future = rig.client.writer.WriteDataPackets.future(send())
    got_all = listener.wait_until(lambda found: len(found) >= 1000)
    delivered.set()
    future.result(timeout=WAIT_S)
    listener.cancel()
    assert got_all and sum(r.packet.session_key == run for r in listener.responses()) == 1000


def test_one_event_packet_on_app_group_1_stream(rig: Rig) -> None:
    """C#: TopicBasedDataPacketWriteAndReadShould.
    Publish_One_EventPacket_Using_AppGroup1Stream_And_SessionKey_To_AppStream1_Topic"""
    _one_kind_on_a_stream(rig, "Event", rig.event("IncludeEvent"), APP_GROUP_1)


def test_one_marker_packet_arrives_with_include_markers(rig: Rig) -> None:
    """C#: TopicBasedDataPacketWriteAndReadShould.
    Publish_One_MarkerPacket_Using_AppGroup1Stream_And_SessionKey_To_AppStream1_Topic"""
    run = str(uuid.uuid4())
    listener = rig.receive(run, include_markers=True)
    rig.write(run, "Marker", MARKER, APP_GROUP_1)
    assert listener.wait_until(
        lambda found: any(
            r.stream == APP_GROUP_1 and r.packet.type == "Marker" and r.packet.content == MARKER
            for r in found
        )
    )
    listener.cancel()


def test_a_marker_packet_is_not_delivered_without_include_markers(rig: Rig) -> None:
    """C#: TopicBasedDataPacketWriteAndReadShould.
    Publish_One_MarkerPacket_And_Not_Be_Delivered_When_IncludeMarkers_Is_Set_To_False"""
    run = str(uuid.uuid4())
    listener = rig.receive(run, include_markers=False)
    periodic = rig.periodic(["IncludeParameter"], 4001)
    rig.write(run, "Marker", MARKER, APP_GROUP_1)
    rig.write(run, "PeriodicData", periodic)
    assert _arrives(listener, periodic, "")
    listener.cancel()
    assert not any(r.packet.type == "Marker" for r in listener.responses())


def test_only_periodic_packets_of_included_parameters(rig: Rig) -> None:
    """C#: TopicBasedDataPacketWriteAndReadShould.
    Only_Deliver_Periodic_Packets_Filtered_By_IncludeParameters"""
    included, excluded = rig.periodic([INCLUDED], 4001), rig.periodic([EXCLUDED], 4002)
    _only_the_included_arrives(
        rig, "PeriodicData", included, excluded, include_parameters=[INCLUDED]
    )


def test_only_row_packets_of_included_parameters(rig: Rig) -> None:
    """C#: TopicBasedDataPacketWriteAndReadShould.
    Only_Deliver_Row_Packets_Filtered_By_IncludeParameters"""
    included, excluded = rig.row([INCLUDED], 4001), rig.row([EXCLUDED], 4002)
    _only_the_included_arrives(rig, "RowData", included, excluded, include_parameters=[INCLUDED])


def test_only_synchro_packets_of_included_parameters(rig: Rig) -> None:
    """C#: TopicBasedDataPacketWriteAndReadShould.
    Only_Deliver_Synchro_Packets_Filtered_By_IncludeParameters"""
    included, excluded = rig.synchro([INCLUDED], 4001), rig.synchro([EXCLUDED], 4002)
    _only_the_included_arrives(
        rig, "SynchroData", included, excluded, include_parameters=[INCLUDED]
    )


def test_only_periodic_packets_of_parameters_not_excluded(rig: Rig) -> None:
    """C#: TopicBasedDataPacketWriteAndReadShould.
    Only_Deliver_Periodic_Packets_Not_Filtered_By_ExcludeParameters"""
    included, excluded = rig.periodic([INCLUDED], 4001), rig.periodic([EXCLUDED], 4002)
    _only_the_included_arrives(
        rig, "PeriodicData", included, excluded, exclude_parameters=[EXCLUDED]
    )


def test_only_row_packets_of_parameters_not_excluded(rig: Rig) -> None:
    """C#: TopicBasedDataPacketWriteAndReadShould.
    Only_Deliver_Row_Packets_Not_Filtered_By_ExcludeParameters"""
    included, excluded = rig.row([INCLUDED], 4001), rig.row([EXCLUDED], 4002)
    _only_the_included_arrives(rig, "RowData", included, excluded, exclude_parameters=[EXCLUDED])


def test_only_synchro_packets_of_parameters_not_excluded(rig: Rig) -> None:
    """C#: TopicBasedDataPacketWriteAndReadShould.
    Only_Deliver_Synchro_Packets_Not_Filtered_By_ExcludeParameters"""
    included, excluded = rig.synchro([INCLUDED], 4001), rig.synchro([EXCLUDED], 4002)
    _only_the_included_arrives(
        rig, "SynchroData", included, excluded, exclude_parameters=[EXCLUDED]
    )


def test_only_event_packets_of_included_events(rig: Rig) -> None:
    """C#: TopicBasedDataPacketWriteAndReadShould.
    Only_Deliver_Event_Packets_Filtered_By_IncludeEvents"""
    included, excluded = rig.event(INCLUDED_EVENT), rig.event(EXCLUDED_EVENT)
    _only_the_included_arrives(rig, "Event", included, excluded, include_events=[INCLUDED_EVENT])


def test_only_event_packets_of_events_not_excluded(rig: Rig) -> None:
    """C#: TopicBasedDataPacketWriteAndReadShould.
    Only_Deliver_Event_Packets_Not_Filtered_By_ExcludeEvents"""
    included, excluded = rig.event(INCLUDED_EVENT), rig.event(EXCLUDED_EVENT)
    _only_the_included_arrives(rig, "Event", included, excluded, exclude_events=[EXCLUDED_EVENT])


def test_the_exclude_list_wins_over_the_include_list(rig: Rig) -> None:
    """C#: TopicBasedDataPacketWriteAndReadShould.
    Prioritising_Exclude_List_And_Deliver_Periodic_Packets_Filtered"""
    included, excluded = rig.periodic([INCLUDED], 4001), rig.periodic([EXCLUDED], 4002)
    _only_the_included_arrives(
        rig,
        "PeriodicData",
        included,
        excluded,
        include_parameters=[INCLUDED, EXCLUDED],
        exclude_parameters=[EXCLUDED],
    )


def test_a_packet_with_included_and_excluded_parameters_is_delivered(rig: Rig) -> None:
    """C#: TopicBasedDataPacketWriteAndReadShould.
    Still_Include_Periodic_Packet_If_Parameters_In_Both_Include_And_Exclude_List"""
    run = str(uuid.uuid4())
    listener = rig.receive(run, include_parameters=[INCLUDED], exclude_parameters=[EXCLUDED])
    content = rig.periodic([INCLUDED, EXCLUDED], 4001)
    rig.write(run, "PeriodicData", content, APP_GROUP_1)
    assert _arrives(listener, content)
    listener.cancel()

"""The C# server's packet write/read integration tests, restated against our server.

Four C# classes run the same scenarios on four server configurations; here one fixture runs
each scenario on all four (ids ``topic``, ``topic-batched``, ``partition``,
``partition-batched``), and each test's docstring names its C# method in each class:

- ``topic``: TopicBasedPacketWriteAndReadShould
- ``topic-batched``: TopicBasedPacketWriteAndBatchReadShould
- ``partition``: PartitionBasedPacketWriteAndReadShould
- ``partition-batched``: PartitionBasedPacketWriteAndBatchReadShould

As there: streams ``AppGroup1Stream``/``AppGroup2Stream`` (partitions 1 and 2), session and data
format management not integrated, one read connection per class with the classes' odd session
key (a leading space), both stream offsets 0, and ``ReadPackets`` started before anything is
written. Each packet's own ``session_key`` is a fresh GUID per test, which is how a scenario
finds its packets; the connection filters on the record key (``DataPacketDetails.session_key``).
"""

from __future__ import annotations

import os
import threading
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest

from ma_dataplatforms_streaming_support_library.protos import api_pb2, open_data_pb2

from .conftest import PARTITION_BASE, TOPIC_BASE
from .grpc_rig import WAIT_S, Client, Listener, client_for, connect, start_server

APP_GROUP_1 = "AppGroup1Stream"
APP_GROUP_2 = "AppGroup2Stream"
SAMPLE_TYPE = "SampleType"
VARIANTS = {
    "topic": (TOPIC_BASE, False, " TopicBasedPacketWriteAndBatchReadShould_Session_Key"),
    "topic-batched": (TOPIC_BASE, True, " TopicBasedPacketWriteAndBatchReadShould_Session_Key"),
    "partition": (PARTITION_BASE, False, " PartitionBasedPacketWriteAndReadShould_Session_Key"),
    "partition-batched": (
        PARTITION_BASE,
        True,
        " PartitionBasedPacketWriteAndBatchReadShould_Session_Key",
    ),
}


@dataclass
class Rig:
    """A server as the C# class configures it, its read connection and the running ReadPackets."""

    client: Client
    data_source: str
    session_key: str
    connection: api_pb2.Connection
    listener: Listener

    def packet(
        self, run: str, content: bytes, stream: str = "", *, kind: str = SAMPLE_TYPE, **extra: Any
    ) -> api_pb2.DataPacketDetails:
        """A write of ``content`` on ``stream`` for this class's session key, tagged ``run``."""
        message = open_data_pb2.Packet(
            content=content, session_key=run, type=kind, is_essential=extra.get("essential", False)
        )
        return api_pb2.DataPacketDetails(
            data_source=self.data_source,
            stream=stream,
            message=message,
            session_key=extra.get("session_key", self.session_key),
        )

    def write(self, *details: api_pb2.DataPacketDetails) -> None:
        for item in details:
            self.client.writer.WriteDataPacket(api_pb2.WriteDataPacketRequest(detail=item))

    def arrives(self, run: str, content: bytes, stream: str, **packet: Any) -> bool:
        """Whether ReadPackets delivers ``content`` of run ``run`` on ``stream`` in time."""

        def found(responses: list[api_pb2.PacketResponse]) -> bool:
            return any(
                r.stream == stream
                and r.packet.session_key == run
                and r.packet.type == packet.get("kind", SAMPLE_TYPE)
                and r.packet.content == content
                and r.packet.is_essential == packet.get("essential", False)
                for r in responses
            )

        return self.listener.wait_until(found)

    def count(self, run: str) -> int:
        return sum(r.packet.session_key == run for r in self.listener.responses())


def _rig(variant: str, broker_list: str, data_source: str) -> Iterator[Rig]:
    strategy, batching, session_key = VARIANTS[variant]
    server = start_server(
        broker_list,
        strategy,
        partition_mappings={APP_GROUP_1: 1, APP_GROUP_2: 2},
        integrate_session_management=False,
        integrate_data_format_management=False,
        batching_responses=batching,
    )
    try:
        for client in client_for(server):
            connection = connect(
                client,
                data_source,
                session_key=session_key,
                stream_offsets=[0, 0],
                streams=[APP_GROUP_1, APP_GROUP_2],
                exclude_main_stream=False,
            )
            call = client.reader.ReadPackets(api_pb2.ReadPacketsRequest(connection=connection))
            listener = Listener(call)
            try:
                yield Rig(client, data_source, session_key, connection, listener)
            finally:
                listener.cancel()
            assert listener.error is None, listener.error
    finally:
        server.stop(1)


@pytest.fixture(params=list(VARIANTS))
def rig(request: pytest.FixtureRequest, broker_list: str, data_source: str) -> Iterator[Rig]:
    yield from _rig(request.param, broker_list, data_source)


@pytest.fixture(params=["partition", "partition-batched"])
def partition_rig(
    request: pytest.FixtureRequest, broker_list: str, data_source: str
) -> Iterator[Rig]:
    yield from _rig(request.param, broker_list, data_source)


def _run() -> str:
    return str(uuid.uuid4())


def _thousand(rig: Rig, run: str, *, essential: bool) -> list[api_pb2.WriteDataPacketsRequest]:
    """1000 one-packet requests cycling main stream, AppGroup1Stream, AppGroup2Stream."""
    streams = ["", APP_GROUP_1, APP_GROUP_2]
    return [
        api_pb2.WriteDataPacketsRequest(
            details=[
                rig.packet(run, os.urandom(3), streams[i % 3], kind=str(i), essential=essential)
            ]
        )
        for i in range(1000)
    ]


def _stream_while_reading(rig: Rig, requests: list[Any], run: str) -> bool:
    """Send ``requests`` on one WriteDataPackets call that stays open until ReadPackets has them
    all (as the C# test, which never completes its write stream); whether it got them in time."""
    delivered = threading.Event()

    def send() -> Iterator[Any]:
        yield from requests
        delivered.wait(WAIT_S)

    future = rig.client.writer.WriteDataPackets.future(send())
    got_all = rig.listener.wait_until(
        lambda found: sum(r.packet.session_key == run for r in found) >= len(requests)
    )
    delivered.set()
    future.result(timeout=WAIT_S)
    return got_all


def _essentials_of(rig: Rig, connection: api_pb2.Connection, run: str) -> int:
    """Packets of run ``run`` that ReadEssentials on ``connection`` delivers before it ends."""
    call = rig.client.reader.ReadEssentials(
        api_pb2.ReadEssentialsRequest(connection=connection), timeout=WAIT_S
    )
    return sum(r.packet.session_key == run for message in call for r in message.response)


def test_one_packet_on_app_group_1_stream_arrives_on_it(rig: Rig) -> None:
    """C#: Publish_One_DataPacket_Using_AppGroup1Stream_And_SessionKey_To_AppStream1_Topic
    (TopicBasedPacketWriteAndReadShould, TopicBasedPacketWriteAndBatchReadShould);
    Publish_One_DataPacket_Using_AppGroup1Stream_And_SessionKey_To_Partition_One
    (PartitionBasedPacketWriteAndReadShould, PartitionBasedPacketWriteAndBatchReadShould)."""
    run = _run()
    rig.write(rig.packet(run, bytes([1, 2, 3]), APP_GROUP_1))
    assert rig.arrives(run, bytes([1, 2, 3]), APP_GROUP_1)


def test_one_packet_on_app_group_2_stream_arrives_on_it(rig: Rig) -> None:
    """C#: Publish_One_DataPacket_Using_AppGroup2Stream_And_SessionKey_To_AppStream2_Topic
    (TopicBasedPacketWriteAndReadShould, TopicBasedPacketWriteAndBatchReadShould);
    Publish_One_DataPacket_Using_AppGroup2Stream_And_SessionKey_To_Partition_Two
    (PartitionBasedPacketWriteAndReadShould, PartitionBasedPacketWriteAndBatchReadShould)."""
    run = _run()
    rig.write(rig.packet(run, bytes([4, 5, 6]), APP_GROUP_2))
    assert rig.arrives(run, bytes([4, 5, 6]), APP_GROUP_2)


def test_one_packet_without_stream_arrives_on_the_main_stream(rig: Rig) -> None:
    """C#: Publish_One_DataPacket_Using_Empty_Stream_And_SessionKey_To_MainDataSource_Topic
    (TopicBasedPacketWriteAndReadShould, TopicBasedPacketWriteAndBatchReadShould);
    Publish_One_DataPacket_With_SessionKey_Without_Stream_To_Partition_Zero
    (PartitionBasedPacketWriteAndReadShould, PartitionBasedPacketWriteAndBatchReadShould)."""
    run = _run()
    rig.write(rig.packet(run, bytes([10, 11, 12])))
    assert rig.arrives(run, bytes([10, 11, 12]), "")


def test_one_packet_on_an_unmapped_stream_arrives_on_the_main_stream(
    partition_rig: Rig,
) -> None:
    """C#: Publish_One_DataPacket_Using_UnknownStream_And_SessionKey_To_Partition_Zero
    (PartitionBasedPacketWriteAndReadShould, PartitionBasedPacketWriteAndBatchReadShould).
    Partition-based only: topic-based, an unknown stream is a topic the connection does not read."""
    run = _run()
    partition_rig.write(partition_rig.packet(run, bytes([7, 8, 9]), "Unknown"))
    assert partition_rig.arrives(run, bytes([7, 8, 9]), "")


def test_packets_arrive_on_the_stream_they_were_written_to(rig: Rig) -> None:
    """C#: Publish_DataPackets_With_SessionKey_To_Specified_Topic_Based_on_Stream
    (TopicBasedPacketWriteAndReadShould, TopicBasedPacketWriteAndBatchReadShould);
    Publish_DataPackets_With_SessionKey_To_Specified_Partition_Based_on_Stream
    (PartitionBasedPacketWriteAndReadShould, PartitionBasedPacketWriteAndBatchReadShould)."""
    run = _run()
    written = {
        APP_GROUP_1: bytes([13, 14, 15]),
        APP_GROUP_2: bytes([16, 17, 18]),
        "": bytes([19, 20, 21]),
    }
    rig.write(*(rig.packet(run, content, stream) for stream, content in written.items()))
    assert all(rig.arrives(run, content, stream) for stream, content in written.items())


def test_packets_of_another_session_key_are_not_delivered(rig: Rig) -> None:
    """C#: When_Publish_Data_With_Different_SessionKey_Than_The_Receive_SessionKey_The_Data_
    Should_Net_Be_Delivered (all four classes)."""
    run = _run()
    content = bytes([22, 23, 24])
    rig.write(
        rig.packet("unknown", content, session_key="unknown"),
        rig.packet(run, content, APP_GROUP_1),
    )
    assert rig.arrives(run, content, APP_GROUP_1)
    assert rig.count("unknown") == 0


def test_1000_packets_of_one_write_stream_are_all_delivered(rig: Rig) -> None:
    """C#: When_Publish_1000_Data_Using_WriteStream_And_SessionKey_All_Messages_Should_Be_
    Delivered (all four classes)."""
    run = _run()
    assert _stream_while_reading(rig, _thousand(rig, run, essential=False), run)
    assert rig.count(run) == 1000


def test_an_essential_packet_arrives_on_its_stream_and_in_read_essentials(rig: Rig) -> None:
    """C#: Publish_One_Essential_DataPacket_Read_All_Essentials_Should_Deliver_It_And_Packet_
    Should_Be_Received_On_Defined_DataSource_Stream_Too (all four classes)."""
    run = _run()
    rig.write(rig.packet(run, bytes([1, 2, 3]), APP_GROUP_1, essential=True))
    assert rig.arrives(run, bytes([1, 2, 3]), APP_GROUP_1, essential=True)
    assert _essentials_of(rig, rig.connection, run) == 1


def test_1000_essential_packets_arrive_on_their_streams_and_in_read_essentials(
    rig: Rig,
) -> None:
    """C#: Publish_1000_Essential_DataPacket_Read_All_Essentials_Should_Deliver_All_And_Packet_
    Should_Be_Received_On_Defined_DataSource_Stream_Too (all four classes); ReadEssentials runs
    on a second connection opened afterwards, as there."""
    run = _run()
    assert _stream_while_reading(rig, _thousand(rig, run, essential=True), run)
    assert rig.count(run) == 1000
    second = connect(
        rig.client,
        rig.data_source,
        session_key=rig.session_key,
        stream_offsets=[0, 0],
        streams=[APP_GROUP_1, APP_GROUP_2],
        exclude_main_stream=False,
    )
    assert _essentials_of(rig, second, run) == 1000

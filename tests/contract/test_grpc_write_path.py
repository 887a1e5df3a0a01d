"""The write path of the gRPC server: the packets of each request of a client stream are written
as one batch (``write_data_batch``), each checked as ``write_data`` checks it."""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterator

import grpc
import pytest

from ma_dataplatforms_streaming_support_library.protos import api_pb2, open_data_pb2

from .conftest import TOPIC_BASE
from .grpc_rig import Client, collect, connect, detail, serving, start_server


@pytest.fixture
def client(broker_list: str) -> Iterator[Client]:
    yield from serving(start_server(broker_list, TOPIC_BASE))


def create(client: Client, data_source: str) -> str:
    response = client.sessions.CreateSession(api_pb2.CreateSessionRequest(data_source=data_source))
    assert response.success
    return str(response.session_key)


def marker(session_key: str, label: str) -> open_data_pb2.Packet:
    content = open_data_pb2.MarkerPacket(timestamp=time.time_ns(), label=label, type="Lap")
    return open_data_pb2.Packet(
        type="Marker", session_key=session_key, content=content.SerializeToString()
    )


def read_labels(client: Client, data_source: str, key: str, count: int) -> list[str]:
    connection = connect(client, data_source, session_key=key)
    read = collect(
        client.reader.ReadPackets(api_pb2.ReadPacketsRequest(connection=connection)), count
    )
    return [
        open_data_pb2.MarkerPacket.FromString(r.packet.content).label
        for r in read
        if r.packet.type == "Marker"
    ]


def test_a_long_stream_of_batches_is_written_in_order(client: Client, data_source: str) -> None:
    key = create(client, data_source)
    labels = [f"m{index}" for index in range(240)]
    client.writer.WriteDataPackets(
        iter(
            api_pb2.WriteDataPacketsRequest(
                details=[
                    detail(data_source, key, marker(key, label)) for label in labels[i : i + 3]
                ]
            )
            for i in range(0, len(labels), 3)
        )
    )
    assert read_labels(client, data_source, key, len(labels) + 1) == labels
    writer = client.server.writer
    assert writer is not None and writer.packets_written >= len(labels)


def test_refusals_across_requests_are_counted_and_the_rest_is_written(
    client: Client, data_source: str
) -> None:
    key = create(client, data_source)
    unknown = str(uuid.uuid4())
    untyped = open_data_pb2.Packet(session_key=key, content=b"\x01")
    requests = [
        api_pb2.WriteDataPacketsRequest(
            details=[detail(data_source, key, marker(key, "a")), detail(data_source, key, untyped)]
        ),
        api_pb2.WriteDataPacketsRequest(details=[detail(data_source, key, marker(key, "b"))]),
        api_pb2.WriteDataPacketsRequest(
            details=[
                detail(data_source, unknown, marker(unknown, "lost")),
                detail(data_source, key, marker(key, "c")),
            ]
        ),
    ]
    with pytest.raises(grpc.RpcError) as raised:
        client.writer.WriteDataPackets(iter(requests))
    assert raised.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert raised.value.details().startswith("2 of 5 packets were not written; first: ")
    assert "type" in raised.value.details()
    assert read_labels(client, data_source, key, 4) == ["a", "b", "c"]

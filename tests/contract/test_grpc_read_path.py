"""Reads through the Stream API server's producer threads, with a default grpcio client: batched
responses stay small enough for the client, and a read that ends leaves no thread behind."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from pathlib import Path

import grpc
import pytest

from ma_dataplatforms_streaming_support_library.contracts.shared.stream_api_configuration import (
    StreamingApiConfiguration,
)
from ma_dataplatforms_streaming_support_library.protos import api_pb2, api_pb2_grpc, open_data_pb2
from ma_dataplatforms_streaming_support_library.server import ServerOptions, StreamApiServer
from ma_dataplatforms_streaming_support_library.server.encoding import MAX_BATCH_BYTES

from .conftest import TOPIC_BASE

#: the largest message a grpcio client takes unless told otherwise
CLIENT_RECEIVE_LIMIT = 4 * 1024 * 1024


@pytest.fixture(params=[False, True], ids=["unbatched", "batched"])
def server(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[StreamApiServer]:
    configuration = StreamingApiConfiguration(
        f"embedded:{tmp_path / 's.db'}", TOPIC_BASE, [], 10, batching_responses=request.param
    )
    started = StreamApiServer(
        configuration, ServerOptions(host="127.0.0.1", port=0, key_generator_port=None)
    ).start()
    yield started
    started.stop(1)


def _write_markers(channel: grpc.Channel, data_source: str, sizes: list[int]) -> str:
    key = (
        api_pb2_grpc.SessionManagementServiceStub(channel)
        .CreateSession(api_pb2.CreateSessionRequest(data_source=data_source))
        .session_key
    )
    writer = api_pb2_grpc.PacketWriterServiceStub(channel)
    for index, size in enumerate(sizes):
        packet = open_data_pb2.Packet(type="Marker", session_key=key, id=index, content=b"m" * size)
        writer.WriteDataPacket(
            api_pb2.WriteDataPacketRequest(
                detail=api_pb2.DataPacketDetails(
                    message=packet, data_source=data_source, session_key=key
                )
            )
        )
    return key


def _read(channel: grpc.Channel, data_source: str, key: str, count: int) -> list[list[int]]:
    """The packet ids of each response of a ReadPackets call, until ``count`` Markers came."""
    connection = (
        api_pb2_grpc.ConnectionManagerServiceStub(channel)
        .NewConnection(
            api_pb2.NewConnectionRequest(
                details=api_pb2.ConnectionDetails(data_source=data_source, session_key=key)
            )
        )
        .connection
    )
    call = api_pb2_grpc.PacketReaderServiceStub(channel).ReadPackets(
        api_pb2.ReadPacketsRequest(connection=connection), timeout=60
    )
    responses: list[list[int]] = []
    for response in call:
        responses.append([item.packet.id for item in response.response])
        if sum(len(ids) for ids in responses) >= count:
            break
    call.cancel()
    return responses


def _read_threads() -> list[threading.Thread]:
    return [thread for thread in threading.enumerate() if thread.name == "ma-streaming-read"]


def test_large_packets_reach_a_default_client_in_order(
    server: StreamApiServer, data_source: str
) -> None:
    # 24 packets of 300 KB: 7 MB, more than a client takes in one message.
    sizes = [300_000] * 24
    with grpc.insecure_channel(f"127.0.0.1:{server.port}") as channel:
        key = _write_markers(channel, data_source, sizes)
        responses = _read(channel, data_source, key, len(sizes))
    assert [ident for ids in responses for ident in ids] == list(range(len(sizes)))
    if server.configuration.batching_responses:
        assert max(len(ids) for ids in responses) > 1
        assert all(len(ids) * 300_000 <= MAX_BATCH_BYTES for ids in responses)
        assert MAX_BATCH_BYTES < CLIENT_RECEIVE_LIMIT
    else:
        assert {len(ids) for ids in responses} == {1}


def test_an_ended_read_leaves_no_producer_thread(server: StreamApiServer, data_source: str) -> None:
    with grpc.insecure_channel(f"127.0.0.1:{server.port}") as channel:
        key = _write_markers(channel, data_source, [10] * 5)
        assert len([ident for ids in _read(channel, data_source, key, 5) for ident in ids]) == 5
    deadline = time.monotonic() + 10
    while _read_threads() and time.monotonic() < deadline:
        time.sleep(0.05)
    assert _read_threads() == []
    assert server.reader is not None and server.reader.records_read >= 5


def test_a_session_read_by_key_skips_the_sessions_before_it(
    server: StreamApiServer, data_source: str
) -> None:
    with grpc.insecure_channel(f"127.0.0.1:{server.port}") as channel:
        _write_markers(channel, data_source, [10] * 300)
        key = _write_markers(channel, data_source, [10] * 20)
        assert server.reader is not None
        before = server.reader.records_read
        # from the earliest offset (the connection's default), as a client asks for a session
        responses = _read(channel, data_source, key, 20)
        read = server.reader.records_read - before
    assert [ident for ids in responses for ident in ids] == list(range(20))
    assert read < 300, f"{read} records read for a session of 20 after one of 300"


def test_stopping_the_server_ends_a_following_read_and_its_thread(
    server: StreamApiServer, data_source: str
) -> None:
    earlier = set(_read_threads())  # another test's server may still be ending its reads
    with grpc.insecure_channel(f"127.0.0.1:{server.port}") as channel:
        key = _write_markers(channel, data_source, [10] * 3)
        connection = (
            api_pb2_grpc.ConnectionManagerServiceStub(channel)
            .NewConnection(
                api_pb2.NewConnectionRequest(
                    details=api_pb2.ConnectionDetails(data_source=data_source, session_key=key)
                )
            )
            .connection
        )
        call = api_pb2_grpc.PacketReaderServiceStub(channel).ReadPackets(
            api_pb2.ReadPacketsRequest(connection=connection), timeout=60
        )
        first = [item.packet.id for item in next(call).response]
        ours = set(_read_threads()) - earlier
        assert ours
        started = time.monotonic()
        server.stop(5)
        # The stream ends (with OK, as the reads stop before the grace runs out) well before
        # the call's deadline.
        rest = [item.packet.id for response in call for item in response.response]
        # What the read had taken from the store before the stop is sent, in order, once;
        # whether it had taken the last packet yet is a race the stop may win.
        received = first + rest
        assert first and received == [0, 1, 2][: len(received)]
        assert time.monotonic() - started < 10
        assert call.code() == grpc.StatusCode.OK
    for thread in ours:
        thread.join(10)
    assert not any(thread.is_alive() for thread in ours)

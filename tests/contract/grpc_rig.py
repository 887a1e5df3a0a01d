"""Helpers of the gRPC server suites: a started ``StreamApiServer``, one client's stubs, readers.

Shared by test_grpc_server.py and the C# integration-test scenarios (test_grpc_csharp_*.py):
``start_server`` builds a server on a test's ``broker_list``, ``client_for`` holds the stubs a
Stream API client program holds, ``Listener`` follows a server stream on a thread of its own.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any

import grpc

from ma_dataplatforms_streaming_support_library.contracts.shared.stream_api_configuration import (
    StreamingApiConfiguration,
)
from ma_dataplatforms_streaming_support_library.protos import (
    api_pb2,
    api_pb2_grpc,
    key_generator_pb2_grpc,
    open_data_pb2,
)
from ma_dataplatforms_streaming_support_library.server import ServerOptions, StreamApiServer

from .conftest import MAPPINGS, PARTITION_BASE

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


def client_for(server: StreamApiServer) -> Iterator[Client]:
    """Yield the stubs of ``server`` once; the channels close when the generator ends."""
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


def serving(server: StreamApiServer) -> Iterator[Client]:
    """``client_for(server)``, stopping the server when the generator ends."""
    try:
        yield from client_for(server)
    finally:
        server.stop(1)


def packet_bytes(kind: str, session_key: str, content: Any) -> bytes:
    """An Open Data ``Packet`` of type ``kind`` around the message ``content``, serialized."""
    return open_data_pb2.Packet(
        type=kind, session_key=session_key, content=content.SerializeToString()
    ).SerializeToString()


def start_server(
    broker_list: str,
    strategy: Any,
    *,
    partition_mappings: Mapping[str, int] | None = None,
    integrate_session_management: bool = True,
    integrate_data_format_management: bool = True,
    batching_responses: bool = False,
    **options: Any,
) -> StreamApiServer:
    """A started server on ``broker_list`` on free ports; partition-based without mappings given,
    it maps ``MAPPINGS``. ``options`` are ``ServerOptions`` fields."""
    if partition_mappings is None and strategy == PARTITION_BASE:
        partition_mappings = MAPPINGS
    configuration = StreamingApiConfiguration(
        broker_list,
        strategy,
        [],
        10,
        partition_mappings=partition_mappings,
        integrate_session_management=integrate_session_management,
        integrate_data_format_management=integrate_data_format_management,
        batching_responses=batching_responses,
    )
    return StreamApiServer(
        configuration, ServerOptions(host="127.0.0.1", port=0, key_generator_port=0, **options)
    ).start()


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


class Listener:
    """Follows a reader server stream on its own thread, keeping every ``PacketResponse`` and the
    size of every response message, until ``cancel()`` (or the server ends the stream)."""

    def __init__(self, call: Any) -> None:
        self._call = call
        self._found: list[api_pb2.PacketResponse] = []
        self._sizes: list[int] = []
        self._changed = threading.Condition()
        self._ended = False
        self.error: grpc.RpcError | None = None
        self._thread = threading.Thread(target=self._pump, daemon=True)
        self._thread.start()

    def _pump(self) -> None:
        try:
            for message in self._call:
                with self._changed:
                    self._found.extend(message.response)
                    self._sizes.append(len(message.response))
                    self._changed.notify_all()
        except grpc.RpcError as exc:
            if exc.code() != grpc.StatusCode.CANCELLED:
                self.error = exc
        finally:
            with self._changed:
                self._ended = True
                self._changed.notify_all()

    def wait_until(
        self, predicate: Callable[[list[api_pb2.PacketResponse]], bool], timeout: float = WAIT_S
    ) -> bool:
        """Whether ``predicate(responses so far)`` became true within ``timeout``."""
        with self._changed:
            return self._changed.wait_for(
                lambda: predicate(self._found) or self._ended, timeout
            ) and predicate(self._found)

    def responses(self) -> list[api_pb2.PacketResponse]:
        with self._changed:
            return list(self._found)

    def message_sizes(self) -> list[int]:
        """How many packets each response message carried, in arrival order."""
        with self._changed:
            return list(self._sizes)

    def cancel(self) -> None:
        self._call.cancel()
        self._thread.join(5)

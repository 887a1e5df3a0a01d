"""StreamApiServer: the Stream API's gRPC services and the key generator, on one support library."""

from __future__ import annotations

import logging
import threading
from concurrent import futures
from dataclasses import dataclass
from typing import Any

import grpc

from ..contracts.shared.api_result import ApiResult
from ..contracts.shared.stream_api_configuration import StreamingApiConfiguration
from ..core.base.logger import ILogger, Logger
from ..core.base.service import ServiceBase
from ..core.data_format_management.data_format_management_service import (
    DataFormatManagementService,
)
from ..core.library.context import LibraryContext
from ..core.library.support_lib_api import SupportLibApi
from ..core.packet_writing.packet_writer_service import PacketWriterService
from ..core.session_management.session_management_service import SessionManagementService
from ..errors import ConfigurationError
from ..protos import api_pb2_grpc, key_generator_pb2_grpc
from .connections import ConnectionRegistry
from .formats import DataFormatManagerServicer, KeyGeneratorServicer
from .reader import ConnectionManagerServicer, PacketReaderServicer, reader_handler
from .sessions import SessionManagementServicer
from .writer import PacketWriterServicer

__all__ = ["KEY_GENERATOR_PORT", "STREAM_API_PORT", "ServerOptions", "StreamApiServer"]

logger = logging.getLogger(__name__)

STREAM_API_PORT = 13579
KEY_GENERATOR_PORT = 15379


@dataclass(slots=True)
class ServerOptions:
    """How the server listens. ``port=None`` takes ``StreamingApiConfiguration.stream_api_port``;
    port 0 picks a free port (see ``StreamApiServer.port``); ``key_generator_port=None`` serves
    no key generator. Each streaming call holds one of ``max_workers`` threads; calls past that
    are refused with RESOURCE_EXHAUSTED rather than queued. A connection without a running
    reader is closed after ``connection_idle_timeout_s`` unused, and at most
    ``max_connections`` are open at once."""

    host: str = "[::]"
    port: int | None = None
    key_generator_port: int | None = KEY_GENERATOR_PORT
    max_workers: int = 64
    max_connections: int = 1000
    connection_idle_timeout_s: float = 3600.0
    notification_capacity: int = 1000


def _started(result: ApiResult[Any], what: str) -> Any:
    if not result.success or result.data is None:
        raise ConfigurationError(f"the server could not create its {what}: {result.error_message}")
    service = result.data
    service.start()
    return service


class StreamApiServer:
    """``start()`` connects to the broker and listens; ``stop()`` ends streams and flushes writes.

    Every RPC runs on the library's own services (session management, data formats, packet
    writer) of one ``SupportLibApi``; see ``serve_stream_api``."""

    def __init__(
        self,
        configuration: StreamingApiConfiguration,
        options: ServerOptions | None = None,
        library_logger: ILogger | None = None,
    ) -> None:
        self.configuration = configuration
        self.options = options or ServerOptions()
        self._library = SupportLibApi(configuration, library_logger or Logger())
        self._stopping = threading.Event()
        self._stopped = threading.Event()
        self._servers: list[Any] = []
        self._services: list[ServiceBase] = []
        self.connections = ConnectionRegistry(
            self.options.max_connections, self.options.connection_idle_timeout_s
        )
        self.port = 0
        self.key_generator_port = 0
        self.reader: PacketReaderServicer | None = None
        self.writer: PacketWriterServicer | None = None

    def start(self) -> StreamApiServer:
        """Connect, start the services and listen; raises ``TransportError`` if the broker is
        unreachable and ``ConfigurationError`` if a port cannot be bound."""
        library = self._library
        library.start()
        context = library.context
        if not isinstance(context, LibraryContext):
            self.stop(0)
            raise ConfigurationError(
                "the Stream API server serves a store or Kafka, not another server (grpc://)"
            )
        # Without session management the library has no session service and writes unchecked.
        sessions: SessionManagementService | None = (
            _started(library.get_session_manager_api().create_service(), "session service")
            if self.configuration.integrate_session_management
            else None
        )
        formats: DataFormatManagementService = _started(
            library.get_data_format_manager_api().create_service(), "data format service"
        )
        writer: PacketWriterService = _started(
            library.get_writing_packet_api().create_service(), "packet writer"
        )
        self._services = [s for s in (sessions, formats, writer) if s is not None]
        self.reader = PacketReaderServicer(
            context,
            self.connections,
            formats,
            self._stopping,
            batching_responses=self.configuration.batching_responses,
        )
        self.writer = PacketWriterServicer(writer, context)
        server = self._grpc_server()
        api_pb2_grpc.add_ConnectionManagerServiceServicer_to_server(
            ConnectionManagerServicer(self.connections), server
        )
        server.add_generic_rpc_handlers((reader_handler(self.reader),))
        api_pb2_grpc.add_PacketWriterServiceServicer_to_server(self.writer, server)
        api_pb2_grpc.add_DataFormatManagerServiceServicer_to_server(
            DataFormatManagerServicer(formats), server
        )
        api_pb2_grpc.add_SessionManagementServiceServicer_to_server(
            SessionManagementServicer(
                sessions,
                context,
                self._stopping,
                notification_capacity=self.options.notification_capacity,
            ),
            server,
        )
        port = self.options.port
        self.port = self._listen(
            server, self.configuration.stream_api_port if port is None else port
        )
        if self.options.key_generator_port is not None:
            keys = self._grpc_server()
            key_generator_pb2_grpc.add_UniqueKeyGeneratorServiceServicer_to_server(
                KeyGeneratorServicer(), keys
            )
            self.key_generator_port = self._listen(keys, self.options.key_generator_port)
        for started in self._servers:
            started.start()
        logger.info(
            "Stream API listening on %s:%d (key generator on %s) over %s",
            self.options.host,
            self.port,
            self.key_generator_port or "no port",
            context.transport.location,
        )
        return self

    def _grpc_server(self) -> Any:
        workers = self.options.max_workers
        server = grpc.server(
            futures.ThreadPoolExecutor(max_workers=workers, thread_name_prefix="ma-streaming-grpc"),
            maximum_concurrent_rpcs=workers,
        )
        self._servers.append(server)
        return server

    def _listen(self, server: Any, port: int) -> int:
        address = f"{self.options.host}:{port}"
        try:
            bound: int = server.add_insecure_port(address)
        except RuntimeError as exc:
            self.stop(0)
            raise ConfigurationError(f"cannot listen on {address}: {exc}") from exc
        return bound

    def stop(self, grace_s: float = 5.0) -> None:
        """End every stream (with status CANCELLED past ``grace_s``), flush the writer, disconnect.
        Idempotent."""
        if self._stopping.is_set():
            self._stopped.wait()
            return
        self._stopping.set()
        self.connections.close_all()
        done = [server.stop(grace_s) for server in self._servers]
        for event in done:
            event.wait()
        for service in reversed(self._services):
            service.stop()
        self._library.stop()
        self._stopped.set()
        logger.info("Stream API stopped")

    def wait(self, timeout_s: float | None = None) -> bool:
        """Block until the server has stopped (or ``timeout_s`` passed); True if it stopped."""
        return self._stopped.wait(timeout_s)

    def __enter__(self) -> StreamApiServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

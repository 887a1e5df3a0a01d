"""StreamApiServer: the Stream API's gRPC services and the key generator, on one support library."""

from __future__ import annotations

import collections
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
from .metrics import ServerMetrics
from .operations import Health, stream_api_services
from .reader import ConnectionManagerServicer, PacketReaderServicer, reader_handler
from .security import TokenInterceptor, server_credentials
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
    no key generator. ``tls_cert``/``tls_key`` (PEM files) serve TLS instead of plain text;
    ``token`` refuses calls without ``authorization: Bearer <token>`` (health checks excepted);
    ``metrics_port`` serves Prometheus metrics over HTTP (0: a free port). Each streaming call
    holds one of ``max_workers`` threads (a read call one more, polling ahead of the sending);
    calls past that are refused with RESOURCE_EXHAUSTED rather than queued. A connection
    without a running reader is closed after ``connection_idle_timeout_s`` unused, and at most
    ``max_connections`` are open at once."""

    host: str = "[::]"
    port: int | None = None
    key_generator_port: int | None = KEY_GENERATOR_PORT
    max_workers: int = 64
    max_connections: int = 1000
    connection_idle_timeout_s: float = 3600.0
    notification_capacity: int = 1000
    tls_cert: str | None = None
    tls_key: str | None = None
    token: str | None = None
    metrics_port: int | None = None


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
        self.metrics_port = 0
        self.reader: PacketReaderServicer | None = None
        self.writer: PacketWriterServicer | None = None
        self.metrics: ServerMetrics | None = None
        self._context: LibraryContext | None = None
        self._health: list[Health] = []

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
        self._context = context
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
        options = self.options
        self.metrics = None if options.metrics_port is None else ServerMetrics(self._gauges)
        self.reader = PacketReaderServicer(
            context,
            self.connections,
            formats,
            self._stopping,
            batching_responses=self.configuration.batching_responses,
            metrics=self.metrics,
        )
        self.writer = PacketWriterServicer(writer, context, self.metrics)
        server = self._grpc_server()
        self._add_services(server, sessions, formats)
        self._health.append(Health(server, stream_api_services(key_generator=False)))
        port = options.port
        self.port = self._listen(
            server, self.configuration.stream_api_port if port is None else port
        )
        if options.key_generator_port is not None:
            keys = self._grpc_server()
            key_generator_pb2_grpc.add_UniqueKeyGeneratorServiceServicer_to_server(
                KeyGeneratorServicer(), keys
            )
            self._health.append(Health(keys, stream_api_services(key_generator=True)))
            self.key_generator_port = self._listen(keys, options.key_generator_port)
        if self.metrics is not None and options.metrics_port is not None:
            self.metrics_port = self.metrics.serve(options.host, options.metrics_port)
        for started in self._servers:
            started.start()
        for health in self._health:
            health.serving()
        logger.info(
            "Stream API listening on %s:%d (key generator on %s, metrics on %s%s%s) over %s",
            options.host,
            self.port,
            self.key_generator_port or "no port",
            self.metrics_port or "no port",
            ", TLS" if options.tls_cert else "",
            ", token required" if options.token else "",
            context.transport.location,
        )
        return self

    def _add_services(
        self,
        server: Any,
        sessions: SessionManagementService | None,
        formats: DataFormatManagementService,
    ) -> None:
        assert self.reader is not None and self.writer is not None and self._context is not None
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
                self._context,
                self._stopping,
                notification_capacity=self.options.notification_capacity,
            ),
            server,
        )

    def _gauges(self) -> dict[str, dict[str, int]]:
        """Sessions, data formats and connections per data source, for the metrics."""
        context = self._context
        if context is None:
            return {}
        sessions = collections.Counter(info.data_source for info in context.sessions.all())
        formats = {ds: len(context.data_formats.formats_of(ds)) for ds in sessions}
        return {
            "stream_api_sessions_total": dict(sessions),
            "stream_api_data_formats_total": formats,
            "stream_api_connections_total": self.connections.count_by_data_source(),
        }

    def _grpc_server(self) -> Any:
        workers = self.options.max_workers
        token = self.options.token
        server = grpc.server(
            futures.ThreadPoolExecutor(max_workers=workers, thread_name_prefix="ma-streaming-grpc"),
            interceptors=[TokenInterceptor(token)] if token is not None else None,
            maximum_concurrent_rpcs=workers,
        )
        self._servers.append(server)
        return server

    def _listen(self, server: Any, port: int) -> int:
        address = f"{self.options.host}:{port}"
        try:
            credentials = server_credentials(self.options.tls_cert, self.options.tls_key)
            if credentials is None:
                bound: int = server.add_insecure_port(address)
            else:
                bound = server.add_secure_port(address, credentials)
        except (RuntimeError, ConfigurationError) as exc:
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
        for health in self._health:
            health.shutting_down()
        self.connections.close_all()
        done = [server.stop(grace_s) for server in self._servers]
        for event in done:
            event.wait()
        for service in reversed(self._services):
            service.stop()
        if self.metrics is not None:
            self.metrics.stop()
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

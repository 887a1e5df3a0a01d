"""ConnectionManagerService and PacketReaderService of the Stream API."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Iterator
from typing import Any

import grpc

from ..core.base.ahead import made_ahead
from ..core.data_format_management.data_format_management_service import (
    DataFormatManagementService,
)
from ..core.library.context import LibraryContext
from ..errors import TransportError
from ..protos import api_pb2, open_data_pb2
from .calls import abort, stop_condition
from .connections import Connection, ConnectionRegistry
from .encoding import ResponseEncoder, responses
from .filters import DataPacketFilter
from .metrics import ServerMetrics
from .reading import RouteReader
from .routes import Route, connection_routes, essentials_routes

__all__ = ["ConnectionManagerServicer", "PacketReaderServicer", "reader_handler"]

logger = logging.getLogger(__name__)


class ConnectionManagerServicer:
    """As the C# server: an opaque id (0 when it cannot be registered, here when the server
    holds its maximum of connections), details unset for an unknown id, ``success`` on close."""

    def __init__(self, connections: ConnectionRegistry) -> None:
        self._connections = connections

    def NewConnection(
        self, request: api_pb2.NewConnectionRequest, context: Any
    ) -> api_pb2.NewConnectionResponse:
        connection_id = self._connections.open(request.details)
        if connection_id == 0:
            logger.warning("NewConnection refused: %d connections are open", len(self._connections))
        return api_pb2.NewConnectionResponse(connection=api_pb2.Connection(id=connection_id))

    def GetConnection(
        self, request: api_pb2.GetConnectionRequest, context: Any
    ) -> api_pb2.GetConnectionResponse:
        connection = self._connections.get(request.connection.id)
        if connection is None:
            return api_pb2.GetConnectionResponse()
        return api_pb2.GetConnectionResponse(details=connection.details)

    def CloseConnection(
        self, request: api_pb2.CloseConnectionRequest, context: Any
    ) -> api_pb2.CloseConnectionResponse:
        return api_pb2.CloseConnectionResponse(
            success=self._connections.close(request.connection.id)
        )


class PacketReaderServicer:
    """Streams a connection's routes (see ``routes.connection_routes``) as the C# server does.

    An unknown or closed connection id ends the call at once with no message; closing the
    connection ends its running reads. ``ReadEssentials`` reads to the end offsets at the call's
    start (after flushing this server's pending writes) and ends. ``batching_responses`` puts
    the packets of one poll (what the store has ready, up to ``encoding.MAX_BATCH_PACKETS`` and
    ``encoding.MAX_BATCH_BYTES``) in one response; else each response holds one packet, as in
    the C# server. A record that is not an Open Data Packet is skipped. Polling and encoding run
    on a thread of the call's own, ahead of the sending (see ``core.base.ahead``). With a session key,
    ``ReadPackets`` and ``ReadDataPackets`` start no earlier than the session's start offsets,
    so reading one session skips the sessions before it instead of filtering them out: the
    packets delivered are the same as the C# server's.
    """

    def __init__(
        self,
        context: LibraryContext,
        connections: ConnectionRegistry,
        formats: DataFormatManagementService,
        stopping: threading.Event,
        *,
        batching_responses: bool = False,
        metrics: ServerMetrics | None = None,
    ) -> None:
        self._context = context
        self._metrics = metrics
        self._connections = connections
        self._formats = formats
        self._stopping = stopping
        self._batching = batching_responses
        self._finished_reads = 0
        self._active: set[RouteReader] = set()
        self._lock = threading.Lock()

    @property
    def records_read(self) -> int:
        """Records polled from the store by every read call so far, running ones included."""
        with self._lock:
            return self._finished_reads + sum(reader.records_read for reader in self._active)

    # The three responses have the same encoding (field 1: repeated PacketResponse), and each is
    # yielded already encoded (see ``reader_handler``).
    def ReadPackets(self, request: api_pb2.ReadPacketsRequest, context: Any) -> Iterator[bytes]:
        yield from self._read(request.connection.id, context)

    def ReadEssentials(
        self, request: api_pb2.ReadEssentialsRequest, context: Any
    ) -> Iterator[bytes]:
        yield from self._read(request.connection.id, context, essentials=True)

    def ReadDataPackets(
        self, request: api_pb2.ReadDataPacketsRequest, context: Any
    ) -> Iterator[bytes]:
        yield from self._read(request.request.connection.id, context, data_request=request.request)

    def _read(
        self,
        connection_id: int,
        context: Any,
        *,
        essentials: bool = False,
        data_request: api_pb2.DataPacketRequest | None = None,
    ) -> Iterator[bytes]:
        connection = self._connections.get(connection_id)
        if connection is None:
            return
        details = connection.details
        routes = self._routes(details, essentials, context)
        keep: Callable[[open_data_pb2.Packet], bool] | None = None
        if data_request is not None:
            packet_filter = DataPacketFilter.from_request(
                data_request, details.data_source, self._formats
            )
            if isinstance(packet_filter, str):
                abort(context, grpc.StatusCode.INVALID_ARGUMENT, packet_filter)
            keep = packet_filter.keep
        if essentials:
            self._flush_writes(context)
        reader = RouteReader(
            self._context.transport,
            routes,
            details.session_key,
            until_end=essentials,
            floors=None if essentials else self._session_starts(details.session_key),
        )
        self._connections.reader_started(connection)
        with self._lock:
            self._active.add(reader)
        try:
            yield from self._responses(reader, connection, context, keep, essentials)
        finally:
            with self._lock:
                self._active.discard(reader)
                self._finished_reads += reader.records_read
            self._connections.reader_ended(connection)

    def _session_starts(self, session_key: str) -> dict[tuple[str, int], int] | None:
        """Where the session's records begin on each partition, if this server knows it: its
        start offsets are the log ends when it was created, and its key is made then, so no
        record of it lies before them. A session not known yet (still on its way from another
        process) is read from where the connection asks."""
        record = self._context.sessions.get(session_key) if session_key else None
        return None if record is None else dict(record.start_offsets)

    def _flush_writes(self, context: Any) -> None:
        """A catch-up read ends at the end offsets at its start: this server's queued writes are
        made durable first, so a client reads what it wrote before the call."""
        try:
            self._context.transport.flush(self._context.timeout_s)
        except TransportError as exc:
            abort(
                context,
                grpc.StatusCode.UNAVAILABLE,
                f"the store did not take pending writes: {exc}",
            )

    def _routes(
        self, details: api_pb2.ConnectionDetails, essentials: bool, context: Any
    ) -> list[Route]:
        configuration = self._context.configuration
        routes = (
            essentials_routes(details)
            if essentials
            else connection_routes(
                details,
                configuration.stream_creation_strategy,
                configuration.partition_mappings,
            )
        )
        if isinstance(routes, str):
            abort(context, grpc.StatusCode.INVALID_ARGUMENT, routes)
        return routes

    def _responses(
        self,
        reader: RouteReader,
        connection: Connection,
        context: Any,
        keep: Callable[[open_data_pb2.Packet], bool] | None,
        essentials: bool,
    ) -> Iterator[bytes]:
        def produce(should_stop: Callable[[], bool]) -> Iterator[list[bytes]]:
            return self._encoded(reader, connection, should_stop, keep, essentials)

        should_stop = stop_condition(context, self._stopping, connection.closed)
        for chunk in made_ahead(produce, should_stop, name="ma-streaming-read"):
            yield from chunk

    def _encoded(
        self,
        reader: RouteReader,
        connection: Connection,
        should_stop: Callable[[], bool],
        keep: Callable[[open_data_pb2.Packet], bool] | None,
        essentials: bool,
    ) -> Iterator[list[bytes]]:
        """The encoded responses of each poll of ``reader``, a list per poll."""
        encoder = ResponseEncoder()
        metrics = self._metrics
        data_source = connection.details.data_source
        for batch in reader.batches(should_stop):
            parts = encoder.parts(batch, keep)
            if metrics is not None:
                read = (stream for _, stream in batch)
                metrics.count_read(connection.id, data_source, read, essentials=essentials)
                delivered = encoder.streams_of_last_items
                metrics.count_delivered(
                    connection.id, data_source, delivered, essentials=essentials
                )
            if parts:
                yield list(responses(parts, encoder.size_of_last_items, batching=self._batching))


def _identity(data: bytes) -> bytes:
    return data


def reader_handler(servicer: PacketReaderServicer) -> grpc.GenericRpcHandler:
    """The PacketReaderService methods of ``servicer``, whose responses are already encoded."""
    methods = {
        "ReadPackets": api_pb2.ReadPacketsRequest,
        "ReadEssentials": api_pb2.ReadEssentialsRequest,
        "ReadDataPackets": api_pb2.ReadDataPacketsRequest,
    }
    return grpc.method_handlers_generic_handler(
        "ma.streaming.api.v1.PacketReaderService",
        {
            name: grpc.unary_stream_rpc_method_handler(
                getattr(servicer, name),
                request_deserializer=request.FromString,
                response_serializer=_identity,
            )
            for name, request in methods.items()
        },
    )

"""ConnectionManagerService and PacketReaderService of the Stream API."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Iterator
from typing import Any, TypeVar

import grpc
from google.protobuf.message import DecodeError

from ..core.data_format_management.data_format_management_service import (
    DataFormatManagementService,
)
from ..core.library.context import LibraryContext
from ..errors import TransportError
from ..protos import api_pb2, open_data_pb2
from ..transport.base import Record
from .calls import abort, stop_condition, timestamp_from_ms
from .connections import Connection, ConnectionRegistry
from .filters import DataPacketFilter
from .reading import RouteReader
from .routes import Route, connection_routes, essentials_routes

__all__ = ["ConnectionManagerServicer", "PacketReaderServicer"]

logger = logging.getLogger(__name__)

R = TypeVar("R")


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
    start (after flushing this server's pending writes) and ends. ``batching_responses`` puts every packet of one poll in one response; else
    each response holds one packet. A record that is not an Open Data Packet is skipped.
    """

    def __init__(
        self,
        context: LibraryContext,
        connections: ConnectionRegistry,
        formats: DataFormatManagementService,
        stopping: threading.Event,
        *,
        batching_responses: bool = False,
    ) -> None:
        self._context = context
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

    def ReadPackets(
        self, request: api_pb2.ReadPacketsRequest, context: Any
    ) -> Iterator[api_pb2.ReadPacketsResponse]:
        yield from self._read(request.connection.id, context, api_pb2.ReadPacketsResponse)

    def ReadEssentials(
        self, request: api_pb2.ReadEssentialsRequest, context: Any
    ) -> Iterator[api_pb2.ReadEssentialsResponse]:
        yield from self._read(
            request.connection.id, context, api_pb2.ReadEssentialsResponse, essentials=True
        )

    def ReadDataPackets(
        self, request: api_pb2.ReadDataPacketsRequest, context: Any
    ) -> Iterator[api_pb2.ReadDataPacketsResponse]:
        yield from self._read(
            request.request.connection.id,
            context,
            api_pb2.ReadDataPacketsResponse,
            data_request=request.request,
        )

    def _read(
        self,
        connection_id: int,
        context: Any,
        response_class: Callable[..., R],
        *,
        essentials: bool = False,
        data_request: api_pb2.DataPacketRequest | None = None,
    ) -> Iterator[R]:
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
            self._context.transport, routes, details.session_key, until_end=essentials
        )
        self._connections.reader_started(connection)
        with self._lock:
            self._active.add(reader)
        try:
            yield from self._responses(reader, connection, context, response_class, keep)
        finally:
            with self._lock:
                self._active.discard(reader)
                self._finished_reads += reader.records_read
            self._connections.reader_ended(connection)

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
        response_class: Callable[..., R],
        keep: Callable[[open_data_pb2.Packet], bool] | None,
    ) -> Iterator[R]:
        should_stop = stop_condition(context, self._stopping, connection.closed)
        for batch in reader.batches(should_stop):
            items = _packet_responses(batch, keep)
            if not items:
                continue
            if self._batching:
                yield response_class(response=items)
            else:
                for item in items:
                    yield response_class(response=(item,))


def _packet_responses(
    batch: list[tuple[Record, str]], keep: Callable[[open_data_pb2.Packet], bool] | None
) -> list[api_pb2.PacketResponse]:
    items: list[api_pb2.PacketResponse] = []
    for record, stream in batch:
        try:
            packet = open_data_pb2.Packet.FromString(record.value)
        except DecodeError:
            logger.warning(
                "skipping a record that is not an Open Data Packet at %s:%d offset %d",
                record.topic,
                record.partition,
                record.offset,
            )
            continue
        if keep is not None and not keep(packet):
            continue
        items.append(
            api_pb2.PacketResponse(
                packet=packet, stream=stream, submit_time=timestamp_from_ms(record.timestamp_ms)
            )
        )
    return items

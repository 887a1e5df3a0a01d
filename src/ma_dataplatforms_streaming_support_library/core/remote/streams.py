"""SessionStreams: the read connections of one session on a Stream API server, each read by a
``ReadPackets`` call on its own thread into the reader's bounded queue."""

from __future__ import annotations

import logging
import queue
import threading
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import grpc

from ...layout import format_offset_key, main_topic, stream_topic
from ...protos import api_pb2
from .calls import RpcFailure, call
from .wire import decode_packet_responses

if TYPE_CHECKING:
    from .context import RemoteContext

__all__ = ["Delivery", "SessionStreams", "connection_details"]

logger = logging.getLogger(__name__)

_READ_PACKETS = "/ma.streaming.api.v1.PacketReaderService/ReadPackets"
_PUT_WAIT_S = 0.2

#: what a connection thread hands the reader: (session key, [(packet, stream, submit ns)]),
#: or (session key, an error message) when its call ended with an error
Delivery = tuple[str, "list[tuple[bytes, str, int]] | str"]


def connection_details(
    info: api_pb2.GetSessionInfoResponse,
    session_key: str,
    streams: list[str],
    *,
    exclude_main_stream: bool,
) -> api_pb2.ConnectionDetails:
    """A connection reading ``streams`` of a session from its first packet.

    Each stream starts at the offset the session recorded for its topic (topic-based), else at
    the smallest offset recorded on the main topic (a lower bound of every partition's start:
    the client cannot know which partition a stream is mapped to), else at 0; records of other
    sessions are left out by the server's session-key filter.
    """
    offsets = dict(info.topic_partition_offsets)
    main = main_topic(info.data_source)
    on_main = [offset for key, offset in offsets.items() if key.rsplit(":", 1)[0] == main]
    fallback = min(on_main, default=0)
    stream_offsets = [
        offsets.get(format_offset_key(stream_topic(info.data_source, stream), 0), fallback)
        for stream in streams
    ]
    return api_pb2.ConnectionDetails(
        data_source=info.data_source,
        session_key=session_key,
        streams=streams,
        stream_offsets=stream_offsets,
        main_offset=info.main_offset,
        essentials_offset=info.essentials_offset,
        exclude_main_stream=exclude_main_stream,
    )


def _request_bytes(request: api_pb2.ReadPacketsRequest) -> bytes:
    return request.SerializeToString()


class SessionStreams:
    """The connections reading one session; ``add`` opens one more for streams not read yet."""

    def __init__(
        self,
        context: RemoteContext,
        session_key: str,
        deliveries: queue.Queue[Delivery],
        stopping: Callable[[], bool],
    ) -> None:
        self._context = context
        self.session_key = session_key
        self._deliveries = deliveries
        self._stopping = stopping
        self._read = context.channel.unary_stream(
            _READ_PACKETS,
            request_serializer=_request_bytes,
            response_deserializer=decode_packet_responses,
        )
        self.streams: set[str] = set()
        self.main_stream = False
        self._calls: list[tuple[int, Any, threading.Thread]] = []

    def add(self, details: api_pb2.ConnectionDetails) -> None:
        """Open a connection with ``details`` and start reading it (raises ``RpcFailure``)."""
        context = self._context
        response = call(
            context,
            context.connections.NewConnection,
            api_pb2.NewConnectionRequest(details=details),
            "NewConnection",
        )
        connection_id = response.connection.id
        if connection_id == 0:
            raise RpcFailure(
                f"NewConnection at {context.location}: the server refused a connection"
            )
        self.streams.update(details.streams)
        self.main_stream = self.main_stream or not details.exclude_main_stream
        responses = self._read(
            api_pb2.ReadPacketsRequest(connection=api_pb2.Connection(id=connection_id))
        )
        thread = threading.Thread(
            target=self._pump, args=(responses,), name="ma-streaming-grpc-read", daemon=True
        )
        self._calls.append((connection_id, responses, thread))
        thread.start()

    def _pump(self, responses: Any) -> None:
        try:
            for items in responses:
                if items and not self._offer((self.session_key, items)):
                    return
        except grpc.RpcError as exc:
            if exc.code() is not grpc.StatusCode.CANCELLED and not self._stopping():
                self._offer(
                    (self.session_key, f"ReadPackets ended: {exc.code().name}: {exc.details()}")
                )
        except ValueError as exc:
            self._offer((self.session_key, f"ReadPackets sent a malformed response: {exc}"))

    def _offer(self, delivery: Delivery) -> bool:
        while not self._stopping():
            try:
                self._deliveries.put(delivery, timeout=_PUT_WAIT_S)
                return True
            except queue.Full:
                continue
        return False

    def close(self) -> None:
        """Cancel the reads and close the connections (a failure to close is only logged)."""
        calls, self._calls = self._calls, []
        for connection_id, responses, _ in calls:
            responses.cancel()
            try:
                call(
                    self._context,
                    self._context.connections.CloseConnection,
                    api_pb2.CloseConnectionRequest(connection=api_pb2.Connection(id=connection_id)),
                    "CloseConnection",
                )
            except RpcFailure as exc:
                logger.debug("closing connection %d: %s", connection_id, exc)
        for _, _, thread in calls:
            if thread is not threading.current_thread():
                thread.join(self._context.timeout_s)

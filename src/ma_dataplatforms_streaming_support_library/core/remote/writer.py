"""RemotePacketWriterService: the official packet writer over a Stream API server."""

from __future__ import annotations

import logging
import queue
import threading
import time
from typing import TYPE_CHECKING, Any

import grpc

from ...contracts.packet_writing.i_packet_writer_service import IPacketWriterService
from ...contracts.packet_writing.info_type import InfoType
from ...contracts.packet_writing.packet_bytes import PacketBytes
from ...contracts.shared.api_result import ApiResult
from ...protos import api_pb2, open_data_pb2
from ..base.service import ServiceBase
from ..packet_writing.packet_writer_service import parse_envelope, write_data_arguments
from .calls import RpcFailure, call
from .sessions import lookup_session
from .wire import data_packets_request

if TYPE_CHECKING:
    from .context import RemoteContext

__all__ = ["RemotePacketWriterService"]

logger = logging.getLogger(__name__)

_WRITE_DATA_PACKETS = "/ma.streaming.api.v1.PacketWriterService/WriteDataPackets"
_MAX_QUEUED = 10_000
_MAX_BATCH = 500
_MAX_BATCH_BYTES = 1 << 20
_Detail = tuple[bytes, str, str, str]


def _identity(data: bytes) -> bytes:
    return data


class RemotePacketWriterService(ServiceBase, IPacketWriterService):
    """``write_data`` checks its arguments, then queues the packet (bounded: it waits up to the
    library's timeout for room); a sender thread writes the queue in batches with
    ``WriteDataPackets``. As with the in-process writer, a write the server refuses surfaces on a
    later ``write_data``, on ``flush`` or on ``stop``. ``write_info`` is one ``WriteInfoPacket``.
    The first write of a session key asks the server whether the session exists, is open and
    belongs to the data source (unless the configuration does not integrate session management).
    """

    service_name = "packet writer service"

    def __init__(self, context: RemoteContext) -> None:
        super().__init__()
        self._context = context
        self._queue: queue.Queue[_Detail | None] = queue.Queue(_MAX_QUEUED)
        self._unsent = 0
        self._idle = threading.Condition()
        self._failure = ""
        self._sessions: dict[str, str] = {}
        self._thread: threading.Thread | None = None
        self._send = context.channel.stream_unary(
            _WRITE_DATA_PACKETS,
            request_serializer=_identity,
            response_deserializer=api_pb2.WriteDataPacketsResponse.FromString,
        )
        self._checks_sessions = context.configuration.integrate_session_management

    def _on_start(self) -> None:
        self._context.add_flusher(self.flush_now)
        self._thread = threading.Thread(
            target=self._run, name="ma-streaming-grpc-writer", daemon=True
        )
        self._thread.start()

    def _on_stop(self) -> None:
        result = self.flush_now()
        self._context.remove_flusher(self.flush_now)
        self._queue.put(None)
        if self._thread is not None:
            self._thread.join(self._context.timeout_s)
        if not result.success:
            logger.error("packet writer %s stopped: %s", self.id, result.error_message)

    # writing ----------------------------------------------------------------------------------
    def write_data(
        self,
        data_source: str,
        stream: str,
        session_key: str,
        packet_bytes: PacketBytes | open_data_pb2.Packet,
    ) -> ApiResult[bool]:
        failure = self._not_started("write_data")
        if failure is not None:
            return failure
        parsed = write_data_arguments(
            data_source,
            stream,
            session_key,
            packet_bytes,
            self._session_error if self._checks_sessions else None,
        )
        earlier = self._take_failure()
        if isinstance(parsed, str) or earlier:
            return ApiResult.fail(f"write_data: {parsed if isinstance(parsed, str) else earlier}")
        with self._idle:
            self._unsent += 1
        try:
            self._queue.put(
                (parsed[1].data, data_source, stream, session_key), timeout=self._context.timeout_s
            )
        except queue.Full:
            self._sent(1)
            return ApiResult.fail(
                f"write_data: the server at {self._context.location} did not take "
                f"{_MAX_QUEUED} queued packets within {self._context.timeout_s} s"
            )
        return ApiResult(True, True)

    def _session_error(self, data_source: str, session_key: str) -> str:
        known = self._sessions.get(session_key)
        if session_key in self._context.ended_sessions:
            return f"session {session_key!r} has ended; nothing more can be written to it"
        if known is None:
            try:
                info = lookup_session(self._context, session_key)
            except RpcFailure as exc:
                return f"cannot check session_key {session_key!r}: {exc}"
            if info is None:
                return f"session_key {session_key!r} is not a known session; create it first"
            if info.historical:
                return f"session {session_key!r} has ended; nothing more can be written to it"
            known = self._sessions[session_key] = info.data_source
            self._context.use_data_source(info.data_source)
        if known != data_source:
            return (
                f"session {session_key!r} belongs to data source {known!r}, "
                f"not data_source {data_source!r}"
            )
        return ""

    def write_info(
        self,
        packet_bytes: PacketBytes | open_data_pb2.Packet,
        info_type: InfoType = InfoType.SESSION_INFO,
    ) -> ApiResult[bool]:
        failure = self._not_started("write_info")
        if failure is not None:
            return failure
        try:
            kind = InfoType(info_type)
        except ValueError:
            return ApiResult.fail(f"write_info: info_type must be an InfoType, got {info_type!r}")
        parsed = parse_envelope(packet_bytes)
        if isinstance(parsed, str):
            return ApiResult.fail(f"write_info: {parsed}")
        if not parsed[0].session_key:
            return ApiResult.fail("write_info: the packet's session_key is empty")
        request = api_pb2.WriteInfoPacketRequest(
            message=parsed[0], type=api_pb2.InfoType.Name(int(kind))
        )
        try:
            call(self._context, self._context.writer.WriteInfoPacket, request, "WriteInfoPacket")
        except RpcFailure as exc:
            return ApiResult.fail(f"write_info: {exc}")
        return ApiResult.ok(True)

    def flush(self) -> ApiResult[bool]:
        failure = self._not_started("flush")
        if failure is not None:
            return failure
        return self.flush_now()

    def flush_now(self) -> ApiResult[bool]:
        """Wait until every queued packet has been sent; the first refusal since the last report."""
        deadline = time.monotonic() + self._context.timeout_s
        with self._idle:
            while self._unsent and time.monotonic() < deadline:
                self._idle.wait(deadline - time.monotonic())
            unsent = self._unsent
        earlier = self._take_failure()
        if earlier:
            return ApiResult.fail(f"flush: {earlier}")
        if unsent:
            return ApiResult.fail(
                f"flush: {unsent} packet(s) not sent to {self._context.location} within "
                f"{self._context.timeout_s} s"
            )
        return ApiResult.ok(True)

    # the sender thread ------------------------------------------------------------------------
    def _take_failure(self) -> str:
        with self._idle:
            failure, self._failure = self._failure, ""
        return failure

    def _sent(self, count: int) -> None:
        with self._idle:
            self._unsent -= count
            if not self._unsent:
                self._idle.notify_all()

    def _run(self) -> None:
        while True:
            first = self._queue.get()
            if first is None:
                return
            batch, size = [first], len(first[0])
            while len(batch) < _MAX_BATCH and size < _MAX_BATCH_BYTES:
                try:
                    item = self._queue.get_nowait()
                except queue.Empty:
                    break
                if item is None:
                    self._queue.put(None)
                    break
                batch.append(item)
                size += len(item[0])
            self._write(batch)
            self._sent(len(batch))

    def _write(self, batch: list[_Detail]) -> None:
        try:
            self._send(iter((data_packets_request(batch),)), timeout=self._context.timeout_s)
        except grpc.RpcError as exc:
            message = _status(exc)
            logger.warning("WriteDataPackets of %d packet(s) failed: %s", len(batch), message)
            with self._idle:
                if not self._failure:
                    self._failure = (
                        f"WriteDataPackets at {self._context.location} refused a batch of "
                        f"{len(batch)} packet(s): {message}"
                    )


def _status(exc: Any) -> str:
    code = exc.code() if hasattr(exc, "code") else None
    details = exc.details() if hasattr(exc, "details") else str(exc)
    return f"{code.name if code is not None else 'UNKNOWN'}: {details}"

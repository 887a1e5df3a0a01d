"""PacketWriterService of the Stream API, on the library's packet writer service."""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Iterable, Iterator, Sequence
from typing import Any

import grpc

from ..contracts.packet_writing.info_type import InfoType
from ..contracts.packet_writing.packet_bytes import PacketBytes
from ..core.library.context import LibraryContext
from ..core.packet_writing.packet_writer_service import PacketWriterService
from ..protos import api_pb2
from .calls import abort
from .metrics import ServerMetrics

__all__ = ["PacketWriterServicer"]

logger = logging.getLogger(__name__)

_SESSION_ERRORS = ("is not a known session", "has ended", "belongs to data source")


class _Failure:
    """The first write of a call that the library refused, and how many it refused in all."""

    def __init__(self) -> None:
        self.count = 0
        self.code = grpc.StatusCode.OK
        self.message = ""

    def add(self, code: grpc.StatusCode, message: str) -> None:
        self.count += 1
        if self.count == 1:
            self.code, self.message = code, message


class PacketWriterServicer:
    """Writes go through the library's writer, so routing, essentials copies and record keys are
    the library's. The C# server accepts every write silently; here a write the library refuses
    is reported: NOT_FOUND for a session it does not know, FAILED_PRECONDITION for one that has
    ended, INVALID_ARGUMENT otherwise, each message naming the field. A client stream keeps
    writing after a refused packet and reports the first refusal (and how many) at its end.
    """

    def __init__(
        self,
        writer: PacketWriterService,
        context: LibraryContext,
        metrics: ServerMetrics | None = None,
    ) -> None:
        self._writer = writer
        self._context = context
        self._metrics = metrics
        self.packets_written = 0

    def _write_data(self, details: Sequence[api_pb2.DataPacketDetails], failure: _Failure) -> None:
        """Write the packets of ``details`` as one batch, counting each refusal in ``failure``."""
        refused = self._writer.write_data_batch(
            [
                (detail.data_source, detail.stream, detail.session_key, detail.message)
                for detail in details
            ]
        )
        self.packets_written += len(details) - len(refused)
        if self._metrics is not None:
            routes = Counter(
                (detail.data_source, detail.stream)
                for index, detail in enumerate(details)
                if index not in refused
            )
            for (data_source, stream), count in routes.items():
                self._metrics.data_published.labels(data_source, stream).inc(count)
        for index, result in sorted(refused.items()):
            detail = details[index]
            message = result.error_message.replace("write_data: ", "", 1)
            code = grpc.StatusCode.INVALID_ARGUMENT
            if any(fragment in message for fragment in _SESSION_ERRORS):
                state = self._context.sessions.state(detail.session_key)
                code = (
                    grpc.StatusCode.NOT_FOUND
                    if state is None
                    else grpc.StatusCode.FAILED_PRECONDITION
                )
            failure.add(code, f"detail: {message}")

    def _write_info(self, packet: Any, info_type: int, failure: _Failure) -> None:
        try:
            kind = InfoType(info_type)
        except ValueError:
            failure.add(grpc.StatusCode.INVALID_ARGUMENT, f"type {info_type} is not an InfoType")
            return
        result = self._writer.write_info(PacketBytes(packet.SerializeToString()), kind)
        if result.success and self._metrics is not None:
            state = self._context.sessions.state(packet.session_key)
            self._metrics.info_published.labels(state[0] if state else "").inc()
        if not result.success:
            failure.add(
                grpc.StatusCode.INVALID_ARGUMENT,
                "message: " + result.error_message.replace("write_info: ", "", 1),
            )

    @staticmethod
    def _report(context: Any, failure: _Failure, total: int) -> None:
        if failure.count == 0:
            return
        prefix = (
            "" if total == 1 else f"{failure.count} of {total} packets were not written; first: "
        )
        abort(context, failure.code, prefix + failure.message)

    def WriteDataPacket(
        self, request: api_pb2.WriteDataPacketRequest, context: Any
    ) -> api_pb2.WriteDataPacketResponse:
        failure = _Failure()
        self._write_data([request.detail], failure)
        self._report(context, failure, 1)
        return api_pb2.WriteDataPacketResponse()

    def WriteDataPackets(
        self, request_iterator: Iterator[api_pb2.WriteDataPacketsRequest], context: Any
    ) -> api_pb2.WriteDataPacketsResponse:
        failure = _Failure()
        total = 0
        for request in _until_disconnect(request_iterator, "WriteDataPackets"):
            total += len(request.details)
            self._write_data(request.details, failure)
        self._report(context, failure, total)
        return api_pb2.WriteDataPacketsResponse()

    def WriteInfoPacket(
        self, request: api_pb2.WriteInfoPacketRequest, context: Any
    ) -> api_pb2.WriteInfoPacketResponse:
        failure = _Failure()
        self._write_info(request.message, request.type, failure)
        self._report(context, failure, 1)
        return api_pb2.WriteInfoPacketResponse()

    def WriteInfoPackets(
        self, request_iterator: Iterator[api_pb2.WriteInfoPacketsRequest], context: Any
    ) -> api_pb2.WriteInfoPacketsResponse:
        failure = _Failure()
        total = 0
        for request in _until_disconnect(request_iterator, "WriteInfoPackets"):
            total += 1
            self._write_info(request.message, request.type, failure)
        self._report(context, failure, total)
        return api_pb2.WriteInfoPacketsResponse()


def _until_disconnect(requests: Iterable[Any], method: str) -> Iterator[Any]:
    """The requests of a client stream; a client that goes away mid-stream just ends it (what it
    sent before is written, as the C# server does)."""
    try:
        yield from requests
    except grpc.RpcError:
        logger.info(
            "%s: the client went away mid-stream; packets received so far are written", method
        )

"""``read_session`` against a Stream API server (``grpc://host:port``): the session's packets come
through the remote client mode's packet reader (the server's ReadPackets), its data formats from
the server's data format manager, and the same collector decodes them as for a store or Kafka."""

from __future__ import annotations

import logging
import queue
import time
from collections.abc import Sequence

from ..contracts.data_format_management.data_format_info_type import DataFormatInfoType
from ..contracts.packet_reading.packet_reading_configuration import PacketReadingConfiguration
from ..contracts.packet_reading.packet_reading_type import PacketReadingType
from ..contracts.packet_reading.received_packet_dto import ReceivedPacketDto
from ..contracts.session_management.session_info import SessionInfo
from ..contracts.shared.i_handler import IHandler
from ..contracts.shared.stream_api_configuration import StreamingApiConfiguration
from ..core.remote.calls import RpcFailure
from ..core.remote.context import RemoteContext
from ..core.remote.formats import RemoteFormats
from ..core.remote.reader import RemotePacketReaderService
from ..core.remote.sessions import lookup_session
from ..errors import ReaderTimeoutError, SessionNotFoundError, TransportError
from .collect import SessionCollector
from .selection import Selection, check_parameters_known
from .types import Origin, ProgressCallback, SessionData

__all__ = ["read_remote"]

logger = logging.getLogger(__name__)

#: packets decoded as one batch (the reader's thread waits while this many are queued)
_CHUNK = 5_000
#: what a packet read over gRPC has for an origin: the stream, no partition, its position
_NO_PARTITION = -1


class _ServerFormats:
    """The collector's data format lookups answered by the server (each id asked for once)."""

    def __init__(self, formats: RemoteFormats) -> None:
        self._formats = formats

    def find_by_id(
        self, data_source: str, kind: DataFormatInfoType, data_format_id: int
    ) -> list[str] | None:
        try:
            return self._formats.resolve(data_source, kind, data_format_id)
        except RpcFailure:
            return None

    def catch_up(self, data_source: str) -> None:
        """Nothing to catch up: every lookup asks the server."""


class _Packets(IHandler[ReceivedPacketDto]):
    """The reader's handler: packets queued for the caller's thread, then the end of the read."""

    def __init__(self) -> None:
        self.queue: queue.Queue[ReceivedPacketDto | None] = queue.Queue(_CHUNK * 2)

    def handle(self, packet: ReceivedPacketDto) -> None:
        self.queue.put(packet)

    def completed(self, _sender: object, _info: SessionInfo) -> None:
        self.queue.put(None)


def read_remote(
    configuration: StreamingApiConfiguration,
    broker_list: str,
    session_key: str,
    *,
    data_source: str | None,
    streams: Sequence[str] | None,
    progress: ProgressCallback | None,
    selection: Selection | None,
) -> SessionData:
    """The session as ``read_session`` gives it, read from the Stream API server at
    ``broker_list``. An ended session is read to its EndOfSession packets; a live one until it
    has written nothing for ``timeout_seconds`` (then ``complete`` is False)."""
    context = RemoteContext(configuration, broker_list)
    try:
        info = lookup_session(context, session_key)
        if info is None or (data_source is not None and info.data_source != data_source):
            where = "" if data_source is None else f" of data source {data_source!r}"
            raise SessionNotFoundError(
                f"session {session_key} not found{where} at {context.location}"
            )
        collector = SessionCollector(
            info.data_source, _ServerFormats(context.data_formats), selection=selection
        )
        _collect(context, configuration, info, streams, collector, progress)
        final = lookup_session(context, session_key) or info
    finally:
        context.close()
    result = collector.finish(final, complete=final.historical, location=context.location)
    check_parameters_known(
        selection, collector.seen_parameters, result.parameter_definitions, session_key
    )
    return result


def _collect(
    context: RemoteContext,
    configuration: StreamingApiConfiguration,
    info: SessionInfo,
    streams: Sequence[str] | None,
    collector: SessionCollector,
    progress: ProgressCallback | None,
) -> None:
    reading = PacketReadingConfiguration(
        info.session_key,
        configuration.timeout_seconds,
        False,
        info.data_source,
        "*",
        PacketReadingType.HISTORIC,
        list(streams or []),
    )
    reader = RemotePacketReaderService(context, reading)
    packets = _Packets()
    reader.session_reading_completed.subscribe(packets.completed)
    reader.initialise()
    reader.start()
    reader.set_handler(packets)
    started = time.perf_counter()
    done = 0
    try:
        while True:
            chunk, ended = _next_chunk(packets.queue, reader, info, configuration.timeout_seconds)
            if chunk:
                origins: list[Origin] = [
                    (p.stream, _NO_PARTITION, done + i) for i, p in enumerate(chunk)
                ]
                collector.add_packets(
                    [p.stream for p in chunk], [p.packet_bytes.data for p in chunk], origins
                )
                done += len(chunk)
                if progress is not None:
                    progress(done, done)
            if ended:
                break
    finally:
        reader.stop()
    logger.info(
        "read session %s from %s: %d packets in %.2f s",
        info.session_key,
        context.location,
        done,
        time.perf_counter() - started,
    )


def _next_chunk(
    packets: queue.Queue[ReceivedPacketDto | None],
    reader: RemotePacketReaderService,
    info: SessionInfo,
    timeout_s: float,
) -> tuple[list[ReceivedPacketDto], bool]:
    """Up to ``_CHUNK`` packets, and whether the read has ended. Raises ``TransportError`` when
    the reader stopped on a failure, ``ReaderTimeoutError`` when nothing came for much longer
    than the reader's own idle timeout (after which it completes a session by itself)."""
    chunk: list[ReceivedPacketDto] = []
    idle_limit_s = timeout_s * 3 + 10
    idle_since = time.monotonic()
    while len(chunk) < _CHUNK:
        try:
            item = packets.get(timeout=0.5)
        except queue.Empty:
            if chunk:
                return chunk, False
            if reader.failure is not None:
                raise TransportError(
                    f"reading session {info.session_key} over gRPC failed: {reader.failure}"
                ) from reader.failure
            if time.monotonic() - idle_since > idle_limit_s:
                raise ReaderTimeoutError(
                    f"session {info.session_key}: the Stream API server sent nothing for "
                    f"{idle_limit_s:g} s and the read did not complete"
                ) from None
            continue
        if item is None:
            return chunk, True
        chunk.append(item)
    return chunk, False

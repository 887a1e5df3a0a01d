"""AsyncPacketWriter: a packet writer service driven from asyncio without blocking the loop."""

from __future__ import annotations

import asyncio
import concurrent.futures
from collections.abc import Callable
from typing import Any, TypeVar

from ..contracts.packet_writing.i_packet_writer_service import IPacketWriterService
from ..contracts.packet_writing.info_type import InfoType
from ..contracts.packet_writing.packet_bytes import PacketBytes
from ..contracts.shared.api_result import ApiResult
from ..errors import ConfigurationError, StreamingError
from .stream import run_blocking

__all__ = ["DEFAULT_MAX_PENDING", "AsyncPacketWriter"]

R = TypeVar("R")

#: Calls submitted and not yet done before ``write`` waits for room.
DEFAULT_MAX_PENDING = 1024


class AsyncPacketWriter:
    """Runs a writer service's calls on one worker thread of its own, in the order they were made.

    Results are the service's ``ApiResult`` (a failed write is never reported as success). At most
    ``max_pending`` calls wait for the worker; past that, ``write`` waits for room (back-pressure).
    A call once submitted always runs: cancelling the caller only stops it waiting, and the order
    of the calls is kept. ``async with`` starts the service if it is not started, and at exit
    flushes, stops what it started and ends the worker thread.
    """

    def __init__(
        self, writer: IPacketWriterService, *, max_pending: int = DEFAULT_MAX_PENDING
    ) -> None:
        if type(max_pending) is not int or max_pending < 1:
            raise ConfigurationError(f"max_pending must be an int >= 1, got {max_pending!r}")
        self.writer = writer
        self._room = asyncio.Semaphore(max_pending)
        self._worker = concurrent.futures.ThreadPoolExecutor(
            max_workers=1, thread_name_prefix="ma-streaming-aio-writer"
        )
        self._owned = False
        self._closed = False
        self._pending = 0

    @property
    def pending(self) -> int:
        """Calls handed to the worker and not yet done (at most ``max_pending``)."""
        return self._pending

    async def _call(self, function: Callable[..., R], *args: Any) -> R:
        if self._closed:
            raise StreamingError("the async writer is closed")
        await self._room.acquire()
        try:
            future = self._worker.submit(function, *args)
        except BaseException:
            self._room.release()
            raise
        self._pending += 1
        loop = asyncio.get_running_loop()
        future.add_done_callback(lambda _: loop.call_soon_threadsafe(self._done))
        return await asyncio.shield(asyncio.wrap_future(future))

    def _done(self) -> None:
        self._pending -= 1
        self._room.release()

    async def write_data(
        self, data_source: str, stream: str, session_key: str, packet_bytes: PacketBytes
    ) -> ApiResult[bool]:
        """``write_data`` of the service, on the worker thread."""
        return await self._call(
            self.writer.write_data, data_source, stream, session_key, packet_bytes
        )

    async def write(
        self, data_source: str, stream: str, session_key: str, packet_bytes: PacketBytes
    ) -> ApiResult[bool]:
        """Alias of ``write_data``."""
        return await self.write_data(data_source, stream, session_key, packet_bytes)

    async def write_info(
        self, packet_bytes: PacketBytes, info_type: InfoType = InfoType.SESSION_INFO
    ) -> ApiResult[bool]:
        """``write_info`` of the service, on the worker thread."""
        return await self._call(self.writer.write_info, packet_bytes, info_type)

    async def flush(self) -> ApiResult[bool]:
        """Wait until everything written before is durable (``flush`` of the service)."""
        return await self._call(self.writer.flush)

    async def start(self) -> None:
        """Start the service if it is not started (it is then stopped by ``aclose``)."""
        if not self.writer.is_started:
            await self._call(self.writer.start)
            self._owned = self.writer.is_started

    async def aclose(self) -> None:
        """Flush, stop the service if this object started it, end the worker. Idempotent."""
        if self._closed:
            return
        flushed: ApiResult[bool] = ApiResult.ok(True)
        if self.writer.is_started and self._owned:
            await self._call(self.writer.stop)  # stop() flushes and logs a failure
        elif self.writer.is_started:
            flushed = await self._call(self.writer.flush)
        self._closed = True
        await run_blocking(self._worker.shutdown)
        if not flushed.success:
            raise StreamingError(f"closing the async writer: {flushed.error_message}")

    async def __aenter__(self) -> AsyncPacketWriter:
        await self.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()

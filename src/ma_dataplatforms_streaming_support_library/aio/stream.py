"""Async iterators over a reader's items: a bounded asyncio queue fed from the reader's thread.

The reader's thread reserves a place (waiting while ``max_queued`` items are reserved: that is the
back-pressure), then hands the item to the event loop with ``loop.call_soon_threadsafe``, which
puts it in an ``asyncio.Queue`` of the same bound. The loop never blocks on the reader; the reader
never runs ahead of the consumer by more than ``max_queued`` items.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import threading
import time
from collections.abc import AsyncIterator, Callable
from typing import Any, Generic, TypeVar

from ..contracts.buffering.i_sample_reader_service import ISampleReaderService
from ..contracts.buffering.timestamp_data import TimestampData
from ..contracts.packet_reading.i_packet_reader_service import IPacketReaderService
from ..contracts.packet_reading.received_packet_dto import ReceivedPacketDto
from ..core.packet_reading.item_sources import Forwarder, ItemSource, PacketSource, WindowSource
from ..core.packet_reading.iteration import DEFAULT_MAX_QUEUED, WAIT_SLICE_S, validate_bounds
from ..errors import ReaderTimeoutError, StreamingError

__all__ = ["AsyncItemStream", "LoopChannel", "packets", "run_blocking", "windows"]

logger = logging.getLogger(__name__)

T = TypeVar("T")
R = TypeVar("R")


class LoopChannel(Generic[T]):
    """Items from one producer thread to one event loop; at most ``capacity`` in flight."""

    def __init__(self, loop: asyncio.AbstractEventLoop, capacity: int) -> None:
        self.capacity = capacity
        self.high_water = 0
        self._loop = loop
        self._queue: asyncio.Queue[T] = asyncio.Queue(capacity)
        self._arrived = asyncio.Event()
        self._condition = threading.Condition()
        self._reserved = 0  # items offered and not yet taken: in the queue or on their way
        self._closed = False

    def __len__(self) -> int:
        return self._queue.qsize()

    @property
    def closed(self) -> bool:
        return self._closed

    def offer(self, item: T, alive: Callable[[], bool]) -> bool:
        """Producer thread: reserve a place (waiting while full), then pass ``item`` to the loop.
        False once closed, or when full and ``alive()`` says the producer is stopping."""
        with self._condition:
            while self._reserved >= self.capacity and not self._closed:
                if not alive():
                    return False
                self._condition.wait(WAIT_SLICE_S)
            if self._closed:
                return False
            self._reserved += 1
            self.high_water = max(self.high_water, self._reserved)
        try:
            self._loop.call_soon_threadsafe(self._land, item)
        except RuntimeError:  # the loop is closed: nobody will ever take it
            self.close()
            return False
        return True

    def _land(self, item: T) -> None:
        if not self._closed:
            self._queue.put_nowait(item)  # never full: a place was reserved
            self._arrived.set()

    def take_nowait(self) -> T | None:
        """Loop: the oldest item, or None when the queue is empty."""
        try:
            item = self._queue.get_nowait()
        except asyncio.QueueEmpty:
            return None
        with self._condition:
            self._reserved -= 1
            self._condition.notify_all()
        return item

    def settled(self) -> bool:
        """Loop: every item offered so far is in the queue (none still on its way)."""
        with self._condition:
            return self._reserved == self._queue.qsize()

    async def arrival(self, timeout_s: float) -> None:
        """Loop: wait up to ``timeout_s`` for an item to land (returns early when one does)."""
        with contextlib.suppress(asyncio.TimeoutError):
            await asyncio.wait_for(self._arrived.wait(), timeout_s)
        self._arrived.clear()

    def close(self) -> None:
        """Refuse further offers and release a waiting producer (any thread)."""
        with self._condition:
            self._closed = True
            self._condition.notify_all()


async def run_blocking(function: Callable[[], R]) -> R:
    """Run a blocking call on a worker thread; if the caller is cancelled, the call still
    completes before the cancellation goes on, so nothing it started is left behind."""
    task = asyncio.ensure_future(asyncio.to_thread(function))
    try:
        return await asyncio.shield(task)
    except asyncio.CancelledError:
        await asyncio.wait({task})
        raise


class AsyncItemStream(Generic[T]):
    """An async iterator over a reader's items; see ``aio`` for the rules.

    ``async with stream:`` attaches at entry and closes at exit; ``async for item in stream``
    attaches by itself and closes when the loop ends, raises, or is cancelled.
    """

    def __init__(
        self,
        source: ItemSource[T],
        *,
        max_queued: int = DEFAULT_MAX_QUEUED,
        timeout: float | None = None,
    ) -> None:
        validate_bounds(max_queued, timeout)
        self.source = source
        self.timeout = timeout
        self.max_queued = max_queued
        self._channel: LoopChannel[T] | None = None
        self._state = "new"
        self._opening: asyncio.Future[None] | None = None

    @property
    def queued(self) -> int:
        """Items waiting in the queue now (at most ``max_queued``)."""
        return 0 if self._channel is None else len(self._channel)

    @property
    def high_water(self) -> int:
        """The most items in flight at once (queued or on their way to the loop)."""
        return 0 if self._channel is None else self._channel.high_water

    async def open(self) -> None:
        """Attach to the source, starting what is not started (on a worker thread)."""
        if self._state != "new":
            return
        self._state = "open"
        channel = self._channel = LoopChannel(asyncio.get_running_loop(), self.max_queued)
        handler = Forwarder(lambda item: channel.offer(item, self.source.alive))
        await run_blocking(lambda: self.source.attach(handler))

    async def aclose(self) -> None:
        """Stop: drop what is queued, detach, stop the owned services. Idempotent."""
        if self._state == "closed":
            return
        was_open, self._state = self._state == "open", "closed"
        if not was_open:
            return
        if self._channel is not None:
            self._channel.close()
        try:
            await run_blocking(self.source.detach)
        except Exception as exc:
            # Closed before the end: what the reader reports now (a timeout it saw) is only news.
            logger.warning("closing the async iterator: stopping the reader raised %r", exc)

    async def __aenter__(self) -> AsyncItemStream[T]:
        try:
            await self.open()
        except BaseException:
            await self.aclose()
            raise
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()

    def __aiter__(self) -> AsyncIterator[T]:
        if self._state == "closed":
            raise StreamingError("this async iterator is closed; create a new one")
        return self._iterate()

    async def _iterate(self) -> AsyncIterator[T]:
        try:
            await self.open()
            while True:
                item = await self._next_item()
                if item is None:
                    break
                yield item
            await self._finish()
        finally:
            await self.aclose()

    async def _next_item(self) -> T | None:
        """The next item, or None when the source has finished and the queue is drained."""
        channel = self._channel
        assert channel is not None
        deadline = None if self.timeout is None else time.monotonic() + self.timeout
        while True:
            # Read before looking at the queue: a source that had finished then had already
            # offered everything, so a settled, empty queue after it means the end.
            finished = self.source.finished()
            item = channel.take_nowait()
            if item is not None:
                return item
            if channel.closed or (finished and channel.settled()):
                return None
            wait = WAIT_SLICE_S
            if deadline is not None:
                wait = min(wait, deadline - time.monotonic())
                if wait <= 0:
                    raise ReaderTimeoutError(f"no item from the reader within {self.timeout} s")
            await channel.arrival(wait)

    async def _finish(self) -> None:
        """The natural end: detach and stop what was started, then raise what the reader hit."""
        if self._state == "closed":
            return
        self._state = "closed"
        await run_blocking(self.source.detach)
        failure = self.source.failure()
        if failure is not None:
            raise failure


def packets(
    reader: IPacketReaderService,
    *,
    max_queued: int = DEFAULT_MAX_QUEUED,
    timeout: float | None = None,
) -> AsyncItemStream[ReceivedPacketDto]:
    """The packets ``reader`` delivers, as an async iterator (and async context manager)."""
    return AsyncItemStream(PacketSource(reader), max_queued=max_queued, timeout=timeout)


def windows(
    sample_reader: ISampleReaderService,
    packet_reader: IPacketReaderService,
    *,
    data_type: type = TimestampData,
    max_queued: int = DEFAULT_MAX_QUEUED,
    timeout: float | None = None,
) -> AsyncItemStream[Any]:
    """The windows ``sample_reader`` releases (``data_type`` TimestampData or SampleData, with the
    Start…/End… items), fed by ``packet_reader`` — already passed to ``set_reader_service``. Ends
    when the packet reader has finished."""
    return AsyncItemStream(
        WindowSource(sample_reader, packet_reader, data_type),
        max_queued=max_queued,
        timeout=timeout,
    )

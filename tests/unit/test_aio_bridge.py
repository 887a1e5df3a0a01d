"""The bridges between a reader's thread and its consumer: bounds, back-pressure, end, errors.

A small thread-driven source stands in for a reader here (the real readers, on both transports
and with a writer process, are in tests/contract/test_aio.py).
"""

from __future__ import annotations

import asyncio
import threading
from typing import Any

import pytest

from ma_dataplatforms_streaming_support_library import aio
from ma_dataplatforms_streaming_support_library.aio.stream import AsyncItemStream, LoopChannel
from ma_dataplatforms_streaming_support_library.contracts.shared.i_handler import IHandler
from ma_dataplatforms_streaming_support_library.core.packet_reading.item_sources import ItemSource
from ma_dataplatforms_streaming_support_library.core.packet_reading.iteration import (
    EMPTY,
    BlockingIterator,
    BoundedChannel,
)
from ma_dataplatforms_streaming_support_library.errors import (
    ConfigurationError,
    ReaderTimeoutError,
    StreamingError,
)


class ThreadSource(ItemSource[int]):
    """Delivers ``count`` ints from its own thread, like a reader delivering to its handlers."""

    def __init__(self, count: int, failure: Exception | None = None) -> None:
        self.count = count
        self.delivered = 0
        self.detached = 0
        self._failure = failure
        self._done = threading.Event()
        self._stopping = threading.Event()
        self._thread: threading.Thread | None = None

    def attach(self, handler: IHandler[Any]) -> None:
        self._thread = threading.Thread(target=self._run, args=(handler,), name="fake-reader")
        self._thread.start()

    def _run(self, handler: IHandler[Any]) -> None:
        for item in range(self.count):
            if self._stopping.is_set():
                break
            handler.handle(item)
            self.delivered += 1
        self._done.set()

    def finished(self) -> bool:
        return self._done.is_set()

    def alive(self) -> bool:
        return not self._stopping.is_set()

    def detach(self) -> None:
        self.detached += 1
        self._stopping.set()
        if self._thread is not None:
            self._thread.join(5)
            assert not self._thread.is_alive()

    def failure(self) -> BaseException | None:
        return self._failure


# argument checks --------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("arguments", "named"),
    [
        ({"max_queued": 0}, "max_queued"),
        ({"max_queued": True}, "max_queued"),
        ({"max_queued": 2.5}, "max_queued"),
        ({"timeout": 0}, "timeout"),
        ({"timeout": "1"}, "timeout"),
    ],
)
def test_bad_bounds_raise_configuration_error_naming_the_argument(
    arguments: dict[str, Any], named: str
) -> None:
    with pytest.raises(ConfigurationError, match=named):
        BlockingIterator(ThreadSource(1), **arguments)
    with pytest.raises(ConfigurationError, match=named):
        AsyncItemStream(ThreadSource(1), **arguments)


# the thread → thread channel --------------------------------------------------------------------
def test_a_full_channel_makes_the_producer_wait_and_close_releases_it() -> None:
    channel: BoundedChannel[int] = BoundedChannel(2)
    assert channel.offer(1, lambda: True) and channel.offer(2, lambda: True)
    outcome: list[bool] = []
    producer = threading.Thread(target=lambda: outcome.append(channel.offer(3, lambda: True)))
    producer.start()
    producer.join(0.3)
    assert producer.is_alive() and len(channel) == 2  # waiting for room, not buffering

    assert channel.take(0) == 1
    producer.join(5)
    assert outcome == [True] and len(channel) == 2

    blocked = threading.Thread(target=lambda: outcome.append(channel.offer(4, lambda: True)))
    blocked.start()
    channel.close()
    blocked.join(5)
    assert outcome == [True, False] and len(channel) == 0
    assert channel.take(0) is EMPTY
    assert channel.high_water == 2


def test_a_full_channel_gives_up_when_the_producer_is_stopping() -> None:
    channel: BoundedChannel[int] = BoundedChannel(1)
    assert channel.offer(1, lambda: False)  # room: taken even while stopping
    assert not channel.offer(2, lambda: False)
    assert len(channel) == 1


# plain iteration --------------------------------------------------------------------------------
def test_plain_iteration_delivers_in_order_within_the_bound_and_ends() -> None:
    source = ThreadSource(500)
    iterator = BlockingIterator(source, max_queued=3)

    assert list(iterator) == list(range(500))
    assert iterator.high_water <= 3
    assert source.detached == 1
    with pytest.raises(StreamingError, match="closed"):
        list(iterator)


def test_plain_iteration_raises_the_source_failure_after_the_items() -> None:
    got: list[int] = []
    with pytest.raises(RuntimeError, match="broken"):
        got.extend(BlockingIterator(ThreadSource(5, RuntimeError("broken")), max_queued=2))
    assert got == [0, 1, 2, 3, 4]


def test_plain_iteration_timeout_raises_and_closes() -> None:
    class Silent(ThreadSource):
        def _run(self, handler: IHandler[Any]) -> None:
            self._stopping.wait()

    source = Silent(0)
    with pytest.raises(ReaderTimeoutError, match=r"0\.2 s"):
        list(BlockingIterator(source, timeout=0.2))
    assert source.detached == 1


def test_breaking_out_releases_a_producer_blocked_on_a_full_queue() -> None:
    source = ThreadSource(10_000)
    with BlockingIterator(source, max_queued=2) as iterator:
        for item in iterator:
            if item == 3:
                break
    assert source.detached == 1
    assert source.delivered < 10  # the producer never ran ahead of the consumer


# the thread → event loop channel ----------------------------------------------------------------
def test_loop_channel_keeps_order_and_bound_across_threads() -> None:
    async def main() -> tuple[list[int], int]:
        channel: LoopChannel[int] = LoopChannel(asyncio.get_running_loop(), 3)
        producer = threading.Thread(
            target=lambda: [channel.offer(i, lambda: True) for i in range(2000)]
        )
        producer.start()
        got: list[int] = []
        while len(got) < 2000:
            item = channel.take_nowait()
            if item is None:
                await channel.arrival(0.1)
            else:
                got.append(item)
        producer.join(5)
        return got, channel.high_water

    got, high_water = asyncio.run(main())
    assert got == list(range(2000))
    assert high_water <= 3


def test_async_iteration_ends_with_the_source_and_raises_its_failure() -> None:
    async def main() -> list[int]:
        got: list[int] = []
        with pytest.raises(RuntimeError, match="broken"):
            async for item in aio.AsyncItemStream(
                ThreadSource(300, RuntimeError("broken")), max_queued=4
            ):
                got.append(item)
        return got

    assert asyncio.run(main()) == list(range(300))


def test_a_cancelled_async_consumer_releases_the_blocked_producer_and_detaches() -> None:
    source = ThreadSource(10_000)

    async def main() -> int:
        stream = aio.AsyncItemStream(source, max_queued=2)

        async def consume() -> None:
            async with stream:
                async for _ in stream:
                    await asyncio.sleep(3600)

        task = asyncio.create_task(consume())
        while stream.queued < 2:
            await asyncio.sleep(0.01)
        await asyncio.sleep(0.2)
        delivered_while_stuck = source.delivered
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        return delivered_while_stuck

    delivered_while_stuck = asyncio.run(main())
    assert delivered_while_stuck == 3  # one taken, two queued; the fourth waits for room
    assert source.detached == 1
    assert not [t for t in threading.enumerate() if t.name == "fake-reader"]


def test_async_item_timeout_raises_reader_timeout_error() -> None:
    class Silent(ThreadSource):
        def _run(self, handler: IHandler[Any]) -> None:
            self._stopping.wait()

    source = Silent(0)

    async def main() -> None:
        with pytest.raises(ReaderTimeoutError):
            async for _ in aio.AsyncItemStream(source, timeout=0.2):
                pass

    asyncio.run(main())
    assert source.detached == 1

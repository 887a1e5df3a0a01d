"""Plain iterators over a packet reader's packets and a sample reader's windows, for scripts.

::

    reader = lib.get_reading_packet_api().create_service(data_source, session_key).data
    for dto in reader.packets(timeout=30):
        print(dto.stream, len(dto.packet_bytes.data))

    with iterate_windows(sample_reader, reader) as windows:   # after set_reader_service(reader)
        for window in windows:                                 # TimestampData, Start…/End… too
            ...

Rules:

- **Back-pressure, bounded memory.** The reader's thread puts each item in a queue of at most
  ``max_queued`` items. When it is full, the reader's delivery waits until the consumer takes one:
  a slow consumer slows the reader down, nothing is dropped and the queue never grows past its
  bound. (Other handlers of the same reader wait too: they share its thread.)
- **End.** Iteration ends when the packet reader has finished (a HISTORIC read completed, or the
  reader was stopped) and every queued item was taken. A LIVE read goes on until it is stopped or
  the iterator is closed (``break`` out of the ``for`` loop, ``close()``, or leaving ``with``).
- **Ownership.** A service not yet started when iteration begins is started by it and stopped when
  it ends; a service already started is left running (only the iterator's handler is removed).
- **Errors.** What stopping an owned reader raises (its ``TimeoutError`` when
  ``raise_exception_on_timeout``) and an error that stopped the reader's thread are raised by the
  iterator once the queued items are consumed. ``timeout`` (seconds) bounds the wait for each
  item: ``ReaderTimeoutError`` when none arrives in time, and the iteration is closed.

``aio/`` bridges the same sources into asyncio.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import deque
from collections.abc import Callable, Iterator
from typing import Any, Generic, TypeVar

from ...contracts.buffering.i_sample_reader_service import ISampleReaderService
from ...contracts.buffering.timestamp_data import TimestampData
from ...contracts.packet_reading.i_packet_reader_service import IPacketReaderService
from ...contracts.packet_reading.received_packet_dto import ReceivedPacketDto
from ...errors import ConfigurationError, ReaderTimeoutError, StreamingError
from .item_sources import Forwarder, ItemSource, PacketSource, WindowSource

__all__ = [
    "DEFAULT_MAX_QUEUED",
    "EMPTY",
    "WAIT_SLICE_S",
    "BlockingIterator",
    "BoundedChannel",
    "iterate_packets",
    "iterate_windows",
    "validate_bounds",
]

logger = logging.getLogger(__name__)

T = TypeVar("T")

#: Items a queue holds before the reader's delivery waits for the consumer.
DEFAULT_MAX_QUEUED = 1024
#: How often a waiting side looks again at whether the other side has gone away.
WAIT_SLICE_S = 0.1


class _Empty:
    """Marks "nothing arrived" (an item may be any object, None included)."""


EMPTY = _Empty()


def validate_bounds(max_queued: object, timeout: object) -> None:
    """Raise ``ConfigurationError`` naming the argument when either is out of range."""
    if type(max_queued) is not int or max_queued < 1:
        raise ConfigurationError(f"max_queued must be an int >= 1, got {max_queued!r}")
    if timeout is not None and (
        type(timeout) not in (int, float) or not timeout > 0  # type: ignore[operator]
    ):
        raise ConfigurationError(
            f"timeout must be None or a number of seconds > 0, got {timeout!r}"
        )


class BoundedChannel(Generic[T]):
    """A FIFO of at most ``capacity`` items from one producer thread to one consumer thread."""

    def __init__(self, capacity: int) -> None:
        self.capacity = capacity
        self.high_water = 0
        self._items: deque[T] = deque()
        self._condition = threading.Condition()
        self._closed = False

    def __len__(self) -> int:
        return len(self._items)

    @property
    def closed(self) -> bool:
        return self._closed

    def offer(self, item: T, alive: Callable[[], bool]) -> bool:
        """Append ``item``, waiting while the channel is full; False (item not taken) once the
        channel is closed, or when it is full and ``alive()`` says the producer is stopping."""
        with self._condition:
            while len(self._items) >= self.capacity and not self._closed:
                if not alive():
                    return False
                self._condition.wait(WAIT_SLICE_S)
            if self._closed:
                return False
            self._items.append(item)
            self.high_water = max(self.high_water, len(self._items))
            self._condition.notify_all()
            return True

    def take(self, timeout_s: float) -> T | _Empty:
        """The oldest item, waiting up to ``timeout_s`` for one; ``EMPTY`` if none came."""
        with self._condition:
            if not self._items and not self._closed:
                self._condition.wait(timeout_s)
            if not self._items:
                return EMPTY
            item = self._items.popleft()
            self._condition.notify_all()
            return item

    def close(self) -> None:
        """Drop what is queued and release a waiting producer; later offers are refused."""
        with self._condition:
            self._closed = True
            self._items.clear()
            self._condition.notify_all()


class BlockingIterator(Generic[T]):
    """Iterates the items of a source through a ``BoundedChannel``; see the module docstring.

    Iterate it once (``for item in it``); ``with it:`` attaches at entry and closes at exit.
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
        self.channel: BoundedChannel[T] = BoundedChannel(max_queued)
        self._handler = Forwarder(lambda item: self.channel.offer(item, source.alive))
        self._state = "new"
        self._lock = threading.Lock()

    @property
    def max_queued(self) -> int:
        return self.channel.capacity

    @property
    def queued(self) -> int:
        """Items waiting in the queue now (at most ``max_queued``)."""
        return len(self.channel)

    @property
    def high_water(self) -> int:
        """The most items the queue has held at once."""
        return self.channel.high_water

    def open(self) -> None:
        """Attach to the source (starting what is not started); iteration does it by itself."""
        with self._lock:
            if self._state != "new":
                return
            self._state = "open"
        self.source.attach(self._handler)

    def close(self) -> None:
        """Stop iterating: drop what is queued, detach, stop the owned services. Idempotent."""
        with self._lock:
            if self._state in ("closed", "new"):
                self._state = "closed"
                return
            self._state = "closed"
        self.channel.close()
        try:
            self.source.detach()
        except Exception as exc:
            # Closed before the end: what the reader reports now (a timeout it saw) is only news.
            logger.warning("closing the iterator: stopping the reader raised %r", exc)

    def __enter__(self) -> BlockingIterator[T]:
        self.open()
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __iter__(self) -> Iterator[T]:
        if self._state == "closed":
            raise StreamingError("this iterator is closed; ask the reader for a new one")
        self.open()
        try:
            while True:
                item = self._next_item()
                if isinstance(item, _Empty):
                    break
                yield item
            self._finish()
        finally:
            self.close()

    def _next_item(self) -> T | _Empty:
        """The next item, or ``EMPTY`` when the source has finished and the queue is drained."""
        deadline = None if self.timeout is None else time.monotonic() + self.timeout
        while True:
            # Read before looking at the queue: a source that had finished then had already
            # queued everything, so an empty queue after it means the end.
            finished = self.source.finished()
            wait = (
                WAIT_SLICE_S if deadline is None else min(WAIT_SLICE_S, deadline - time.monotonic())
            )
            item = self.channel.take(max(0.0, wait))
            if not isinstance(item, _Empty) or finished or self.channel.closed:
                return item
            if deadline is not None and time.monotonic() >= deadline:
                raise ReaderTimeoutError(f"no item from the reader within {self.timeout} s")

    def _finish(self) -> None:
        """The natural end: detach and stop what was started, then raise what the reader hit."""
        with self._lock:
            if self._state == "closed":
                return  # closed from elsewhere while iterating
            self._state = "closed"
        self.channel.close()
        self.source.detach()
        failure = self.source.failure()
        if failure is not None:
            raise failure


def iterate_packets(
    reader: IPacketReaderService,
    *,
    max_queued: int = DEFAULT_MAX_QUEUED,
    timeout: float | None = None,
) -> BlockingIterator[ReceivedPacketDto]:
    """The packets ``reader`` delivers, as a plain iterator (``reader.packets()`` calls this)."""
    return BlockingIterator(PacketSource(reader), max_queued=max_queued, timeout=timeout)


def iterate_windows(
    sample_reader: ISampleReaderService,
    packet_reader: IPacketReaderService,
    *,
    data_type: type = TimestampData,
    max_queued: int = DEFAULT_MAX_QUEUED,
    timeout: float | None = None,
) -> BlockingIterator[Any]:
    """The windows ``sample_reader`` releases, as a plain iterator; it ends with ``packet_reader``."""
    return BlockingIterator(
        WindowSource(sample_reader, packet_reader, data_type),
        max_queued=max_queued,
        timeout=timeout,
    )

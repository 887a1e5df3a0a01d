"""Reading ahead: a thread produces the next items (chunks of records) while the caller works."""

from __future__ import annotations

import queue
import threading
from collections.abc import Callable, Generator, Iterator
from dataclasses import dataclass
from typing import TypeVar

__all__ = ["read_ahead"]

T = TypeVar("T")

# Items produced ahead of the caller (each holds packed values: bounded memory).
_READ_AHEAD = 2
_PUT_TIMEOUT_S = 0.1


def read_ahead(produce: Callable[[], Generator[T, None, None]]) -> Iterator[T]:
    """Yield what ``produce()`` yields, produced on a thread of its own ahead of the caller.

    The thread reads and packs the next items while the caller decodes this one: the store or
    broker client releases the GIL while it waits or steps, so both go on at once. At most
    ``_READ_AHEAD`` items wait; closing the iterator stops the thread.
    """
    items: queue.Queue[T | _Failure | None] = queue.Queue(_READ_AHEAD)
    stop = threading.Event()

    def read() -> None:
        produced = produce()
        try:
            for item in produced:
                if not _offer(items, item, stop):
                    return
            _offer(items, None, stop)
        except BaseException as exc:  # handed to the reading thread, raised there
            _offer(items, _Failure(exc), stop)
        finally:
            produced.close()  # closes the consumer at once, also when the caller stopped early

    reader = threading.Thread(target=read, name="ma-streaming-session-scan", daemon=True)
    reader.start()
    try:
        while (item := items.get()) is not None:
            if isinstance(item, _Failure):
                raise item.exception
            yield item
            del item
    finally:
        stop.set()
        reader.join()


@dataclass(frozen=True, slots=True)
class _Failure:
    """What stopped the reading thread, handed to the caller."""

    exception: BaseException


def _offer(queued: queue.Queue[T], item: T, stop: threading.Event) -> bool:
    """Queue ``item`` unless the reader stopped listening first; False when it did."""
    while not stop.is_set():
        try:
            queued.put(item, timeout=_PUT_TIMEOUT_S)
            return True
        except queue.Full:
            continue
    return False

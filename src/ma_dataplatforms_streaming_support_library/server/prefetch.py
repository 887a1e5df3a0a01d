"""Responses of a streaming call made on a thread of their own, a bounded number ahead.

grpcio's sync server sends one message at a time from the handler's thread and waits for the
send to complete before asking the handler for the next one, so a handler that reads and encodes
on that thread leaves the connection idle while it works, and the store idle while it sends.
Making the next responses on another thread overlaps the two. At most ``depth`` items (each the
responses of one poll) wait in the queue, so a client that stops reading still stops the reading
(back-pressure), and memory stays bounded by ``depth`` + 2 items (the queued ones, one being
made, one being sent).
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Callable, Iterator
from typing import Final, TypeVar, cast

__all__ = ["prefetched"]

T = TypeVar("T")

#: how often a blocked producer or consumer looks at whether the call has ended
_WAKE_S: Final = 0.05
_END: Final = object()


class _Failure:
    """An exception of the producer, raised again on the consumer's thread."""

    def __init__(self, error: BaseException) -> None:
        self.error = error


def prefetched(
    produce: Callable[[Callable[[], bool]], Iterator[T]],
    should_stop: Callable[[], bool],
    *,
    depth: int = 2,
    name: str = "ma-streaming-read",
) -> Iterator[T]:
    """Yield the items of ``produce(stop)``, made on a new thread up to ``depth`` ahead.

    ``stop()`` (given to ``produce``) is true once ``should_stop()`` is or the consumer has
    closed this generator; the producer is expected to end soon after (what it makes from then
    on may be dropped: the call is ending). An exception of the producer is raised here.
    Closing this generator waits for the producer's thread to end, so its ``finally`` blocks
    (closing a consumer, counting) have run when the call ends.
    """
    items: queue.Queue[object] = queue.Queue(maxsize=depth)
    closed = threading.Event()

    def stop() -> bool:
        return closed.is_set() or should_stop()

    def put(item: object) -> bool:
        # should_stop too: a consumer whose call has gone may be closed only when collected
        while not stop():
            try:
                items.put(item, timeout=_WAKE_S)
                return True
            except queue.Full:
                continue
        return False

    def run() -> None:
        try:
            for item in produce(stop):
                if not put(item):
                    return
            put(_END)
        except BaseException as exc:  # every failure ends the call, on the consumer's thread
            put(_Failure(exc))

    thread = threading.Thread(target=run, name=name, daemon=True)
    thread.start()
    try:
        while True:
            try:
                item = items.get(timeout=_WAKE_S)
            except queue.Empty:
                if not thread.is_alive() and items.empty():
                    return
                continue
            if item is _END:
                return
            if isinstance(item, _Failure):
                raise item.error
            yield cast(T, item)
    finally:
        closed.set()
        thread.join()

"""Made ahead: the next items of an iterator made on a thread of their own while the caller
works on this one (a session scan decoding one chunk while the next is fetched; a Stream API
read encoding the next responses while one is sent).

At most ``depth`` items wait in the queue, so a caller that stops taking items also stops the
making (back-pressure), and memory stays bounded by ``depth`` + 2 items (the queued ones, one
being made, one being used).
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Callable, Iterator
from typing import Final, TypeVar, cast

__all__ = ["made_ahead"]

T = TypeVar("T")

#: how often a blocked maker or caller looks at whether the other side has ended
_WAKE_S: Final = 0.05
_END: Final = object()


class _Failure:
    """An exception of the maker, raised again on the caller's thread."""

    def __init__(self, error: BaseException) -> None:
        self.error = error


def _never() -> bool:
    return False


def made_ahead(
    produce: Callable[[Callable[[], bool]], Iterator[T]],
    should_stop: Callable[[], bool] = _never,
    *,
    name: str = "ma-streaming-ahead",
    depth: int = 2,
) -> Iterator[T]:
    """Yield the items of ``produce(stop)``, made on a new thread (named ``name``) up to
    ``depth`` ahead.

    ``stop()`` (given to ``produce``) is true once ``should_stop()`` is or the caller has closed
    this generator; the maker is expected to end soon after (what it makes from then on is
    dropped). An exception of the maker is raised here. The maker's iterator is closed on its
    own thread when it ends or is no longer wanted, and closing this generator waits for that
    thread, so the maker's ``finally`` blocks (closing a consumer, counting) have run by then.
    """
    items: queue.Queue[object] = queue.Queue(maxsize=depth)
    closed = threading.Event()

    def stop() -> bool:
        return closed.is_set() or should_stop()

    def put(item: object) -> bool:
        # should_stop too: a caller whose work has ended may close this generator only when
        # it is collected
        while not stop():
            try:
                items.put(item, timeout=_WAKE_S)
                return True
            except queue.Full:
                continue
        return False

    def run() -> None:
        made: Iterator[T] | None = None
        try:
            made = produce(stop)
            for item in made:
                if not put(item):
                    return
            put(_END)
        except BaseException as exc:  # every failure ends the iteration, on the caller's thread
            put(_Failure(exc))
        finally:
            close = getattr(made, "close", None)  # a generator's; None for other iterators
            if close is not None:
                close()

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
            del item  # not held while the next one is awaited
    finally:
        closed.set()
        thread.join()

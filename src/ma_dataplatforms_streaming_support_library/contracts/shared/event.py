"""Event: a C#-style event with subscribe/unsubscribe; callbacks run as ``callback(sender, args)``."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from typing import Any, Generic, TypeVar

__all__ = ["Event"]

logger = logging.getLogger(__name__)

A = TypeVar("A")


class Event(Generic[A]):
    """A list of callbacks raised with ``(sender, args)``.

    ``unsubscribe`` matches by equality, so a freshly created bound method removes the one added
    earlier. An exception in a callback is logged with its traceback and never reaches the raiser.
    """

    def __init__(self, name: str = "") -> None:
        self.name = name
        self._callbacks: list[Callable[[Any, A], None]] = []
        self._lock = threading.Lock()

    def subscribe(self, callback: Callable[[Any, A], None]) -> None:
        if not callable(callback):
            raise TypeError(f"event {self.name!r}: callback must be callable, got {callback!r}")
        with self._lock:
            self._callbacks.append(callback)

    def unsubscribe(self, callback: Callable[[Any, A], None]) -> None:
        with self._lock:
            for index, existing in enumerate(self._callbacks):
                if existing == callback:
                    del self._callbacks[index]
                    return

    def __iadd__(self, callback: Callable[[Any, A], None]) -> Event[A]:
        self.subscribe(callback)
        return self

    def __isub__(self, callback: Callable[[Any, A], None]) -> Event[A]:
        self.unsubscribe(callback)
        return self

    @property
    def subscriber_count(self) -> int:
        return len(self._callbacks)

    def raise_event(self, sender: object, args: A) -> None:
        with self._lock:
            callbacks = list(self._callbacks)
        for callback in callbacks:
            try:
                callback(sender, args)
            except Exception:
                logger.exception("event %r: subscriber %r raised; continuing", self.name, callback)

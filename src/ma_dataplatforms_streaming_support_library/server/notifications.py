"""NotificationHub: session start/stop notifications fanned out to the RPCs that wait for them."""

from __future__ import annotations

import logging
import queue
import threading
from collections.abc import Callable, Iterator
from typing import Any

from ..contracts.session_management.session_info import SessionInfo

__all__ = ["NotificationHub", "Subscription"]

logger = logging.getLogger(__name__)

_WAIT_S = 0.2


class Subscription:
    """The bounded queue of one notification stream; ``overflowed`` once its client fell behind."""

    def __init__(self, data_source: str, capacity: int) -> None:
        self.data_source = data_source
        self.queue: queue.Queue[SessionInfo] = queue.Queue(capacity)
        self.overflowed = False

    def offer(self, info: SessionInfo) -> None:
        try:
            self.queue.put_nowait(info)
        except queue.Full:
            self.overflowed = True

    def items(self, should_stop: Callable[[], bool]) -> Iterator[SessionInfo]:
        """Notifications as they come, until ``should_stop()`` or the queue overflowed."""
        while not should_stop() and not self.overflowed:
            try:
                yield self.queue.get(timeout=_WAIT_S)
            except queue.Empty:
                continue


class NotificationHub:
    """Receives the session service's live events and hands each to the subscriptions of its data
    source. A subscriber that lets ``capacity`` notifications pile up is dropped (its stream ends),
    as the C# server drops a notification stream it cannot write to."""

    def __init__(self, capacity: int) -> None:
        self._capacity = capacity
        self._lock = threading.Lock()
        self._subscriptions: list[Subscription] = []

    def subscribe(self, data_source: str) -> Subscription:
        subscription = Subscription(data_source, self._capacity)
        with self._lock:
            self._subscriptions.append(subscription)
        return subscription

    def unsubscribe(self, subscription: Subscription) -> None:
        with self._lock:
            if subscription in self._subscriptions:
                self._subscriptions.remove(subscription)

    def publish(self, _sender: Any, info: SessionInfo) -> None:
        """An event handler: ``session_service.live_session_started += hub.publish``."""
        with self._lock:
            subscriptions = [s for s in self._subscriptions if s.data_source == info.data_source]
        for subscription in subscriptions:
            subscription.offer(info)
            if subscription.overflowed:
                logger.warning(
                    "a session notification stream of %r fell %d notifications behind; ending it",
                    info.data_source,
                    self._capacity,
                )
                self.unsubscribe(subscription)

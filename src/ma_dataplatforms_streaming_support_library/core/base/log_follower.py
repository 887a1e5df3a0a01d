"""LogFollower: one thread applying a log's records to in-memory state, with read-your-writes waits."""

from __future__ import annotations

import abc
import logging
import threading
import time
from collections.abc import Callable, Mapping
from typing import Generic, TypeVar

from ...contracts.shared.retry_policy import RetryPolicy
from ...errors import TransportError
from ...transport.base import Consumer, Record, TopicPartition, Transport
from .retry import with_retries

__all__ = ["LogFollower"]

logger = logging.getLogger(__name__)

C = TypeVar("C")

_POLL_RECORDS = 1000
_POLL_TIMEOUT_S = 0.05
_WAIT_ROUND_S = 0.1


def _close_quietly(consumer: Consumer) -> None:
    try:
        consumer.close()
    except Exception:
        logger.debug("closing a consumer failed", exc_info=True)


class LogFollower(abc.ABC, Generic[C]):
    """Reads its topics on a background thread and applies each record under ``_lock``.

    ``_apply`` turns a record into changes, which listeners receive on the follower's thread.
    ``_wait_applied`` blocks until the given end offsets have been applied, so a caller sees
    everything written before its call. The thread waits in long polls and is woken (never
    polled faster) when it has something to do: a new assignment (``_wake``) or ``stop``. When reading fails with a ``TransportError``, the
    follower reconnects as the retry policy allows and resumes after the last applied record;
    if it cannot, the failure is kept and reported by every later wait.
    """

    def __init__(
        self,
        transport: Transport,
        timeout_s: float,
        retry_policy: RetryPolicy | None = None,
        replay_idle_s: float | None = None,
    ) -> None:
        self._transport = transport
        self._timeout_s = timeout_s
        self._retry_policy = retry_policy
        #: a start-up replay that applies nothing for this long counts as finished (``_wait_applied``)
        self._replay_idle_s = replay_idle_s
        self._assigned_from: dict[TopicPartition, int] = {}
        self._applied: dict[TopicPartition, int] = {}
        self._lock = threading.Lock()
        self._progress = threading.Condition(self._lock)
        self._listeners: list[Callable[[C], None]] = []
        self._thread: threading.Thread | None = None
        #: the consumer the thread polls (replaced by a reconnect), for ``_wake``
        self._consumer: Consumer | None = None
        self._stopping = threading.Event()
        self._failure: BaseException | None = None
        self._last_applied = 0.0

    @abc.abstractmethod
    def _apply(self, record: Record) -> list[C]:
        """The changes one record makes (called with ``_lock`` held)."""

    def _before_poll(self, consumer: Consumer) -> None:
        """Runs on the follower's thread before each poll (assignments, discovery)."""

    def _launch(self, consumer: Consumer, thread_name: str) -> None:
        """Start the follower thread on ``consumer`` (call with ``_lock`` held, once)."""
        self._consumer = consumer
        self._thread = threading.Thread(
            target=self._follow, args=(consumer,), name=thread_name, daemon=True
        )
        self._thread.start()

    def _wake(self) -> None:
        """End the thread's current poll, so that it runs ``_before_poll`` or sees a stop now."""
        with self._lock:
            consumer = self._consumer
        if consumer is not None:
            consumer.wake()

    def request_stop(self) -> None:
        """Tell the thread to stop, without waiting for it (``stop`` waits)."""
        self._stopping.set()
        self._wake()

    def stop(self) -> None:
        """Stop the thread and wait for it (at most the timeout) to close its consumer."""
        self.request_stop()
        thread = self._thread
        if thread is not None and thread is not threading.current_thread():
            thread.join(self._timeout_s)

    def add_listener(self, listener: Callable[[C], None]) -> None:
        with self._lock:
            self._listeners.append(listener)

    def remove_listener(self, listener: Callable[[C], None]) -> None:
        with self._lock:
            if listener in self._listeners:
                self._listeners.remove(listener)

    def _assign(self, consumer: Consumer, positions: Mapping[TopicPartition, int]) -> None:
        """Assign partitions from these offsets, remembered so a reconnect can resume them."""
        consumer.assign(dict(positions))
        for where, offset in positions.items():
            self._assigned_from.setdefault(where, offset)

    def _reconnect(self) -> Consumer:
        consumer = self._transport.consumer()
        with self._lock:
            positions = {
                where: self._applied.get(where, start)
                for where, start in self._assigned_from.items()
            }
        try:
            if positions:
                consumer.assign(positions)
        except TransportError:
            consumer.close()
            raise
        return consumer

    def _follow(self, consumer: Consumer) -> None:
        name = type(self).__name__
        current: Consumer | None = consumer
        try:
            while not self._stopping.is_set():
                assert current is not None
                try:
                    self._poll_once(current)
                except TransportError as exc:
                    if self._retry_policy is None:
                        raise
                    logger.warning("%s lost its connection (%s); reconnecting", name, exc)
                    _close_quietly(current)
                    current = None
                    current = with_retries(
                        self._reconnect, self._retry_policy, f"{name} reconnect", self._stopping
                    )
                    with self._lock:
                        self._consumer = current
        except BaseException as exc:  # the thread must record why it died
            logger.exception("%s stopped following its topics", name)
            with self._lock:
                self._failure = exc
                self._progress.notify_all()
        finally:
            if current is not None:
                _close_quietly(current)

    def _poll_once(self, consumer: Consumer) -> None:
        self._before_poll(consumer)
        records = consumer.poll(_POLL_RECORDS, _POLL_TIMEOUT_S)
        changes: list[C] = []
        with self._lock:
            for record in records:
                changes.extend(self._apply(record))
                self._applied[(record.topic, record.partition)] = record.offset + 1
            if records:
                self._last_applied = time.monotonic()
                self._progress.notify_all()
            listeners = list(self._listeners)
        for change in changes:
            for listener in listeners:
                try:
                    listener(change)
                except Exception:
                    logger.exception("listener %r raised; continuing", listener)

    def _wait_applied(
        self,
        topic: str,
        targets: Mapping[int, int],
        timeout_s: float,
        each_round: Callable[[], None] | None = None,
        idle_s: float | None = None,
    ) -> None:
        """Block until every partition of ``topic`` is applied up to its target end offset.

        ``each_round`` runs before every check (outside the lock), e.g. to retry an assignment.
        With ``idle_s`` (a start-up replay), the wait also ends, with a warning, once no record has
        been applied for ``idle_s`` seconds: as in the Stream API, a replay that went quiet counts
        as finished, and later reads catch up on their own.
        Raises ``TransportError`` if the follower failed or ``timeout_s`` passes first.
        """
        started = time.monotonic()
        deadline = started + timeout_s
        while True:
            if each_round is not None:
                each_round()
            with self._lock:
                if self._failure is not None:
                    raise TransportError(f"following {topic} failed: {self._failure}")
                behind = {
                    partition: end
                    for partition, end in targets.items()
                    if self._applied.get((topic, partition), 0) < end
                }
                if not behind:
                    return
                now = time.monotonic()
                if idle_s is not None and now - max(started, self._last_applied) >= idle_s:
                    logger.warning(
                        "start-up replay of %s idle for %s s before offsets %s; continuing with "
                        "what was read",
                        topic,
                        idle_s,
                        behind,
                    )
                    return
                remaining = deadline - now
                if remaining <= 0:
                    raise TransportError(
                        f"could not read {topic} up to offsets {behind} in time", retriable=True
                    )
                self._progress.wait(min(remaining, _WAIT_ROUND_S))

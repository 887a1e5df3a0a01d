"""The retry policy, applied wherever the library (re)connects to the store or broker."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from typing import TypeVar

from ...contracts.shared.retry_mode import RetryMode
from ...contracts.shared.retry_policy import RetryPolicy
from ...errors import TransportError

__all__ = ["with_retries"]

logger = logging.getLogger(__name__)

T = TypeVar("T")

#: the first pause of a grace period; each later one doubles, up to _GRACE_PAUSE_MAX_S
_GRACE_PAUSE_S = 0.1
_GRACE_PAUSE_MAX_S = 1.0


def with_retries(
    operation: Callable[[], T],
    policy: RetryPolicy | None,
    what: str,
    stopping: threading.Event | None = None,
    grace_s: float = 0.0,
) -> T:
    """``operation()``, tried again after each ``TransportError`` as ``policy`` allows.

    For ``grace_s`` seconds after the first failure, failures are retried with short, growing
    pauses (0.1 s doubling to 1 s) and do not count against the policy: an outage shorter than
    the grace is a slow broker, not a lost one. After that, no policy: one attempt; FINITE: up to
    ``max_retry_count`` retries; INFINITE: until it succeeds or ``stopping`` is set. Each policy
    retry waits ``delay_between_retries`` and is logged as a warning naming ``what``. The last
    error is raised when the policy gives up or ``stopping`` is set.
    """
    attempt = 0
    grace_ends: float | None = None
    pause = _GRACE_PAUSE_S
    while True:
        try:
            return operation()
        except TransportError as exc:
            now = time.monotonic()
            grace_ends = now + grace_s if grace_ends is None else grace_ends
            if now < grace_ends:
                delay_s, pause = min(pause, grace_ends - now), min(pause * 2, _GRACE_PAUSE_MAX_S)
                logger.debug("%s failed (%s); trying again in %.1f s", what, exc, delay_s)
            else:
                attempt += 1
                if policy is None or (
                    policy.retry_mode is not RetryMode.INFINITE and attempt > policy.max_retry_count
                ):
                    raise
                delay_s = policy.delay_between_retries.total_seconds()
                limit = (
                    "" if policy.retry_mode is RetryMode.INFINITE else f"/{policy.max_retry_count}"
                )
                logger.warning(
                    "%s failed (%s); retry %d%s in %s s", what, exc, attempt, limit, delay_s
                )
            if stopping is None:
                time.sleep(delay_s)
            elif stopping.wait(delay_s):
                raise

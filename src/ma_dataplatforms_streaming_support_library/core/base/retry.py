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


def with_retries(
    operation: Callable[[], T],
    policy: RetryPolicy | None,
    what: str,
    stopping: threading.Event | None = None,
) -> T:
    """``operation()``, tried again after each ``TransportError`` as ``policy`` allows.

    No policy: one attempt. FINITE: up to ``max_retry_count`` retries; INFINITE: until it succeeds
    or ``stopping`` is set. Each retry waits ``delay_between_retries`` and is logged as a warning
    naming ``what``. The last error is raised when the policy gives up or ``stopping`` is set.
    """
    attempt = 0
    while True:
        try:
            return operation()
        except TransportError as exc:
            attempt += 1
            if policy is None or (
                policy.retry_mode is not RetryMode.INFINITE and attempt > policy.max_retry_count
            ):
                raise
            delay_s = policy.delay_between_retries.total_seconds()
            limit = "" if policy.retry_mode is RetryMode.INFINITE else f"/{policy.max_retry_count}"
            logger.warning("%s failed (%s); retry %d%s in %s s", what, exc, attempt, limit, delay_s)
            if stopping is None:
                time.sleep(delay_s)
            elif stopping.wait(delay_s):
                raise

"""RetryMode: whether a retry policy gives up after a number of attempts."""

from __future__ import annotations

import enum

__all__ = ["RetryMode"]


class RetryMode(enum.IntEnum):
    """How often to retry connecting to the broker: a finite number of times or for ever."""

    FINITE = 0
    INFINITE = 1

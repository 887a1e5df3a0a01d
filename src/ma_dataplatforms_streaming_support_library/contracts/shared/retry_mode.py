"""RetryMode: whether a retry policy gives up after a number of attempts."""

from __future__ import annotations

import enum

__all__ = ["RetryMode"]


class RetryMode(enum.IntEnum):
    FINITE = 0
    INFINITE = 1

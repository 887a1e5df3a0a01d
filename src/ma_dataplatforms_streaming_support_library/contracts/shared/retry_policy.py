"""RetryPolicy: how often and how long to retry reaching the broker at start."""

from __future__ import annotations

import datetime
from dataclasses import dataclass, field

from .retry_mode import RetryMode

__all__ = ["RetryPolicy"]


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    max_retry_count: int = 0
    delay_between_retries: datetime.timedelta = field(
        default_factory=lambda: datetime.timedelta(seconds=1)
    )
    retry_mode: RetryMode = RetryMode.FINITE

    def __post_init__(self) -> None:
        if not isinstance(self.max_retry_count, int) or self.max_retry_count < 0:
            raise ValueError(
                f"max_retry_count must be a non-negative int, got {self.max_retry_count!r}"
            )
        if not isinstance(self.delay_between_retries, datetime.timedelta):
            raise TypeError(
                "delay_between_retries must be a datetime.timedelta, "
                f"got {type(self.delay_between_retries).__name__}"
            )

"""Connection-trouble log lines, bounded: a broker outage must not write a line every 50 ms.

While a broker is down, librdkafka reports every failed connect of every client (the producer,
the admin client, each consumer) several times a second. The first line of a kind is logged; the
same line again (digits ignored, so "after 0ms" and "after 1ms" are one kind) is dropped for
``interval_s``, and the next one logged says how many were dropped.
"""

from __future__ import annotations

import logging
import re
import threading
import time

__all__ = ["RepeatThrottle", "repeats_note"]

_DIGITS = re.compile(r"\d+")


class RepeatThrottle(logging.Filter):
    """A logging filter that passes one record of each kind per ``interval_s``."""

    def __init__(self, interval_s: float = 10.0) -> None:
        super().__init__()
        self._interval_s = interval_s
        self._lock = threading.Lock()
        # kind → (when it was last logged, how many were dropped since)
        self._seen: dict[str, tuple[float, int]] = {}

    def admit(self, text: str) -> int | None:
        """None to drop ``text``; else how many of its kind were dropped since it was last let through."""
        kind = _DIGITS.sub("#", text)
        now = time.monotonic()
        with self._lock:
            last, dropped = self._seen.get(kind, (-self._interval_s, 0))
            if now - last < self._interval_s:
                self._seen[kind] = (last, dropped + 1)
                return None
            if len(self._seen) > 1000:  # a bound, not a cache: kinds are few in practice
                self._seen.clear()
            self._seen[kind] = (now, 0)
        return dropped

    def filter(self, record: logging.LogRecord) -> bool:
        if record.levelno <= logging.DEBUG:
            return True
        dropped = self.admit(f"{record.name}|{record.getMessage()}")
        if dropped is None:
            return False
        if dropped:
            record.msg, record.args = record.getMessage() + repeats_note(dropped), None
        return True


def repeats_note(dropped: int) -> str:
    """What a let-through line adds about the lines of its kind that were dropped before it."""
    return f" ({dropped} more like it were not logged)" if dropped else ""

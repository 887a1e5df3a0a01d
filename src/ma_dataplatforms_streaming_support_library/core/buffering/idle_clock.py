"""IdleClock: monotonic seconds that stand still while the sample reader is busy with a packet."""

from __future__ import annotations

import contextlib
import threading
import time
from collections.abc import Callable, Iterator

__all__ = ["IdleClock"]


class IdleClock:
    """Wall-clock time minus the time spent inside ``busy()`` sections.

    The sample reader works on the packet reader's thread: while it processes a packet (and
    delivers what that releases) the reader cannot hand over anything else. A stream-discovery
    grace measured on this clock is therefore time the reader really had to deliver the first
    packets of the other streams, however long the processing of one stream's backlog takes.
    Overlapping sections (from several threads) count once. Thread-safe.
    """

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self._clock = clock
        self._busy_total = 0.0
        self._busy_since: float | None = None
        self._depth = 0
        self._lock = threading.Lock()

    def __call__(self) -> float:
        with self._lock:
            now = self._clock() if self._busy_since is None else self._busy_since
            return now - self._busy_total

    @contextlib.contextmanager
    def busy(self) -> Iterator[None]:
        """The clock stands still until the section ends."""
        with self._lock:
            self._depth += 1
            if self._depth == 1:
                self._busy_since = self._clock()
        try:
            yield
        finally:
            with self._lock:
                self._depth -= 1
                if self._depth == 0 and self._busy_since is not None:
                    self._busy_total += self._clock() - self._busy_since
                    self._busy_since = None

"""PartitionParking: when a consumer should stop fetching a partition that sits at its end.

A broker that answers a fetch at the end of a log at once instead of holding it for
``fetch.wait.max.ms`` (noida-db does) makes librdkafka re-fetch an idle partition back to back, and
a few idle consumers (the session and data format followers, a live reader between sessions) take
both cores. On such a broker (quirks.py) the consumer therefore *parks* a partition that stays at
its end: unassigns it, and assigns it again at its next offset a moment later.

* A partition reaching its end (partition EOF) is parked only if no record arrived for it within
  ``grace_s``: a steady stream is never parked, so it gains no latency.
* A parked partition's pause starts at ``min_pause_s`` and doubles while it stays idle, up to
  ``max_pause_s``: the first record after a quiet spell waits at most that long (on any broker).

This class only keeps the times; the consumer does the unassigning and assigning.
"""

from __future__ import annotations

from ..base import TopicPartition

__all__ = ["PartitionParking"]


class PartitionParking:
    def __init__(
        self, grace_s: float = 0.001, min_pause_s: float = 0.001, max_pause_s: float = 0.02
    ) -> None:
        self.grace_s = grace_s
        self.min_pause_s = min_pause_s
        self.max_pause_s = max_pause_s
        #: partitions seen at their end: (the offset there, when to park them if still there)
        self._at_end: dict[TopicPartition, tuple[int, float]] = {}
        #: parked partitions → when to assign them again
        self._parked: dict[TopicPartition, float] = {}
        #: where each partition was last parked, and for how long
        self._last: dict[TopicPartition, tuple[int, float]] = {}

    def __bool__(self) -> bool:
        return bool(self._at_end or self._parked)

    def is_parked(self, where: TopicPartition) -> bool:
        return where in self._parked

    def reached_end(self, where: TopicPartition, offset: int, now: float) -> None:
        """The consumer read ``where`` up to ``offset``, its current end."""
        if where not in self._parked:
            self._at_end[where] = (offset, now + self.grace_s)

    def to_park(self, now: float, next_offsets: dict[TopicPartition, int]) -> list[TopicPartition]:
        """Partitions whose grace ran out with no new record: the caller unassigns them, then
        calls ``parked`` for each one it could unassign."""
        due = [where for where, (_, at) in self._at_end.items() if at <= now]
        idle = []
        for where in due:
            offset, _ = self._at_end.pop(where)
            if next_offsets.get(where) == offset:
                idle.append(where)
        return idle

    def parked(self, where: TopicPartition, offset: int, now: float) -> None:
        last_offset, last_pause = self._last.get(where, (-1, 0.0))
        idle_again = last_offset == offset
        pause = min(2 * last_pause, self.max_pause_s) if idle_again else self.min_pause_s
        self._last[where] = (offset, pause)
        self._parked[where] = now + pause

    def to_resume(self, now: float) -> list[TopicPartition]:
        """Parked partitions whose pause is over: the caller assigns them at their next offset."""
        due = [where for where, until in self._parked.items() if until <= now]
        for where in due:
            del self._parked[where]
        return due

    def next_event(self, default: float) -> float:
        """When ``to_park`` or ``to_resume`` next has something to do (``default`` if never)."""
        return min(
            min(self._parked.values(), default=default),
            min((at for _, at in self._at_end.values()), default=default),
        )

    def forget(self, where: TopicPartition) -> bool:
        """Drop what is known of ``where`` (unassigned or assigned afresh); True if it was parked."""
        self._at_end.pop(where, None)
        self._last.pop(where, None)
        return self._parked.pop(where, None) is not None

"""MergedBlock: what one release of a session buffer hands downstream (arrays, no objects)."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field

import numpy as np

from ...arrays import F64Array, I8Array, I64Array
from .sample_block import SampleBlock

__all__ = ["ExtraItem", "MergedBlock"]

# (timestamp_ns, identifier, value): a marker, event, error or CAN frame riding along the samples.
ExtraItem = tuple[int, str, object]


@dataclass(frozen=True, slots=True)
class MergedBlock:
    """The released range ``[start, end)`` of one session: every sample before ``end`` is final.

    ``groups`` hold each released parameter exactly once, time-ordered and de-duplicated;
    ``extras`` are ordered by timestamp. ``slide_ns`` is the buffer's slide: handlers of the
    official shapes receive the range cut into slides. A block may hold no data at all: it then
    only tells that time has advanced to ``end``. ``first`` marks the session's first release
    (nothing of the session precedes ``start``) and ``final`` its last.
    """

    start: int
    end: int
    slide_ns: int
    groups: list[SampleBlock] = field(default_factory=list)
    extras: list[ExtraItem] = field(default_factory=list)
    final: bool = False
    first: bool = False

    @property
    def is_empty(self) -> bool:
        return not self.groups and not self.extras

    @property
    def sample_count(self) -> int:
        return sum(group.sample_count for group in self.groups)

    @property
    def max_timestamp(self) -> int | None:
        """The latest sample or extra timestamp in the block, ``None`` when empty."""
        stamps = [int(group.timestamps[-1]) for group in self.groups]
        stamps.extend(item[0] for item in self.extras[-1:])
        return max(stamps) if stamps else None

    def series(self) -> Iterator[tuple[int, I64Array, F64Array, I8Array]]:
        """``(parameter, timestamps, values, status)`` for each released parameter."""
        for group in self.groups:
            for row, parameter in enumerate(group.parameters.tolist()):
                yield parameter, group.timestamps, group.values[row], group.status[row]

    def slice_bounds(self) -> list[tuple[int, int]]:
        """The slides ``[lo, hi)`` of the block that hold data, ascending."""
        if self.is_empty:
            return []
        count = -(-(self.end - self.start) // self.slide_ns)
        edges = self.start + np.arange(count + 1, dtype=np.int64) * self.slide_ns
        occupied = np.zeros(count, dtype=np.bool_)
        for group in self.groups:
            occupied |= np.diff(np.searchsorted(group.timestamps, edges)) > 0
        extra_stamps = np.array([item[0] for item in self.extras], dtype=np.int64)
        occupied |= np.diff(np.searchsorted(extra_stamps, edges)) > 0
        return [
            (int(edges[i]), min(self.end, int(edges[i + 1])))
            for i in np.flatnonzero(occupied).tolist()
        ]

"""Linear fill: empty cells between two samples of a parameter take the straight line between them."""

from __future__ import annotations

import numpy as np

from ...arrays import F64Array, I64Array
from .bucket_statistics import BucketStatistics, raw_statistics
from .grid_accumulator import CompletedCells

__all__ = ["LinearFill"]

_FLOAT_FIELDS = ("first", "last", "min", "max", "mean")


class LinearFill:
    """Holds one session's computed cells until every parameter's empty cells can be filled.

    An empty cell between a parameter's samples ``(t0, v0)`` and ``(t1, v1)`` gets the line
    ``v(t) = v0 + (v1 - v0)·(t - t0)/(t1 - t0)``: ``first`` = v(cell start), ``last`` = v(cell
    end), ``min``/``max`` the smaller/larger of the two, ``mean`` their average (the line's mean
    over the cell); count 0, super-sampled. Before a parameter's first sample a cell stays empty
    (no statistics); after its last sample, at the end of the session, the last value is held.
    A cell is ready once, for every parameter, the next sample after it is known — so the cells
    after a parameter's latest sample wait for its next one (or for ``flush``).
    """

    def __init__(self, slots: int) -> None:
        self._value: F64Array = np.full(slots, np.nan)  # last sample before the pending cells
        self._time: I64Array = np.zeros(slots, dtype=np.int64)
        self._ever = np.zeros(slots, dtype=np.bool_)  # the slot has had a sample
        self._open_from = np.zeros(slots, dtype=np.int64)  # first cell waiting for a next sample
        self._parts: list[BucketStatistics] = []

    @property
    def first_cell(self) -> int | None:
        """The first cell not yet taken (``None`` when nothing is pending)."""
        return self._parts[0].first_cell if self._parts else None

    def add(self, completed: list[CompletedCells]) -> None:
        """Take the next completed cells."""
        for cells in completed:
            self._add(raw_statistics(cells))

    def _add(self, stats: BucketStatistics) -> None:
        has = stats.count > 0
        seen = has.any(axis=1)
        last = stats.cell_count - 1 - np.argmax(has[:, ::-1], axis=1)
        # A slot with a sample here waits from the cell after its last one; a slot with an
        # earlier sample but none here keeps waiting where it did; a slot that never had a
        # sample waits for nothing (its cells stay empty).
        self._open_from = np.where(
            seen,
            stats.first_cell + last + 1,
            np.where(self._ever, self._open_from, stats.end_cell),
        )
        self._ever |= seen
        self._parts.append(stats)

    def ready_end(self, flush: bool) -> int | None:
        """The cell up to which pending cells can be filled (all of them when ``flush``)."""
        if not self._parts:
            return None
        end = self._parts[-1].end_cell
        return end if flush else min(end, int(self._open_from.min()))

    def take(self, end_cell: int) -> BucketStatistics | None:
        """The pending cells before ``end_cell``, filled; the rest stay pending."""
        if not self._parts or end_cell <= self._parts[0].first_cell:
            return None
        pending = BucketStatistics.concatenate(self._parts)
        end_cell = min(end_cell, pending.end_cell)
        filled, self._value, self._time = _fill(pending, self._value, self._time, end_cell)
        self._parts = (
            [] if end_cell == pending.end_cell else [pending.slice(end_cell, pending.end_cell)]
        )
        # After a flush, cells that waited are gone: waiting starts again at the next cell.
        np.maximum(self._open_from, end_cell, out=self._open_from)
        return filled


def _fill(
    pending: BucketStatistics, value: F64Array, time: I64Array, end_cell: int
) -> tuple[BucketStatistics, F64Array, I64Array]:
    """Cells of ``pending`` before ``end_cell`` with their empty cells filled, and each slot's
    last sample (value, time) up to ``end_cell``; later cells only serve to look ahead."""
    cells = pending.cell_count
    index = np.arange(cells)
    has = pending.count > 0
    before = np.maximum.accumulate(np.where(has, index, -1), axis=1)
    after = np.minimum.accumulate(np.where(has, index, cells)[:, ::-1], axis=1)[:, ::-1]
    clipped = np.clip(before, 0, None)
    prev_value = np.where(
        before >= 0, np.take_along_axis(pending.last, clipped, axis=1), value[:, np.newaxis]
    )
    prev_time = np.where(
        before >= 0, np.take_along_axis(pending.last_time, clipped, axis=1), time[:, np.newaxis]
    )
    ahead = np.clip(after, None, cells - 1)
    next_value = np.take_along_axis(pending.first, ahead, axis=1)
    next_time = np.take_along_axis(pending.first_time, ahead, axis=1)
    known = ~has & ~np.isnan(prev_value)
    between = known & (after < cells)
    held = known & ~between

    count = end_cell - pending.first_cell
    out = pending.slice(pending.first_cell, end_cell).copy()
    starts = (pending.first_cell + index[:count]) * pending.cell_ns
    span = (next_time - prev_time)[:, :count].astype(np.float64)
    rise = (next_value - prev_value)[:, :count]
    origin = prev_value[:, :count]
    since = starts - prev_time[:, :count]
    with np.errstate(invalid="ignore", divide="ignore"):
        at_start = origin + rise * (since / span)
        at_end = origin + rise * ((since + pending.cell_ns) / span)
    line = between[:, :count]
    hold = held[:, :count]
    fills = {
        "first": at_start,
        "last": at_end,
        "min": np.minimum(at_start, at_end),
        "max": np.maximum(at_start, at_end),
        "mean": (at_start + at_end) / 2,
    }
    for name in _FLOAT_FIELDS:
        field = getattr(out, name)
        field[line] = fills[name][line]
        field[hold] = origin[hold]
    out.super_sampled = line | hold
    return out, prev_value[:, count - 1].copy(), prev_time[:, count - 1].copy()

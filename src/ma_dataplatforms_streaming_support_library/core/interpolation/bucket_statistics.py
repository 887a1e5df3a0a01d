"""Vectorised cell statistics (first/last/min/max/mean/count) and hold-last-value fill."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from itertools import pairwise

import numpy as np
import numpy.typing as npt

from ...arrays import BoolArray, F64Array, I64Array
from ...contracts.buffering.value_status import ValueStatus
from .grid_accumulator import CellPart, CompletedCells

__all__ = ["BucketStatistics", "compute_statistics", "hold_last_value", "raw_statistics"]


_VALID = int(ValueStatus.VALID)
_MISSING = int(ValueStatus.MISSING)
_ERROR = int(ValueStatus.ERROR)
_FLOAT_FIELDS = ("first", "last", "min", "max", "mean")
_COUNT_FIELDS = ("count", "missing_count", "error_count", "unspecified_count", "nan_count")
_TIME_FIELDS = ("first_time", "last_time")
_VALID_FIELDS = (*_FLOAT_FIELDS, "count", *_TIME_FIELDS)
_ALL_FIELDS = (*_FLOAT_FIELDS, *_COUNT_FIELDS, "super_sampled", *_TIME_FIELDS)


@dataclass(slots=True)
class BucketStatistics:
    """Statistics of ``slot x cell`` as arrays of shape ``(slot_count, cell_count)``.

    Float fields hold NaN where the result has ``None``. Cells are
    ``[(first_cell + j)·cell_ns, (first_cell + j + 1)·cell_ns)``. ``first_time``/``last_time``
    are the timestamps of the samples behind ``first``/``last``, 0 where ``count`` is 0.
    """

    first_cell: int
    cell_count: int
    cell_ns: int
    first: F64Array
    last: F64Array
    min: F64Array
    max: F64Array
    mean: F64Array
    count: I64Array
    missing_count: I64Array
    error_count: I64Array
    unspecified_count: I64Array
    nan_count: I64Array
    super_sampled: BoolArray
    first_time: I64Array
    last_time: I64Array

    @classmethod
    def blank(cls, first_cell: int, cell_count: int, cell_ns: int, slots: int) -> BucketStatistics:
        shape = (slots, cell_count)

        def floats() -> F64Array:
            return np.full(shape, np.nan)

        def counts() -> I64Array:
            return np.zeros(shape, dtype=np.int64)

        return cls(
            first_cell,
            cell_count,
            cell_ns,
            first=floats(),
            last=floats(),
            min=floats(),
            max=floats(),
            mean=floats(),
            count=counts(),
            missing_count=counts(),
            error_count=counts(),
            unspecified_count=counts(),
            nan_count=counts(),
            super_sampled=np.zeros(shape, dtype=np.bool_),
            first_time=counts(),
            last_time=counts(),
        )

    @property
    def start_ns(self) -> int:
        return self.first_cell * self.cell_ns

    @property
    def end_ns(self) -> int:
        return (self.first_cell + self.cell_count) * self.cell_ns

    @property
    def end_cell(self) -> int:
        return self.first_cell + self.cell_count

    def slice(self, start_cell: int, end_cell: int) -> BucketStatistics:
        """Cells ``start_cell … end_cell - 1`` (absolute indices inside this range), as views."""
        lo, hi = start_cell - self.first_cell, end_cell - self.first_cell
        fields = [getattr(self, name)[:, lo:hi] for name in _ALL_FIELDS]
        return BucketStatistics(start_cell, hi - lo, self.cell_ns, *fields)

    def copy(self) -> BucketStatistics:
        fields = [getattr(self, name).copy() for name in _ALL_FIELDS]
        return BucketStatistics(self.first_cell, self.cell_count, self.cell_ns, *fields)

    @staticmethod
    def concatenate(parts: Sequence[BucketStatistics]) -> BucketStatistics:
        """Join statistics of consecutive cell ranges along the cell axis."""
        if len(parts) == 1:
            return parts[0]
        for earlier, later in pairwise(parts):
            if earlier.first_cell + earlier.cell_count != later.first_cell:
                raise ValueError("cell ranges to concatenate must be consecutive")
        fields = [
            np.concatenate([getattr(part, name) for part in parts], axis=1) for name in _ALL_FIELDS
        ]
        total = sum(part.cell_count for part in parts)
        return BucketStatistics(parts[0].first_cell, total, parts[0].cell_ns, *fields)


def compute_statistics(
    cells: CompletedCells, last_before: F64Array
) -> tuple[BucketStatistics, F64Array]:
    """Statistics of completed cells, and each slot's last valid value after them.

    Only VALID samples with a non-NaN value enter first/last/min/max/mean/count; MISSING, ERROR
    and other statuses, and VALID NaN values, are counted in their own fields. A cell without
    such a sample takes every statistic from ``last_before`` / the previous cells (super-sampled,
    count 0) or stays all-NaN when the slot has no earlier value.
    """
    stats = raw_statistics(cells)
    return stats, hold_last_value(stats, last_before)


def raw_statistics(cells: CompletedCells) -> BucketStatistics:
    """Statistics of completed cells; a cell without a usable sample stays all-NaN, count 0."""
    stats = BucketStatistics.blank(
        cells.first_cell, cells.cell_count, cells.cell_ns, cells.slot_count
    )
    for part in cells.parts:
        _fill_part(stats, part)
    return stats


def _fill_part(stats: BucketStatistics, part: CellPart) -> None:
    width = part.timestamps.size
    if width == 0:
        return
    # Cells 0 … used - 1 hold every sample (the ones after them are empty) and are reduced all
    # at once, so each result lands in its cell's column. reduceat gives an empty cell among
    # them the element at its index instead of an identity: those cells are blanked after.
    used = int(np.searchsorted(part.bounds[:-1], width))
    starts, ends = part.bounds[:used], part.bounds[1 : used + 1]
    if int(part.status.min()) == _VALID == int(part.status.max()):
        rows = _fill_valid(stats, part, starts, ends)
    else:
        rows = np.arange(part.slots.size)
    if rows.size:
        _fill_masked(stats, part, rows, starts, ends)


def _fill_valid(
    stats: BucketStatistics,
    part: CellPart,
    starts: npt.NDArray[np.intp],
    ends: npt.NDArray[np.intp],
) -> npt.NDArray[np.intp]:
    """Every sample VALID: plain reductions, written straight into ``stats`` when the part's
    slots are consecutive. A NaN value shows up as a NaN sum; the rows that have one are
    returned, to be redone with the mask."""
    values, slots, used = part.values, part.slots, starts.size
    lo = int(slots[0])
    rows = slice(lo, lo + slots.size)
    in_place = bool((np.diff(slots) == 1).all())
    out = {
        name: getattr(stats, name)[rows, :used]
        if in_place
        else np.empty((slots.size, used), getattr(stats, name).dtype)
        for name in _VALID_FIELDS
    }
    count = ends - starts
    total = np.add.reduceat(values, starts, axis=1, out=out["mean"])
    redo = np.flatnonzero(np.isnan(total).any(axis=1))
    with np.errstate(invalid="ignore", divide="ignore"):
        np.divide(total, count, out=total)
    # Indexing rather than take(), which copies a non-contiguous input (rows of a larger array)
    out["first"][...] = values[:, starts]
    out["last"][...] = values[:, ends - 1]
    np.minimum.reduceat(values, starts, axis=1, out=out["min"])
    np.maximum.reduceat(values, starts, axis=1, out=out["max"])
    out["count"][...] = count
    out["first_time"][...] = part.timestamps[starts]
    out["last_time"][...] = part.timestamps[ends - 1]
    empty = np.flatnonzero(count == 0)
    if empty.size:
        for name in _FLOAT_FIELDS:
            out[name][:, empty] = np.nan
        out["first_time"][:, empty] = out["last_time"][:, empty] = 0
    if not in_place:
        for name, result in out.items():
            getattr(stats, name)[slots, :used] = result
    return redo


def _fill_masked(
    stats: BucketStatistics,
    part: CellPart,
    rows: npt.NDArray[np.intp],
    starts: npt.NDArray[np.intp],
    ends: npt.NDArray[np.intp],
) -> None:
    """Fill ``rows`` of ``part`` from their VALID non-NaN samples only."""
    masked = _masked_statistics(part.values[rows], part.status[rows], starts, ends)
    minimum, maximum, total, first, last = masked[:5]
    count = masked[5]
    first_time, last_time = part.timestamps[masked[10]], part.timestamps[masked[11]]
    none = count == 0
    first_time[none] = last_time[none] = 0
    with np.errstate(invalid="ignore", divide="ignore"):
        mean = total / count
    where = (part.slots[rows], slice(0, starts.size))
    floats = (first, last, minimum, maximum, mean)
    for name, result in zip(_FLOAT_FIELDS, floats, strict=True):
        getattr(stats, name)[where] = result
    for name, counted in zip(_COUNT_FIELDS, masked[5:10], strict=True):
        getattr(stats, name)[where] = counted
    stats.first_time[where] = first_time
    stats.last_time[where] = last_time


def _masked_statistics(
    values: F64Array,
    status: npt.NDArray[np.int8],
    starts: npt.NDArray[np.intp],
    ends: npt.NDArray[np.intp],
) -> list[npt.NDArray[np.float64] | I64Array]:
    """Statistics over the VALID non-NaN samples only, the per-status counts, and the columns
    of each cell's first and last such sample.

    Works from the positions of the excluded samples, which are usually few: one masked copy of
    the values for min/max/sum, counts by ``bincount``, and first/last found by stepping over
    the runs of excluded samples at the cells' ends.
    """
    rows, width = values.shape
    cells = starts.size
    flat_status = status.ravel()
    is_nan = np.isnan(values).ravel()
    bad = np.flatnonzero((flat_status != _VALID) | is_nan)
    bad_row, bad_column = np.divmod(bad, width)
    bad_cell = bad_row * cells + np.searchsorted(starts, bad_column, side="right") - 1

    def tally(mask: npt.NDArray[np.bool_]) -> I64Array:
        counted = np.bincount(bad_cell[mask], minlength=rows * cells)
        return counted.reshape(rows, cells).astype(np.int64, copy=False)

    codes = flat_status[bad]
    nans = is_nan[bad]
    missing = tally(codes == _MISSING)
    error = tally(codes == _ERROR)
    unspecified = tally((codes != _VALID) & (codes != _MISSING) & (codes != _ERROR))
    nan_count = tally((codes == _VALID) & nans)
    count = (ends - starts)[np.newaxis, :] - tally(np.ones(bad.size, dtype=np.bool_))

    masked = values.copy()
    flat = masked.ravel()
    flat[bad] = np.nan
    minimum = np.fmin.reduceat(masked, starts, axis=1)
    maximum = np.fmax.reduceat(masked, starts, axis=1)
    flat[bad] = 0.0
    total = np.add.reduceat(masked, starts, axis=1)

    # First/last valid sample of each cell: its first/last sample, or, when that one is
    # excluded, the sample just past the run of excluded samples it belongs to.
    origin = np.arange(rows, dtype=np.intp)[:, np.newaxis] * width
    run_starts = np.ones(bad.size, dtype=np.bool_)
    run_starts[1:] = np.diff(bad) != 1
    run_id = np.cumsum(run_starts) - 1
    run_first = bad[run_starts]
    run_ends = np.ones(bad.size, dtype=np.bool_)
    run_ends[:-1] = run_starts[1:]
    run_last = bad[run_ends]

    def step(at: npt.NDArray[np.intp], forward: bool) -> npt.NDArray[np.intp]:
        k = np.minimum(np.searchsorted(bad, at), max(bad.size - 1, 0))
        hit = bad[k] == at if bad.size else np.zeros(at.shape, dtype=np.bool_)
        if not hit.any():
            return at
        jump = run_last[run_id[k]] + 1 if forward else run_first[run_id[k]] - 1
        return np.where(hit, jump, at)

    raw = values.ravel()
    empty = count == 0
    first_at = np.clip(step(origin + starts, True), 0, raw.size - 1)
    last_at = np.clip(step(origin + ends - 1, False), 0, raw.size - 1)
    first, last = raw[first_at], raw[last_at]
    for result in (minimum, maximum, total, first, last):
        result[empty] = np.nan
    statistics = [minimum, maximum, total, first, last]
    counts = [count, missing, error, unspecified, nan_count]
    return [*statistics, *counts, first_at % width, last_at % width]


def hold_last_value(stats: BucketStatistics, last_before: F64Array) -> F64Array:
    """Fill each empty cell with the last value before it (super-sampled); the last values after."""
    cells = stats.cell_count
    # A row without an empty cell keeps its statistics, and its last cell's ``last`` is the
    # last value after it; only the rows with an empty cell are filled forward.
    gaps = np.flatnonzero((stats.count == 0).any(axis=1))
    result: F64Array = stats.last[:, -1].copy() if cells else last_before.copy()
    if gaps.size == 0:
        return result
    extended = np.concatenate([last_before[gaps, np.newaxis], stats.last[gaps]], axis=1)
    index = np.where(np.isnan(extended), 0, np.arange(cells + 1))
    np.maximum.accumulate(index, axis=1, out=index)
    filled = np.take_along_axis(extended, index, axis=1)
    before = filled[:, :cells]
    result[gaps] = filled[:, cells]
    held = np.zeros(stats.count.shape, dtype=np.bool_)
    held[gaps] = (stats.count[gaps] == 0) & ~np.isnan(before)
    if held.any():
        values = before[held[gaps]]
        for name in _FLOAT_FIELDS:
            getattr(stats, name)[held] = values
        stats.super_sampled = held
    return result

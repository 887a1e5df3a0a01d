"""Shape checks and time axes: turn parsed packets into parameters x time blocks."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..arrays import I64Array
from ._batch import concat_ranges
from ._parsed import PacketKind, ParsedPackets

__all__ = ["Shapes", "derive_shapes", "segment_sums"]

_I64_MAX = int(np.iinfo(np.int64).max)
_NS_LIMIT = np.uint64(1 << 63)


@dataclass(frozen=True, eq=False)
class Shapes:
    """Per packet a ``params[p]`` x ``points[p]`` block with time axis
    ``timestamps[time_offsets[p]:time_offsets[p + 1]]``."""

    params: I64Array
    points: I64Array
    time_offsets: I64Array
    timestamps: I64Array


def segment_sums(values: I64Array, offsets: I64Array) -> I64Array:
    """Sum of ``values[offsets[i]:offsets[i + 1]]`` for each i (empty segments give 0)."""
    running = np.zeros(values.size + 1, np.int64)
    np.cumsum(values, out=running[1:])
    return running[offsets[1:]] - running[offsets[:-1]]


def derive_shapes(parsed: ParsedPackets, kind: PacketKind) -> tuple[Shapes, dict[int, str]]:
    """Check each packet against the layout rules of its type and compute its timestamps.

    Packets that break a rule are reported as ``{packet: reason}`` and get an empty block.
    """
    errors: dict[int, str] = {}
    list_counts = parsed.list_counts
    sample_counts = parsed.sample_counts
    time_counts = np.diff(parsed.time_offsets)
    packet_of_list = np.repeat(np.arange(len(parsed)), list_counts)
    first_count = np.zeros(len(parsed), np.int64)
    has_lists = list_counts > 0
    first_count[has_lists] = sample_counts[parsed.list_offsets[:-1][has_lists]]
    uneven = packet_of_list[sample_counts != first_count[packet_of_list]]
    start = parsed.start_ns
    _report(errors, np.flatnonzero(start >= _NS_LIMIT), "start_time exceeds int64 ns")
    start_i64 = np.where(start >= _NS_LIMIT, 0, start).astype(np.int64)
    if kind is PacketKind.ROW:
        params, points = first_count, list_counts.copy()
        _report(errors, uneven, "rows have different numbers of values")
        mismatch = np.flatnonzero(time_counts != list_counts)
        _report(errors, mismatch, "the number of timestamps differs from the number of rows")
        late = np.flatnonzero(parsed.times >= _NS_LIMIT)
        owner = np.searchsorted(parsed.time_offsets, late, "right") - 1
        _report(errors, owner, "a timestamp exceeds int64 ns")
    elif kind is PacketKind.SYNCHRO:
        params = list_counts.copy()
        # A packet without intervals and without samples is an empty block, not a 1-point one.
        points = np.where((time_counts == 0) & (first_count == 0), 0, time_counts + 1)
        wrong = packet_of_list[sample_counts != points[packet_of_list]]
        _report(errors, wrong, "a column does not hold len(intervals) + 1 samples")
        totals = segment_sums(parsed.times.astype(np.int64), parsed.time_offsets)
        too_far = np.flatnonzero(totals > _I64_MAX - start_i64)
        _report(errors, too_far, "the last sample time exceeds int64 ns")
    else:
        params, points = list_counts.copy(), first_count
        _report(errors, uneven, "columns have different lengths")
        span = np.maximum(points - 1, 0)
        step = np.maximum(parsed.interval_ns, 1)
        too_far = np.flatnonzero(span > (_I64_MAX - start_i64) // step)
        _report(errors, too_far, "the last sample time exceeds int64 ns")
    if errors:
        bad = np.fromiter(errors, dtype=np.int64, count=len(errors))
        params[bad] = 0
        points[bad] = 0
    offsets = np.zeros(len(parsed) + 1, np.int64)
    np.cumsum(points, out=offsets[1:])
    if kind is PacketKind.ROW:
        timestamps = parsed.times[concat_ranges(parsed.time_offsets[:-1], points)]
        times = timestamps.astype(np.int64)
    elif kind is PacketKind.SYNCHRO:
        times = _synchro_times(parsed, start_i64, points, offsets)
    else:
        times = _periodic_times(start_i64, parsed.interval_ns, points)
    return Shapes(params, points, offsets, times), errors


def _report(errors: dict[int, str], packets: I64Array, reason: str) -> None:
    for p in np.unique(packets).tolist():
        errors.setdefault(int(p), reason)


def _periodic_times(start: I64Array, interval: I64Array, points: I64Array) -> I64Array:
    """``start[p] + k * interval[p]`` for ``k < points[p]``, all packets back to back."""
    if points.size and np.all(points == points[0]):
        steps = np.arange(int(points[0]), dtype=np.int64)
        if np.all(interval == interval[0]):
            # One pass over the output: every packet shares the offsets from its start.
            shared: I64Array = np.add.outer(start, steps * interval[0]).reshape(-1)
            return shared
        times = np.multiply.outer(interval, steps)
        times += start[:, None]
        return times.reshape(-1)
    total = int(points.sum())
    before = np.cumsum(points) - points
    k = np.arange(total, dtype=np.int64) - np.repeat(before, points)
    return np.repeat(start, points) + np.repeat(interval, points) * k


def _synchro_times(
    parsed: ParsedPackets, start: I64Array, points: I64Array, offsets: I64Array
) -> I64Array:
    """``t[0] = start``, ``t[k] = t[k - 1] + intervals[k - 1]``, all packets back to back."""
    with_points = np.flatnonzero(points > 0)
    counts = points[with_points]
    steps = np.zeros(int(offsets[-1]), np.int64)
    heads = offsets[with_points]
    gaps = parsed.times[concat_ranges(parsed.time_offsets[with_points], counts - 1)]
    steps[concat_ranges(heads + 1, counts - 1)] = gaps.astype(np.int64)
    # One cumsum over the batch; subtracting each packet's running total at its head restarts
    # the sum per packet without a Python loop.
    times = np.cumsum(steps)
    times += np.repeat(start[with_points] - times[heads], counts)
    return times

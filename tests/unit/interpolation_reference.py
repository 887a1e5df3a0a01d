"""Plain-Python reference for cell statistics, used by the interpolation tests."""

from __future__ import annotations

import math

from ma_dataplatforms_streaming_support_library.contracts.interpolation.default_result import (
    DefaultResult,
)

Sample = tuple[int, float, int]  # (timestamp_ns, value, status)


def reference_results(
    series: dict[str, list[Sample]],
    identifiers: list[str],
    cell_ns: int,
    first_cell: int,
    end_cell: int,
    linear: bool = False,
) -> list[DefaultResult]:
    """DefaultResults of cells first_cell … end_cell-1, cell-major, by a straightforward loop.

    An empty cell holds the last value before it; with ``linear``, an empty cell between two
    samples takes the line through them instead (at its start and end; the mean of the two).
    """
    results: list[DefaultResult] = []
    last_before: dict[str, float | None] = {name: None for name in identifiers}
    for name in identifiers:
        for stamp, value, status in series.get(name, []):
            if stamp < first_cell * cell_ns and status == 1 and not math.isnan(value):
                last_before[name] = value
    for cell in range(first_cell, end_cell):
        lo, hi = cell * cell_ns, (cell + 1) * cell_ns
        for name in identifiers:
            inside = [s for s in series.get(name, []) if lo <= s[0] < hi]
            good = [v for _, v, st in inside if st == 1 and not math.isnan(v)]
            counts = {
                "missing_count": sum(1 for s in inside if s[2] == 2),
                "error_count": sum(1 for s in inside if s[2] == 3),
                "unspecified_count": sum(1 for s in inside if s[2] not in (1, 2, 3)),
                "nan_count": sum(1 for s in inside if s[2] == 1 and math.isnan(s[1])),
            }
            if good:
                result = DefaultResult(
                    name,
                    lo,
                    hi,
                    good[0],
                    good[-1],
                    min(good),
                    max(good),
                    sum(good) / len(good),
                    len(good),
                    False,
                    **counts,
                )
                last_before[name] = good[-1]
            elif linear and (line := _line(series.get(name, []), lo, hi)) is not None:
                result = DefaultResult(name, lo, hi, *line, 0, True, **counts)
            elif last_before[name] is not None:
                held = last_before[name]
                result = DefaultResult(
                    name, lo, hi, held, held, held, held, held, 0, True, **counts
                )
            else:
                result = DefaultResult(name, lo, hi, **counts)
            results.append(result)
    return results


def _line(samples: list[Sample], lo: int, hi: int) -> tuple[float, ...] | None:
    """first, last, min, max, mean of an empty cell [lo, hi) on the line through the samples
    around it, or None without a sample on both sides."""
    good = [(t, v) for t, v, st in samples if st == 1 and not math.isnan(v)]
    before = [s for s in good if s[0] < lo]
    after = [s for s in good if s[0] >= hi]
    if not before or not after:
        return None
    (t0, v0), (t1, v1) = before[-1], after[0]
    first = v0 + (v1 - v0) * ((lo - t0) / (t1 - t0))
    last = v0 + (v1 - v0) * ((hi - t0) / (t1 - t0))
    return first, last, min(first, last), max(first, last), (first + last) / 2

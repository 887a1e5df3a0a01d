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
) -> list[DefaultResult]:
    """DefaultResults of cells first_cell … end_cell-1, cell-major, by a straightforward loop."""
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
            elif last_before[name] is not None:
                held = last_before[name]
                result = DefaultResult(
                    name, lo, hi, held, held, held, held, held, 0, True, **counts
                )
            else:
                result = DefaultResult(name, lo, hi, **counts)
            results.append(result)
    return results

"""Vectorised cell statistics of hand-built cell parts against a per-cell loop: empty cells
(leading, between, trailing), NaN and infinite values, single samples and every status, on the
all-VALID fast path and the masked one."""

from __future__ import annotations

import math

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from ma_dataplatforms_streaming_support_library.core.interpolation.bucket_statistics import (
    BucketStatistics,
    hold_last_value,
    raw_statistics,
)
from ma_dataplatforms_streaming_support_library.core.interpolation.grid_accumulator import (
    CellPart,
    CompletedCells,
)

VALID, MISSING, ERROR = 1, 2, 3
#: (timestamp, value, status) of one row of a part
Row = list[tuple[int, float, int]]


def _part(slots: list[int], stamps: list[int], rows: list[Row], cells: CompletedCells) -> CellPart:
    edges = cells.start_ns + cells.cell_ns * np.arange(cells.cell_count + 1, dtype=np.int64)
    timestamps = np.asarray(stamps, dtype=np.int64)
    return CellPart(
        np.asarray(slots, dtype=np.intp),
        timestamps,
        np.array([[v for _, v, _ in row] for row in rows], dtype=np.float64).reshape(
            len(rows), len(stamps)
        ),
        np.array([[s for _, _, s in row] for row in rows], dtype=np.int8).reshape(
            len(rows), len(stamps)
        ),
        np.searchsorted(timestamps, edges).astype(np.intp),
    )


def _cells(first_cell: int, cell_count: int, cell_ns: int, slots: int) -> CompletedCells:
    return CompletedCells(first_cell, cell_count, cell_ns, slots, [])


def _statistics(
    cells: CompletedCells, parts: list[tuple[list[int], list[int], list[Row]]]
) -> BucketStatistics:
    built = [_part(slots, stamps, rows, cells) for slots, stamps, rows in parts]
    whole = CompletedCells(
        cells.first_cell, cells.cell_count, cells.cell_ns, cells.slot_count, built
    )
    return raw_statistics(whole)


def _expected(
    cells: CompletedCells, rows: dict[int, Row], slot: int, cell: int
) -> dict[str, float]:
    """One cell of one slot by a straightforward loop (NaN for a statistic without a sample)."""
    lo = (cells.first_cell + cell) * cells.cell_ns
    inside = [s for s in rows.get(slot, []) if lo <= s[0] < lo + cells.cell_ns]
    good = [(t, v) for t, v, status in inside if status == VALID and not math.isnan(v)]
    values = [v for _, v in good]
    nan = math.nan
    return {
        "first": values[0] if good else nan,
        "last": values[-1] if good else nan,
        "min": min(values) if good else nan,
        "max": max(values) if good else nan,
        "mean": sum(values) / len(values) if good else nan,  # exact: few quarters
        "count": len(good),
        "missing_count": sum(1 for s in inside if s[2] == MISSING),
        "error_count": sum(1 for s in inside if s[2] == ERROR),
        "unspecified_count": sum(1 for s in inside if s[2] not in (VALID, MISSING, ERROR)),
        "nan_count": sum(1 for s in inside if s[2] == VALID and math.isnan(s[1])),
        "first_time": good[0][0] if good else 0,
        "last_time": good[-1][0] if good else 0,
    }


def _check(
    stats: BucketStatistics,
    cells: CompletedCells,
    parts: list[tuple[list[int], list[int], list[Row]]],
) -> None:
    rows = {
        slot: row
        for slots, _, part_rows in parts
        for slot, row in zip(slots, part_rows, strict=True)
    }
    for slot in range(cells.slot_count):
        for cell in range(cells.cell_count):
            for name, want in _expected(cells, rows, slot, cell).items():
                got = getattr(stats, name)[slot, cell]
                assert got == want or (math.isnan(want) and math.isnan(got)), (slot, cell, name)


def _row(stamps: list[int], values: list[float], statuses: list[int] | None = None) -> Row:
    codes = statuses if statuses is not None else [VALID] * len(stamps)
    return list(zip(stamps, values, codes, strict=True))


def test_empty_cells_leading_between_and_trailing_stay_blank() -> None:
    cells = _cells(10, 8, 10, 2)
    stamps = [121, 125, 150, 151, 159]
    parts = [([1, 0], stamps, [_row(stamps, [1, 2, 3, 4, 5]), _row(stamps, [-1, 0, 8, 2, 6])])]
    stats = _statistics(cells, parts)
    _check(stats, cells, parts)
    assert stats.count.tolist() == [[0, 0, 2, 0, 0, 3, 0, 0]] * 2
    assert np.isnan(stats.first[:, [0, 1, 3, 4, 6, 7]]).all()
    assert stats.first_time[0].tolist() == [0, 0, 121, 0, 0, 150, 0, 0]


def test_single_samples_give_that_sample_as_every_statistic() -> None:
    cells = _cells(0, 3, 100, 1)
    parts = [([0], [5, 250], [_row([5, 250], [2.5, -7.0])])]
    stats = _statistics(cells, parts)
    _check(stats, cells, parts)
    for name in ("first", "last", "min", "max", "mean"):
        assert getattr(stats, name)[0, 0] == 2.5 and getattr(stats, name)[0, 2] == -7.0


def test_a_nan_value_on_the_all_valid_path_redoes_only_its_row() -> None:
    cells = _cells(0, 4, 10, 3)
    stamps = [0, 3, 11, 12, 35]
    parts = [
        (
            [0, 1, 2],
            stamps,
            [
                _row(stamps, [1, math.nan, 4, 2, 9]),
                _row(stamps, [1, 3, 4, 2, 9]),
                _row(stamps, [math.nan, math.nan, 0.5, math.inf, -math.inf]),
            ],
        )
    ]
    stats = _statistics(cells, parts)
    _check(stats, cells, parts)
    assert stats.nan_count.tolist() == [[1, 0, 0, 0], [0, 0, 0, 0], [2, 0, 0, 0]]
    assert (stats.count[2, 0], stats.first_time[2, 0]) == (0, 0)
    assert stats.max[2, 1] == math.inf and stats.mean[2, 1] == math.inf


def test_every_status_is_counted_and_only_valid_samples_enter_the_statistics() -> None:
    cells = _cells(0, 3, 10, 1)
    stamps = [0, 1, 2, 3, 10, 11, 25]
    statuses = [MISSING, VALID, 0, VALID, ERROR, MISSING, VALID]
    parts = [([0], stamps, [_row(stamps, [9, 1, 9, 3, 9, 9, 4], statuses)])]
    stats = _statistics(cells, parts)
    _check(stats, cells, parts)
    assert (stats.first[0, 0], stats.last[0, 0], stats.first_time[0, 0]) == (1, 3, 1)
    assert (stats.count[0, 1], stats.error_count[0, 1], stats.missing_count[0, 1]) == (0, 1, 1)
    assert math.isnan(stats.mean[0, 1]) and stats.last_time[0, 1] == 0


def test_hold_last_value_fills_only_the_rows_with_empty_cells() -> None:
    cells = _cells(0, 4, 10, 3)
    parts = [
        ([0], [0, 10, 20, 30], [_row([0, 10, 20, 30], [1, 2, 3, 4])]),
        ([1], [15], [_row([15], [6])]),
    ]
    stats = _statistics(cells, parts)
    after = hold_last_value(stats, np.array([0.5, math.nan, 8.0]))
    assert after.tolist() == [4.0, 6.0, 8.0]
    assert stats.super_sampled.tolist() == [
        [False] * 4,
        [False, False, True, True],
        [True] * 4,
    ]
    assert math.isnan(stats.mean[1, 0]) and stats.mean[1, 1:].tolist() == [6.0, 6.0, 6.0]
    assert stats.count[1].tolist() == [0, 1, 0, 0]
    assert stats.first[2].tolist() == [8.0] * 4


def test_hold_last_value_without_cells_keeps_the_last_values_before() -> None:
    stats = BucketStatistics.blank(5, 0, 10, 2)
    after = hold_last_value(stats, np.array([1.5, math.nan]))
    assert after[0] == 1.5 and math.isnan(after[1])


values = st.one_of(
    st.integers(-64, 64).map(lambda i: i / 4),
    st.sampled_from([math.nan, math.inf, -math.inf, -0.0]),
)


@st.composite
def layouts(draw: st.DrawFn) -> tuple[CompletedCells, list[tuple[list[int], list[int], list[Row]]]]:
    """Cells, and parts of slots sharing time bases; statuses all VALID (the fast path) or mixed."""
    cell_ns = draw(st.sampled_from([3, 10]))
    cells = _cells(draw(st.integers(0, 3)), draw(st.integers(1, 12)), cell_ns, 3)
    groups = draw(st.sampled_from([[[0, 1, 2]], [[2, 0], [1]], [[1], [0]]]))
    status = st.just(VALID) if draw(st.booleans()) else st.sampled_from([VALID, VALID, 2, 3, 0, 7])
    parts = []
    for slots in groups:
        span = st.integers(cells.start_ns, cells.end_ns - 1)
        stamps = sorted(draw(st.lists(span, max_size=25)))
        rows = [[(t, draw(values), draw(status)) for t in stamps] for _ in slots]
        parts.append((slots, stamps, rows))
    return cells, parts


@settings(max_examples=200, deadline=None)
@given(layouts())
def test_statistics_match_a_per_cell_loop(layout) -> None:
    cells, parts = layout
    with np.errstate(invalid="ignore"):
        stats = _statistics(cells, parts)
    _check(stats, cells, parts)
    raw = stats.copy()
    before = np.array([math.nan, 2.0, -1.0])
    after = hold_last_value(stats, before)
    for slot in range(cells.slot_count):
        carried = before[slot]
        for cell in range(cells.cell_count):
            held = raw.count[slot, cell] == 0 and not math.isnan(carried)
            assert stats.super_sampled[slot, cell] == held
            want = carried if held else raw.mean[slot, cell]
            assert stats.mean[slot, cell] == want or math.isnan(want), (slot, cell)
            carried = raw.last[slot, cell] if raw.count[slot, cell] else carried
        assert after[slot] == carried or (math.isnan(carried) and math.isnan(after[slot]))

"""Cell statistics of the grid accumulator against a plain-Python reference, on random data."""

from __future__ import annotations

import math
from itertools import pairwise

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st
from interpolation_reference import Sample, reference_results

from ma_dataplatforms_streaming_support_library.contracts.interpolation.default_result import (
    DefaultResult,
)
from ma_dataplatforms_streaming_support_library.core.buffering.merged_block import MergedBlock
from ma_dataplatforms_streaming_support_library.core.buffering.sample_block import SampleBlock
from ma_dataplatforms_streaming_support_library.core.interpolation.bucket_statistics import (
    compute_statistics,
)
from ma_dataplatforms_streaming_support_library.core.interpolation.cell_results import (
    default_results,
)
from ma_dataplatforms_streaming_support_library.core.interpolation.grid_accumulator import (
    GridAccumulator,
)

NAMES = ["p0", "p1", "p2"]

values = st.one_of(
    st.integers(-1000, 1000).map(lambda i: i / 8),
    st.just(math.nan),
)
statuses = st.sampled_from([1, 1, 1, 1, 2, 3, 0])


@st.composite
def datasets(draw: st.DrawFn) -> tuple[int, dict[str, list[Sample]], list[list[int]]]:
    """A cell length, per-parameter series, and how parameters share time bases (groups)."""
    cell_ns = draw(st.sampled_from([7, 10, 25, 100]))
    layout = draw(st.sampled_from([[[0], [1], [2]], [[0, 1, 2]], [[0, 2], [1]]]))
    series: dict[str, list[Sample]] = {}
    for group in layout:
        stamps = sorted(draw(st.sets(st.integers(1000, 1400), max_size=40)))
        for index in group:
            series[NAMES[index]] = [(t, draw(values), draw(statuses)) for t in stamps]
    return cell_ns, series, layout


def _blocks(
    series: dict[str, list[Sample]], layout: list[list[int]], cuts: list[int]
) -> list[MergedBlock]:
    blocks = []
    for lo, hi in pairwise(cuts):
        groups = []
        for group in layout:
            rows = [[s for s in series[NAMES[i]] if lo <= s[0] < hi] for i in group]
            if rows[0]:
                built = SampleBlock.build(
                    group,
                    [s[0] for s in rows[0]],
                    [[s[1] for s in row] for row in rows],
                    [[s[2] for s in row] for row in rows],
                )
                assert built is not None
                groups.append(built)
        blocks.append(MergedBlock(lo, hi, 1, groups, [], final=hi == cuts[-1], first=lo == cuts[0]))
    return blocks


def _run(
    cell_ns: int,
    blocks: list[MergedBlock],
    parameters: list[int],
    chunk_samples: int = 1 << 18,
    deliver_every: int = 1,
) -> list[DefaultResult]:
    """Push the blocks, completing cells every ``deliver_every`` blocks (and at the end)."""
    accumulator = GridAccumulator(parameters, cell_ns, chunk_samples)
    last_before = np.full(len(parameters), np.nan)
    results = []
    for index, block in enumerate(blocks, 1):
        accumulator.push(block)
        if index % deliver_every and index != len(blocks):
            continue
        for cells in accumulator.complete():
            stats, last_before = compute_statistics(cells, last_before)
            results.extend(default_results(stats, [NAMES[p] for p in parameters]))
    return results  # type: ignore[return-value]


def _same(actual: list[DefaultResult], expected: list[DefaultResult]) -> None:
    assert len(actual) == len(expected)
    for got, want in zip(actual, expected, strict=True):
        assert got.identifier == want.identifier
        assert (got.interval_start_time_nano, got.interval_end_time_nano) == (
            want.interval_start_time_nano,
            want.interval_end_time_nano,
        )
        assert got.count == want.count, (got, want)
        assert got.is_super_sampled == want.is_super_sampled, (got, want)
        for name in ("first", "last", "min", "max"):
            assert getattr(got, name) == getattr(want, name), (name, got, want)
        if want.mean is None:
            assert got.mean is None
        else:
            assert got.mean is not None and math.isclose(
                got.mean, want.mean, rel_tol=1e-12, abs_tol=1e-12
            )
        for name in ("missing_count", "error_count", "unspecified_count", "nan_count"):
            assert getattr(got, name) == getattr(want, name), (name, got, want)


@settings(max_examples=150, deadline=None)
@given(
    datasets(),
    st.lists(st.integers(1000, 1401), max_size=6),
    st.sampled_from([1, 7, 1 << 18]),
    st.integers(1, 3),
    st.data(),
)
def test_statistics_match_reference(dataset, raw_cuts, chunk_samples, deliver_every, data) -> None:
    cell_ns, series, layout = dataset
    start = 1000
    last = max((s[0] for rows in series.values() for s in rows), default=None)
    end = (last if last is not None else start) + 1
    cuts = sorted({start, end, *[c for c in raw_cuts if start < c < end]})
    parameters = data.draw(
        st.permutations([0, 1, 2]).map(lambda p: list(p[: data.draw(st.integers(1, 3))]))
    )
    actual = _run(cell_ns, _blocks(series, layout, cuts), parameters, chunk_samples, deliver_every)
    if last is None:
        assert actual == []
        return
    expected = reference_results(
        series, [NAMES[p] for p in parameters], cell_ns, start // cell_ns, last // cell_ns + 1
    )
    _same(actual, expected)


def test_worked_example_sub_sampling() -> None:
    ms = 1_000_000
    series = {
        "p0": [
            (t * ms, v, 1)
            for t, v in zip([0, 100, 200, 300, 400], [10, 12, 9, 15, 11], strict=True)
        ]
    }
    blocks = _blocks(series, [[0]], [0, 401 * ms])
    (result,) = _run(500 * ms, blocks, [0])
    assert (result.first, result.last, result.min, result.max, result.count) == (10, 11, 9, 15, 5)
    assert result.mean is not None and math.isclose(result.mean, 11.4)


def test_worked_example_super_sampling() -> None:
    ms = 1_000_000
    series = {"p0": [(0, 5.0, 1), (1000 * ms, 7.0, 1)]}
    results = _run(250 * ms, _blocks(series, [[0]], [0, 1000 * ms + 1]), [0])
    assert [r.count for r in results] == [1, 0, 0, 0, 1]
    assert [r.is_super_sampled for r in results] == [False, True, True, True, False]
    assert [r.mean for r in results] == [5.0, 5.0, 5.0, 5.0, 7.0]
    assert [r.interval_start_time_nano for r in results] == [
        0,
        250 * ms,
        500 * ms,
        750 * ms,
        1000 * ms,
    ]


def test_empty_cells_before_the_first_sample_have_no_statistics() -> None:
    ms = 1_000_000
    series = {"p0": [(0, 1.0, 1)], "p1": [(600 * ms, 2.0, 1)]}
    results = _run(500 * ms, _blocks(series, [[0], [1]], [0, 600 * ms + 1]), [0, 1])
    p1 = [r for r in results if r.identifier == "p1"]
    assert p1[0] == DefaultResult("p1", 0, 500 * ms)
    assert (p1[1].count, p1[1].first) == (1, 2.0)


def test_sample_exactly_on_a_cell_edge_belongs_to_the_later_cell() -> None:
    series = {"p0": [(100, 1.0, 1), (200, 2.0, 1)]}
    results = _run(100, _blocks(series, [[0]], [100, 201]), [0])
    assert [(r.interval_start_time_nano, r.count, r.first) for r in results] == [
        (100, 1, 1.0),
        (200, 1, 2.0),
    ]


def test_session_ending_mid_cell_emits_that_cell_once() -> None:
    series = {"p0": [(1000, 1.0, 1), (1005, 2.0, 1), (1012, 3.0, 1)]}
    blocks = _blocks(series, [[0]], [1000, 1006, 1013])
    results = _run(10, blocks, [0])
    assert [(r.interval_start_time_nano, r.count) for r in results] == [(1000, 2), (1010, 1)]


def test_joining_mid_session_starts_at_the_first_whole_cell() -> None:
    series = {"p0": [(t, float(t), 1) for t in range(1000, 1040)]}
    blocks = _blocks(series, [[0]], [1000, 1015, 1040])
    results = _run(10, blocks[1:], [0])  # the subscription sees the releases from 1015 on
    assert [(r.interval_start_time_nano, r.count) for r in results] == [(1020, 10), (1030, 10)]

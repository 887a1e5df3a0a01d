"""Linear fill of empty cells (FillMode.LINEAR) against the plain-Python reference."""

from __future__ import annotations

import math

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from interpolation_reference import reference_results
from streaming_fakes import ScriptedReader, row_packet
from test_interpolation_statistics import NAMES, _blocks, _same, datasets

from ma_dataplatforms_streaming_support_library.contracts.buffering import BufferingConfiguration
from ma_dataplatforms_streaming_support_library.contracts.interpolation import (
    BatchResult,
    DefaultResult,
    FillMode,
    IBatchResultHandler,
)
from ma_dataplatforms_streaming_support_library.contracts.session_management.session_info import (
    SessionInfo,
)
from ma_dataplatforms_streaming_support_library.core.buffering.sample_reader_service import (
    SampleReaderService,
)
from ma_dataplatforms_streaming_support_library.core.interpolation.data_reader_service import (
    DataReaderService,
)
from ma_dataplatforms_streaming_support_library.core.interpolation.subscription import (
    Subscription,
)

MS = 1_000_000


class Collector(IBatchResultHandler):
    def __init__(self) -> None:
        self.batches: list[BatchResult] = []

    def handle(self, result: BatchResult) -> None:
        self.batches.append(result)

    @property
    def results(self) -> list[DefaultResult]:
        return [r for b in self.batches for r in b.results]  # type: ignore[misc]


@settings(max_examples=150, deadline=None)
@given(
    datasets(),
    st.lists(st.integers(1000, 1401), max_size=6),
    st.sampled_from([1, 13, 50, 1000]),
    st.data(),
)
def test_linear_fill_matches_reference(dataset, raw_cuts, delivery_ns, data) -> None:
    cell_ns, series, layout = dataset
    start = 1000
    last = max((s[0] for rows in series.values() for s in rows), default=None)
    end = (last if last is not None else start) + 1
    cuts = sorted({start, end, *[c for c in raw_cuts if start < c < end]})
    parameters = data.draw(
        st.permutations([0, 1, 2]).map(lambda p: list(p[: data.draw(st.integers(1, 3))]))
    )
    names = [NAMES[p] for p in parameters]
    collector = Collector()
    subscription = Subscription(
        "s", names, parameters, cell_ns, delivery_ns, collector, fill=FillMode.LINEAR
    )
    for block in _blocks(series, layout, cuts):
        subscription.on_block("Default", "key", block)
    if last is None:
        assert collector.results == []
        return
    expected = reference_results(
        series, names, cell_ns, start // cell_ns, last // cell_ns + 1, linear=True
    )
    _same(collector.results, expected)
    for batch in collector.batches:  # every batch within one delivery period of data time
        first_cell = batch.delivery_interval_start_time_nano
        last_cell = batch.delivery_interval_end_time_nano - cell_ns
        assert first_cell // delivery_ns == last_cell // delivery_ns


SESSION = SessionInfo("key-1", "Default", "run")


def _linear_pipeline(collector: Collector) -> tuple[DataReaderService, ScriptedReader]:
    data_reader = DataReaderService()
    sample_reader = SampleReaderService(
        BufferingConfiguration([], 10, 100), stream_discovery_grace_s=0
    )
    reader = ScriptedReader()
    data_reader.set_sample_reader_service(sample_reader)
    sample_reader.set_reader_service(reader)
    data_reader.start()
    sample_reader.start()
    assert data_reader.subscribe("lin", ["P", "Q"], 100.0, collector, fill=FillMode.LINEAR)
    return data_reader, reader


def test_worked_example_linear_fill_between_two_samples() -> None:
    # 10 ms cells; P: 0.0 at 5 ms, 4.0 at 45 ms, then nothing until the end at 60 ms. Q none.
    collector = Collector()
    _, reader = _linear_pipeline(collector)
    reader.send(SESSION, "", row_packet(["P"], [5 * MS, 45 * MS], [[0.0], [4.0]]))
    reader.send(SESSION, "", row_packet(["Q"], [65 * MS], [[math.nan]]))
    reader.complete_session(SESSION)
    by_cell = {
        r.interval_start_time_nano // MS: r for r in collector.results if r.identifier == "P"
    }
    assert by_cell[0].count == 1 and by_cell[0].first == 0.0
    for cell, (first, last) in {10: (0.5, 1.5), 20: (1.5, 2.5), 30: (2.5, 3.5)}.items():
        result = by_cell[cell]
        assert result.is_super_sampled and result.count == 0
        assert (result.first, result.last) == pytest.approx((first, last))
        assert (result.min, result.max) == pytest.approx((first, last))
        assert result.mean == pytest.approx((first + last) / 2)
    assert by_cell[40].count == 1 and by_cell[40].first == 4.0
    assert by_cell[50].is_super_sampled and by_cell[50].first == 4.0  # after the last: held
    assert by_cell[60].first == 4.0
    q = [r for r in collector.results if r.identifier == "Q"]
    assert q and all(r.first is None and r.count == 0 for r in q)  # never a valid sample


def test_linear_fill_waits_for_the_next_sample() -> None:
    collector = Collector()
    _, reader = _linear_pipeline(collector)
    reader.send(SESSION, "", row_packet(["P", "Q"], [0, 5 * MS], [[1.0, 1.0], [1.0, 1.0]]))
    for stamp in range(10, 200, 10):  # Q keeps coming, P is silent
        reader.send(SESSION, "", row_packet(["Q"], [stamp * MS], [[2.0]]))
    waiting = {r.interval_start_time_nano for r in collector.results if r.identifier == "P"}
    assert max(waiting, default=0) < 10 * MS  # P's empty cells wait for its next sample
    reader.send(SESSION, "", row_packet(["P", "Q"], [200 * MS], [[3.0, 2.0]]))
    reader.send(SESSION, "", row_packet(["Q"], [250 * MS], [[2.0]]))
    p = [r for r in collector.results if r.identifier == "P"]
    assert len(p) >= 20 and all(r.is_super_sampled for r in p[1:20])
    assert p[10].first == pytest.approx(1.0 + 2.0 * (100 - 5) / 195)


def test_linear_fill_is_refused_with_a_custom_processor(caplog: pytest.LogCaptureFixture) -> None:
    from test_interpolation_service import LinearInterpolation

    data_reader = DataReaderService()
    processor = LinearInterpolation()
    assert not data_reader.subscribe(
        "k", ["P"], 10.0, Collector(), None, processor, fill=FillMode.LINEAR
    )
    assert not data_reader.subscribe("k", ["P"], 10.0, Collector(), fill="linear")  # type: ignore[arg-type]
    assert "custom processor" in caplog.text and "fill must be a FillMode" in caplog.text

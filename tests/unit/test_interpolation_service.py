"""DataReaderService behind a SampleReaderService: subscriptions, batches, processors, errors."""

from __future__ import annotations

import logging
import math
import threading
import time

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from interpolation_reference import Sample, reference_results
from streaming_fakes import ScriptedReader, envelope, periodic_packet, row_packet

from ma_dataplatforms_streaming_support_library.contracts.buffering import BufferingConfiguration
from ma_dataplatforms_streaming_support_library.contracts.interpolation import (
    BatchResult,
    DataPoint,
    DefaultResult,
    IBatchResultHandler,
    IProcessResult,
    ISubscriptionProcessor,
    ProcessContext,
    ProcessResult,
)
from ma_dataplatforms_streaming_support_library.contracts.session_management.session_info import (
    SessionInfo,
)
from ma_dataplatforms_streaming_support_library.core.buffering.merged_block import MergedBlock
from ma_dataplatforms_streaming_support_library.core.buffering.merged_block_listener import (
    MergedBlockListener,
)
from ma_dataplatforms_streaming_support_library.core.buffering.sample_reader_service import (
    SampleReaderService,
)
from ma_dataplatforms_streaming_support_library.core.interpolation.data_reader_service import (
    DataReaderService,
)
from ma_dataplatforms_streaming_support_library.protos import open_data_pb2 as pb

MS = 1_000_000
SESSION = SessionInfo("key-1", "Default", "run")


class Collector(IBatchResultHandler):
    def __init__(self) -> None:
        self.batches: list[BatchResult] = []

    def handle(self, result: BatchResult) -> None:
        self.batches.append(result)

    @property
    def results(self) -> list[IProcessResult]:
        return [r for b in self.batches for r in b.results]


class BlockRecorder(MergedBlockListener):
    def __init__(self) -> None:
        self.blocks: list[MergedBlock] = []

    def on_merged_block(self, session: SessionInfo, block: MergedBlock) -> None:
        self.blocks.append(block)


def _pipeline(
    configuration: BufferingConfiguration | None = None,
) -> tuple[DataReaderService, SampleReaderService, ScriptedReader]:
    data_reader = DataReaderService()
    sample_reader = SampleReaderService(
        configuration or BufferingConfiguration([], 100, 10), stream_discovery_grace_s=0
    )
    reader = ScriptedReader()
    data_reader.set_sample_reader_service(sample_reader)
    sample_reader.set_reader_service(reader)
    data_reader.start()
    sample_reader.start()
    return data_reader, sample_reader, reader


@st.composite
def sessions(
    draw: st.DrawFn,
) -> list[tuple[str, list[str], list[int], list[list[float]], list[list[int]]]]:
    """Row packets of 1-2 streams over parameters p0..p2, values with NaN and bad statuses."""
    packets = []
    for stream in draw(st.sampled_from([["A"], ["A", "B"]])):
        clock = draw(st.integers(0, 30))
        for _ in range(draw(st.integers(1, 6))):
            parameters = draw(
                st.lists(st.sampled_from(["p0", "p1", "p2"]), min_size=1, max_size=3, unique=True)
            )
            stamps = sorted(draw(st.sets(st.integers(clock, clock + 40), min_size=1, max_size=8)))
            clock = max(0, stamps[-1] + draw(st.integers(-10, 10)))
            values = [
                [
                    draw(st.one_of(st.integers(-50, 50).map(float), st.just(math.nan)))
                    for _ in parameters
                ]
                for _ in stamps
            ]
            status = [[draw(st.sampled_from([1, 1, 1, 2, 3])) for _ in parameters] for _ in stamps]
            packets.append((stream, parameters, stamps, values, status))
    order = draw(st.permutations(range(len(packets))))
    by_stream: dict[str, list[int]] = {}
    for index in sorted(order):
        by_stream.setdefault(packets[index][0], []).append(index)
    # keep each stream's packets in their order, interleave the streams at random
    cursors = {s: 0 for s in by_stream}
    result = []
    for index in order:
        stream = packets[index][0]
        result.append(packets[by_stream[stream][cursors[stream]]])
        cursors[stream] += 1
    return result


def _row_packet_with_status(
    parameters: list[str], stamps: list[int], values: list[list[float]], status: list[list[int]]
) -> bytes:
    rows = [
        pb.SampleRow(
            double_samples=pb.DoubleSampleList(
                samples=[
                    pb.DoubleSample(value=v, status=s) for v, s in zip(row, codes, strict=True)
                ]  # type: ignore[arg-type]
            )
        )
        for row, codes in zip(values, status, strict=True)
    ]
    message = pb.RowDataPacket(
        data_format=pb.SampleDataFormat(
            parameter_identifiers=pb.ParameterList(parameter_identifiers=parameters)
        ),
        timestamps=stamps,
        rows=rows,
    )
    return envelope("RowData", message)


@settings(max_examples=120, deadline=None)
@given(
    sessions(),
    st.integers(5, 60),
    st.sampled_from([3, 10, 16]),
    st.sampled_from([["p0"], ["p2", "p0"], ["p0", "p1", "p2"]]),
)
def test_batches_match_reference_on_what_buffering_released(
    packets, window: int, cell: int, names: list[str]
) -> None:
    # window in ns (the configuration takes milliseconds), slide = half the window
    data_reader, sample_reader, reader = _pipeline(BufferingConfiguration(None, window / MS, 50))
    recorder = BlockRecorder()
    sample_reader.add_block_listener(recorder)
    collector = Collector()
    assert data_reader.subscribe("s", names, 1e9 / cell, collector, 1e9)
    for stream, parameters, stamps, values, status in packets:
        reader.send(SESSION, stream, _row_packet_with_status(parameters, stamps, values, status))
    reader.complete_session(SESSION)

    registry = sample_reader.parameter_registry
    series: dict[str, list[Sample]] = {}
    for block in recorder.blocks:
        for number, stamps_, values_, status_ in block.series():
            series.setdefault(registry.name(number), []).extend(
                zip(stamps_.tolist(), values_.tolist(), status_.tolist(), strict=True)
            )
    all_stamps = [s[0] for rows in series.values() for s in rows]
    results = collector.results
    if not all_stamps:
        assert results == []
        return
    expected = reference_results(
        series, names, cell, recorder.blocks[0].start // cell, max(all_stamps) // cell + 1
    )
    assert len(results) == len(expected)
    for got, want in zip(results, expected, strict=True):
        assert isinstance(got, DefaultResult)
        assert (got.identifier, got.interval_start_time_nano, got.count, got.is_super_sampled) == (
            want.identifier,
            want.interval_start_time_nano,
            want.count,
            want.is_super_sampled,
        )
        assert (got.first, got.last, got.min, got.max) == (
            want.first,
            want.last,
            want.min,
            want.max,
        )
        assert (got.mean is None) == (want.mean is None)
        if want.mean is not None:
            assert got.mean is not None and math.isclose(got.mean, want.mean, abs_tol=1e-9)
        assert (got.missing_count, got.error_count, got.nan_count) == (
            want.missing_count,
            want.error_count,
            want.nan_count,
        )
    starts = [b.delivery_interval_start_time_nano for b in collector.batches]
    assert starts == sorted(starts)
    for batch in collector.batches:
        assert batch.subscription_key == "s" and batch.session_key == "key-1"
        assert batch.results[0].interval_start_time_nano == batch.delivery_interval_start_time_nano
        assert batch.results[-1].interval_end_time_nano == batch.delivery_interval_end_time_nano


def test_worked_example_two_hertz_on_ten_hertz_data() -> None:
    data_reader, sample_reader, reader = _pipeline()
    collector = Collector()
    assert data_reader.subscribe("two-hertz", ["P"], 2.0, collector)
    reader.send(SESSION, "", periodic_packet(["P"], 0, 100 * MS, [[10, 12, 9, 15, 11]]))
    reader.complete_session(SESSION)
    (result,) = collector.results
    assert isinstance(result, DefaultResult)
    assert (result.first, result.last, result.min, result.max, result.count) == (10, 11, 9, 15, 5)
    assert result.mean is not None and math.isclose(result.mean, 11.4)
    assert (result.interval_start_time_nano, result.interval_end_time_nano) == (0, 500 * MS)
    assert sample_reader.is_subscribed("P")


@pytest.mark.parametrize(
    "arguments, message",
    [
        (("k", ["P"], 0.0), "subscription_frequency_hz"),
        (("k", ["P"], -2.0), "subscription_frequency_hz"),
        (("k", ["P"], math.nan), "subscription_frequency_hz"),
        (("k", ["P"], math.inf), "subscription_frequency_hz"),
        (("k", ["P"], True), "subscription_frequency_hz"),
        (("k", ["P"], "10"), "subscription_frequency_hz"),
        (("k", ["P"], 1e10), "above 1 GHz"),
        (("k", ["P"], 1e-12), "subscription_frequency_hz 1e-12 is below"),
        (("k", ["P"], 5e-324), "does not fit int64"),
        (("", ["P"], 1.0), "subscription_key"),
        (("k", [], 1.0), "must not be empty"),
        (("k", "P", 1.0), "parameter_identifiers"),
        (("k", [1], 1.0), "parameter_identifiers"),
    ],
)
def test_bad_subscriptions_are_refused(
    arguments: tuple, message: str, caplog: pytest.LogCaptureFixture
) -> None:
    data_reader, _, _ = _pipeline()
    with caplog.at_level(logging.ERROR):
        assert data_reader.subscribe(*arguments, Collector()) is False
    assert message in caplog.text


@pytest.mark.parametrize("delivery", [0, -1, math.nan, math.inf, 1e-12, 2e9])
def test_bad_delivery_frequency_is_refused(
    delivery: float, caplog: pytest.LogCaptureFixture
) -> None:
    data_reader, _, _ = _pipeline()
    with caplog.at_level(logging.ERROR):
        assert data_reader.subscribe("k", ["P"], 1.0, Collector(), delivery) is False
    assert "delivery_frequency_hz" in caplog.text


def test_duplicate_key_bad_handler_and_processor_are_refused(
    caplog: pytest.LogCaptureFixture,
) -> None:
    data_reader, _, _ = _pipeline()
    assert data_reader.subscribe("k", ["P"], 1.0, Collector())
    with caplog.at_level(logging.ERROR):
        assert data_reader.subscribe("k", ["Q"], 1.0, Collector()) is False
        assert data_reader.subscribe("h", ["Q"], 1.0, object()) is False  # type: ignore[arg-type]
        assert data_reader.subscribe("p", ["Q"], 1.0, Collector(), None, object()) is False  # type: ignore[arg-type]
    assert "already subscribed" in caplog.text
    assert "handler must have a handle()" in caplog.text
    assert "processor must have a process()" in caplog.text
    assert data_reader.unsubscribe("nope") is False


def _batch_spans(packet_sizes: list[int], cell_ns: int, delivery_ns: int) -> list[tuple]:
    """Batch intervals and result counts for 0 … 590 ns at 10 ns, sent in packets of the given
    sizes, with 100 ns windows."""
    window = BufferingConfiguration([], 100 / MS, 100)  # window and slide of 100 ns
    data_reader, _, reader = _pipeline(window)
    collector = Collector()
    assert data_reader.subscribe("k", ["P"], 1e9 / cell_ns, collector, 1e9 / delivery_ns)
    start = 0
    for size in packet_sizes:
        reader.send(SESSION, "", periodic_packet(["P"], start * 10, 10, [list(range(size))]))
        start += size
    reader.complete_session(SESSION)
    return [
        (
            b.delivery_interval_start_time_nano,
            b.delivery_interval_end_time_nano,
            [r.interval_start_time_nano for r in b.results],
        )
        for b in collector.batches
    ]


@settings(max_examples=40, deadline=None)
@given(st.lists(st.integers(1, 25), min_size=1, max_size=30).filter(lambda s: sum(s) >= 60))
def test_deliveries_count_data_time_whatever_the_packets(sizes: list[int]) -> None:
    """10 ns cells delivered every 100 ns of data: batches [0, 100), [100, 200), … however the
    samples arrive."""
    total = sum(sizes)
    spans = _batch_spans(sizes, 10, 100)
    last_cell = (total - 1) * 10
    expected = [
        (
            start,
            min(start + 100, last_cell + 10),
            list(range(start, min(start + 100, last_cell + 10), 10)),
        )
        for start in range(0, last_cell + 1, 100)
    ]
    assert spans == expected


def test_batches_group_cells_by_their_start_when_cells_and_batches_do_not_align() -> None:
    # 30 ns cells, 100 ns batches: a cell belongs to the batch holding its start.
    spans = _batch_spans([60], 30, 100)
    assert [cells for _, _, cells in spans] == [
        [0, 30, 60, 90],
        [120, 150, 180],
        [210, 240, 270],
        [300, 330, 360, 390],
        [420, 450, 480],
        [510, 540, 570],
    ]
    assert spans[0][:2] == (0, 120) and spans[1][:2] == (120, 210)
    # Batches shorter than a cell: one batch per cell.
    assert [len(cells) for _, _, cells in _batch_spans([60], 30, 7)] == [1] * 20


def test_a_batch_goes_out_as_soon_as_the_data_passes_its_end() -> None:
    window = BufferingConfiguration([], 100 / MS, 100)
    data_reader, _, reader = _pipeline(window)
    collector = Collector()
    assert data_reader.subscribe("k", ["P"], 1e9 / 10, collector, 1e9 / 100)
    reader.send(SESSION, "", periodic_packet(["P"], 0, 10, [list(range(5))]))  # 0 … 40 ns
    assert collector.batches == []  # buffering has released nothing yet
    reader.send(SESSION, "", periodic_packet(["P"], 50, 10, [list(range(10))]))  # … 140 ns
    assert [b.delivery_interval_start_time_nano for b in collector.batches] == [0]
    assert len(collector.batches[0].results) == 10
    reader.send(SESSION, "", periodic_packet(["P"], 150, 10, [list(range(10))]))  # … 240 ns
    assert [b.delivery_interval_start_time_nano for b in collector.batches] == [0, 100]
    reader.send(SESSION, "", periodic_packet(["P"], 250, 10, [list(range(10))]))  # … 340 ns
    assert [b.delivery_interval_start_time_nano for b in collector.batches] == [0, 100, 200]
    reader.complete_session(SESSION)  # the session end delivers the rest, the partial one too
    assert [b.delivery_interval_start_time_nano for b in collector.batches] == [0, 100, 200, 300]
    assert collector.batches[-1].delivery_interval_end_time_nano == 350


def test_ticker_delivers_without_new_data() -> None:
    data_reader = DataReaderService()
    sample_reader = SampleReaderService(
        BufferingConfiguration([], 10, 100), stream_discovery_grace_s=0
    )
    reader = ScriptedReader()
    data_reader.set_sample_reader_service(sample_reader)
    sample_reader.set_reader_service(reader)
    data_reader.start()
    sample_reader.start()
    received = threading.Event()

    class Signal(IBatchResultHandler):
        def __init__(self) -> None:
            self.cells = 0

        def handle(self, result: BatchResult) -> None:
            self.cells += len(result.results)
            if self.cells >= 4:
                received.set()

    signal = Signal()
    assert data_reader.subscribe("k", ["P"], 100.0, signal, 50.0)  # 10 ms cells
    for start in (0, 200, 400, 600):
        reader.send(SESSION, "", periodic_packet(["P"], start * MS, 100 * MS, [[1, 2]]))
    assert received.wait(5.0), f"only {signal.cells} cells delivered"
    data_reader.stop()
    sample_reader.stop()


class LinearInterpolation(ISubscriptionProcessor):
    """The C# sample's processor: straight lines between consecutive points, 2 ms apart."""

    def __init__(self) -> None:
        self.previous: dict[str, DataPoint] = {}
        self.contexts: list[ProcessContext] = []

    def process(self, context: ProcessContext) -> IProcessResult:
        self.contexts.append(context)
        values = []
        for point in context.interval_data_points:
            before = self.previous.get(point.parameter_identifier)
            if before is not None:
                span = point.timestamp_nanoseconds - before.timestamp_nanoseconds
                for t in range(
                    before.timestamp_nanoseconds, point.timestamp_nanoseconds + 1, 2 * MS
                ):
                    fraction = (t - before.timestamp_nanoseconds) / span
                    values.append((t, before.value + fraction * (point.value - before.value)))
            self.previous[point.parameter_identifier] = point
        result = ProcessResult(
            context.parameter_id, context.interval_start_time_nano, context.interval_end_time_nano
        )
        result.values = values  # type: ignore[attr-defined]
        return result


def test_custom_processor_gets_every_cell_and_linear_interpolation_works() -> None:
    data_reader, _, reader = _pipeline()
    collector = Collector()
    processor = LinearInterpolation()
    assert data_reader.subscribe("lin", ["P"], 50.0, collector, None, processor)  # 20 ms cells
    reader.send(SESSION, "", row_packet(["P"], [0, 10 * MS, 30 * MS], [[0.0], [1.0], [3.0]]))
    reader.complete_session(SESSION)
    assert [
        (c.interval_start_time_nano, [p.value for p in c.interval_data_points])
        for c in processor.contexts
    ] == [
        (0, [0.0, 1.0]),
        (20 * MS, [3.0]),
    ]
    first = collector.results[0]
    stamps, values = zip(*first.values, strict=True)  # type: ignore[attr-defined]
    assert stamps == tuple(t * MS for t in (0, 2, 4, 6, 8, 10))
    assert values == pytest.approx([0.0, 0.2, 0.4, 0.6, 0.8, 1.0])


def test_a_raising_processor_loses_only_its_cells(caplog: pytest.LogCaptureFixture) -> None:
    class Picky(ISubscriptionProcessor):
        def process(self, context: ProcessContext) -> IProcessResult:
            if context.parameter_id == "Q":
                raise ValueError("Q is not welcome")
            return ProcessResult(
                context.parameter_id,
                context.interval_start_time_nano,
                context.interval_end_time_nano,
            )

    data_reader, _, reader = _pipeline()
    custom, default = Collector(), Collector()
    assert data_reader.subscribe("custom", ["P", "Q"], 100.0, custom, None, Picky())
    assert data_reader.subscribe("default", ["P", "Q"], 100.0, default)
    with caplog.at_level(logging.ERROR):
        reader.send(SESSION, "", periodic_packet(["P", "Q"], 0, 10 * MS, [[1, 2, 3], [4, 5, 6]]))
        reader.complete_session(SESSION)
    assert [r.identifier for r in custom.results] == ["P", "P", "P"]
    assert [r.identifier for r in default.results] == ["P", "Q"] * 3
    assert caplog.text.count("ValueError: Q is not welcome") == 1  # traceback once, not per cell
    assert "processor" in caplog.text and "'Q'" in caplog.text


def test_a_raising_handler_is_logged_and_later_batches_still_come(
    caplog: pytest.LogCaptureFixture,
) -> None:
    class Flaky(IBatchResultHandler):
        def __init__(self) -> None:
            self.calls = 0
            self.kept: list[BatchResult] = []

        def handle(self, result: BatchResult) -> None:
            self.calls += 1
            if self.calls == 1:
                raise RuntimeError("first batch refused")
            self.kept.append(result)

    data_reader, _, reader = _pipeline(BufferingConfiguration([], 10, 100))
    flaky, other = Flaky(), Collector()
    assert data_reader.subscribe("flaky", ["P"], 100.0, flaky, 100.0)  # a batch per cell
    assert data_reader.subscribe("other", ["P"], 100.0, other, 100.0)
    with caplog.at_level(logging.ERROR):
        reader.send(SESSION, "", periodic_packet(["P"], 0, 10 * MS, [[1, 2, 3]]))
        reader.complete_session(SESSION)
    assert flaky.calls == 3 and len(flaky.kept) == 2
    assert [b.results[0].interval_start_time_nano for b in flaky.kept] == [10 * MS, 20 * MS]
    assert len(other.results) == 3
    assert "first batch refused" in caplog.text


def test_unsubscribe_stops_delivery_and_releases_auto_subscriptions() -> None:
    data_reader, sample_reader, reader = _pipeline()
    collector = Collector()
    assert data_reader.subscribe("a", ["P", "Q"], 100.0, collector)
    assert data_reader.subscribe("b", ["Q"], 100.0, Collector())
    assert sample_reader.is_subscribed("P") and sample_reader.is_subscribed("Q")
    assert data_reader.unsubscribe("a")
    assert not sample_reader.is_subscribed("P") and sample_reader.is_subscribed("Q")
    reader.send(SESSION, "", periodic_packet(["P", "Q"], 0, 10 * MS, [[1], [2]]))
    reader.complete_session(SESSION)
    assert collector.batches == []
    assert data_reader.unsubscribe("b")
    assert not sample_reader.is_subscribed("Q")


def test_user_subscriptions_in_the_sample_reader_are_left_alone() -> None:
    data_reader, sample_reader, _ = _pipeline(BufferingConfiguration(["P"], 100, 10))
    assert data_reader.subscribe("a", ["P"], 1.0, Collector())
    assert data_reader.unsubscribe("a")
    assert sample_reader.is_subscribed("P")


def test_sessions_are_kept_apart() -> None:
    data_reader, _, reader = _pipeline()
    collector = Collector()
    other = SessionInfo("key-2", "Default", "other")
    assert data_reader.subscribe("k", ["P"], 10.0, collector)
    reader.send(SESSION, "", periodic_packet(["P"], 0, 10 * MS, [[1, 2]]))
    reader.send(other, "", periodic_packet(["P"], 0, 10 * MS, [[5, 7]]))
    reader.complete_session(other)
    reader.complete_session(SESSION)
    means = {b.session_key: [r.mean for r in b.results] for b in collector.batches}  # type: ignore[attr-defined]
    assert means == {"key-2": [6.0], "key-1": [1.5]}


def test_subscription_before_the_sample_reader_is_set() -> None:
    data_reader = DataReaderService()
    collector = Collector()
    assert data_reader.subscribe("k", ["P"], 10.0, collector)
    sample_reader = SampleReaderService(
        BufferingConfiguration([], 100, 10), stream_discovery_grace_s=0
    )
    reader = ScriptedReader()
    data_reader.set_sample_reader_service(sample_reader)
    sample_reader.set_reader_service(reader)
    data_reader.start()
    sample_reader.start()
    reader.send(SESSION, "", periodic_packet(["P"], 0, 10 * MS, [[1, 2]]))
    reader.complete_session(SESSION)
    assert len(collector.results) == 1


def test_set_sample_reader_service_needs_this_library_s_service() -> None:
    with pytest.raises(TypeError, match="SampleReaderService"):
        DataReaderService().set_sample_reader_service(object())  # type: ignore[arg-type]


def test_stop_delivers_completed_cells() -> None:
    data_reader, sample_reader, reader = _pipeline(BufferingConfiguration([], 10, 100))
    collector = Collector()
    assert data_reader.subscribe("k", ["P"], 100.0, collector, 1.0)
    reader.send(SESSION, "", periodic_packet(["P"], 0, 10 * MS, [[1]]))
    reader.send(SESSION, "", periodic_packet(["P"], 10 * MS, 10 * MS, [[1, 2, 3]]))
    delivered = len(collector.results)
    sample_reader.stop()  # flushes the session into the data reader
    data_reader.stop()
    assert len(collector.results) > delivered
    assert time.monotonic() > 0


def test_moving_to_another_sample_reader_moves_the_subscriptions() -> None:
    data_reader, first, reader = _pipeline()
    collector = Collector()
    assert data_reader.subscribe("k", ["P"], 10.0, collector)
    data_reader.set_sample_reader_service(first)  # the same one again: nothing changes
    assert first.is_subscribed("P")
    second = SampleReaderService(BufferingConfiguration([], 100, 10), stream_discovery_grace_s=0)
    other_reader = ScriptedReader()
    second.set_reader_service(other_reader)
    second.start()
    data_reader.set_sample_reader_service(second)
    assert not first.is_subscribed("P") and second.is_subscribed("P")
    reader.send(SESSION, "", periodic_packet(["P"], 0, 10 * MS, [[1.0]]))
    reader.complete_session(SESSION)
    assert collector.batches == []
    other_reader.send(SESSION, "", periodic_packet(["P"], 0, 10 * MS, [[2.0]]))
    other_reader.complete_session(SESSION)
    assert [r.mean for r in collector.results] == [2.0]  # type: ignore[attr-defined]


def test_one_failing_subscription_leaves_the_others_alone(
    caplog: pytest.LogCaptureFixture,
) -> None:
    # Cells of 5e18 ns are valid, but data at 6e18 ns (year 2160) puts a cell end past int64:
    # that subscription fails on its own, the 10 Hz one beside it keeps delivering.
    data_reader, sample_reader, reader = _pipeline()
    huge, ten = Collector(), Collector()
    assert data_reader.subscribe("huge", ["P"], 1e9 / 5e18, huge)
    assert data_reader.subscribe("ten", ["P"], 10.0, ten)
    start = 6 * 10**18
    with caplog.at_level(logging.ERROR):
        reader.send(SESSION, "", periodic_packet(["P"], start, 10 * MS, [list(range(100))]))
        reader.complete_session(SESSION)
        data_reader.stop()  # does not raise
    assert huge.batches == []
    assert len(ten.results) == 10 and len(ten.batches) == 10
    assert list(data_reader.failed_subscriptions) == ["huge"]
    assert "OverflowError" in data_reader.failed_subscriptions["huge"]
    assert "subscription 'huge' failed" in caplog.text and "Traceback" in caplog.text
    assert data_reader.unsubscribe("huge") and data_reader.failed_subscriptions == {}
    sample_reader.stop()


def test_a_sample_far_from_the_others_fails_its_subscription_without_filling_the_gap() -> None:
    # Two samples a year apart at 1 kHz: filling the gap would need 3e10 cells (gigabytes); the
    # subscription fails at once with a message saying why, and nothing huge is allocated.
    data_reader, sample_reader, reader = _pipeline()
    far = Collector()
    assert data_reader.subscribe("far", ["P"], 1000.0, far)
    year_ns = 365 * 24 * 3600 * 10**9
    reader.send(SESSION, "", periodic_packet(["P"], 0, MS, [[1.0]]))
    reader.send(SESSION, "", periodic_packet(["P"], year_ns, MS, [[2.0]]))
    reader.complete_session(SESSION)
    data_reader.stop()
    assert "OverflowError" in data_reader.failed_subscriptions["far"]
    assert "cells" in data_reader.failed_subscriptions["far"]
    sample_reader.stop()

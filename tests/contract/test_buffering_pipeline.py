"""Packet reader → sample reader → data reader through the real stores, HISTORIC and LIVE.

A session with known values is written through the official writer API on two streams (the main
stream at 100 Hz with two parameters, some of their samples MISSING or ERROR; stream ``s1`` at
40 Hz, starting later, with a gap and ending earlier). Read through the whole pipeline, every
sample must come out of the sample reader exactly once and in time order, none late, and every
interpolation cell must equal a plain-Python computation over the written values.
"""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import pytest

from ma_dataplatforms_streaming_support_library.contracts.buffering.buffering_configuration import (
    BufferingConfiguration,
)
from ma_dataplatforms_streaming_support_library.contracts.buffering.end_sample_data import (
    EndSampleData,
)
from ma_dataplatforms_streaming_support_library.contracts.buffering.end_timestamp_data import (
    EndTimestampData,
)
from ma_dataplatforms_streaming_support_library.contracts.buffering.merge_strategy import (
    MergeStrategy,
)
from ma_dataplatforms_streaming_support_library.contracts.buffering.sample_data import SampleData
from ma_dataplatforms_streaming_support_library.contracts.buffering.start_sample_data import (
    StartSampleData,
)
from ma_dataplatforms_streaming_support_library.contracts.buffering.start_timestamp_data import (
    StartTimestampData,
)
from ma_dataplatforms_streaming_support_library.contracts.buffering.timestamp_data import (
    TimestampData,
)
from ma_dataplatforms_streaming_support_library.contracts.interpolation.batch_result import (
    BatchResult,
)
from ma_dataplatforms_streaming_support_library.contracts.interpolation.default_result import (
    DefaultResult,
)
from ma_dataplatforms_streaming_support_library.contracts.interpolation.i_batch_result_handler import (
    IBatchResultHandler,
)
from ma_dataplatforms_streaming_support_library.contracts.packet_reading.packet_reading_configuration import (
    PacketReadingConfiguration,
)
from ma_dataplatforms_streaming_support_library.contracts.packet_writing.packet_bytes import (
    PacketBytes,
)
from ma_dataplatforms_streaming_support_library.contracts.session_management.session_info import (
    SessionInfo,
)
from ma_dataplatforms_streaming_support_library.contracts.shared.i_handler import IHandler
from ma_dataplatforms_streaming_support_library.protos import open_data_pb2 as pb

from .conftest import (
    PARTITION_BASE,
    Library,
    create_session,
    end_session,
    historic_configuration,
    live_configuration,
    new_session_packet,
    packet,
    wait_for,
)

MS = 1_000_000
T0 = 1_700_000_000_123_456_789  # deliberately not on a cell boundary
MAIN_PARAMETERS = ["A:Pipe", "B:Pipe"]
S1_PARAMETERS = ["C:Pipe"]
ALL = [*MAIN_PARAMETERS, *S1_PARAMETERS]
STREAMS = ("", "s1")
MAIN_PACKETS, MAIN_SAMPLES, MAIN_INTERVAL = 40, 20, 10 * MS  # 8 s at 100 Hz
S1_PACKETS, S1_SAMPLES, S1_INTERVAL = 18, 16, 25 * MS  # 7.2 s at 40 Hz
S1_OFFSET, S1_SKIPPED = 350 * MS, 5  # s1 starts later and leaves one packet out
PIPELINE_WAIT_S = 90.0
VALID, MISSING, ERROR = pb.DATA_STATUS_VALID, pb.DATA_STATUS_MISSING, pb.DATA_STATUS_ERROR

Sample = tuple[int, float, int]  # timestamp ns, value, status


# the session ------------------------------------------------------------------------------------
def _a(i: int) -> float:
    return round(10 * math.sin(i / 7), 6) + i / 1000


def _b(i: int) -> tuple[float, int]:
    if 300 <= i < 312 or i % 53 == 7:
        return float(i % 5), MISSING  # a whole 10 Hz cell without a VALID sample, and strays
    if i % 61 == 11:
        return -1.0, ERROR
    return float(i % 17 - 8), VALID


def _c(k: int) -> float:
    return round(3 * math.cos(k / 5), 6)


@dataclass
class Step:
    stream: str
    parameters: list[str]
    start_ns: int
    interval_ns: int
    columns: list[list[tuple[float, int]]]


def session_steps(scale: int = 1) -> list[Step]:
    """The data packets in the order a real-time writer sends them (by start time)."""
    steps: list[Step] = []
    for p in range(MAIN_PACKETS * scale):
        indices = range(p * MAIN_SAMPLES, (p + 1) * MAIN_SAMPLES)
        columns = [[(_a(i), VALID) for i in indices], [_b(i) for i in indices]]
        start = T0 + p * MAIN_SAMPLES * MAIN_INTERVAL
        steps.append(Step("", MAIN_PARAMETERS, start, MAIN_INTERVAL, columns))
    for p in range(S1_PACKETS * scale):
        if p == S1_SKIPPED:
            continue
        indices = range(p * S1_SAMPLES, (p + 1) * S1_SAMPLES)
        start = T0 + S1_OFFSET + p * S1_SAMPLES * S1_INTERVAL
        steps.append(
            Step("s1", S1_PARAMETERS, start, S1_INTERVAL, [[(_c(k), VALID) for k in indices]])
        )
    steps.sort(key=lambda step: (step.start_ns, step.stream))
    return steps


def expected_samples(scale: int = 1) -> dict[str, list[Sample]]:
    series: dict[str, list[Sample]] = {name: [] for name in ALL}
    for step in session_steps(scale):
        for name, column in zip(step.parameters, step.columns, strict=True):
            for j, (value, status) in enumerate(column):
                series[name].append((step.start_ns + j * step.interval_ns, value, status))
    for samples in series.values():
        samples.sort()
    return series


def _periodic(session_key: str, data_format_id: int, step: Step) -> PacketBytes:
    content = pb.PeriodicDataPacket(
        data_format=pb.SampleDataFormat(data_format_identifier=data_format_id),
        start_time=step.start_ns,
        interval=step.interval_ns,
        columns=[
            pb.SampleColumn(
                double_samples=pb.DoubleSampleList(
                    samples=[pb.DoubleSample(value=v, status=s) for v, s in column]
                )
            )
            for column in step.columns
        ],
    ).SerializeToString()
    return packet("PeriodicData", session_key, content)


def write_pipeline_session(
    library: Library,
    data_source: str,
    *,
    pause_s: float = 0.0,
    before_end: Callable[[], None] | None = None,
    scale: int = 1,
) -> str:
    """Write the session through the official API (NewSession and EndOfSession on each stream)."""
    sessions, formats, writer = (
        library.session_service(),
        library.format_service(),
        library.writer_service(),
    )
    info = create_session(sessions, data_source, "pipeline")
    key = info.session_key
    format_ids = {}
    for stream, names in (("", MAIN_PARAMETERS), ("s1", S1_PARAMETERS)):
        result = formats.get_parameter_data_format_id(data_source, names)
        assert result.success and result.data is not None, result.error_message
        format_ids[stream] = result.data.data_format_id
    for stream in STREAMS:
        assert writer.write_data(
            data_source, stream, key, new_session_packet(data_source, key)
        ).success
    for step in session_steps(scale):
        data = _periodic(key, format_ids[step.stream], step)
        result = writer.write_data(data_source, step.stream, key, data)
        assert result.success, result.error_message
        if pause_s and step.stream == "":
            time.sleep(pause_s)
    if before_end is not None:
        before_end()
    end_session(sessions, writer, data_source, key, STREAMS)
    return key


# the independent computation --------------------------------------------------------------------
def expected_cells(
    series: dict[str, list[Sample]], identifiers: Sequence[str], cell_ns: int
) -> list[tuple[Any, ...]]:
    """(identifier, start, first, last, min, max, mean, count, missing, error, super_sampled) of
    every cell from the one holding the session's first sample to the one holding its last,
    ordered by parameter, then cell."""
    stamps = [s[0] for samples in series.values() for s in samples]
    first_cell, last_cell = min(stamps) // cell_ns, max(stamps) // cell_ns
    rows = []
    for name in identifiers:
        held: float | None = None
        by_cell: dict[int, list[Sample]] = {}
        for sample in series[name]:
            by_cell.setdefault(sample[0] // cell_ns, []).append(sample)
        for cell in range(first_cell, last_cell + 1):
            inside = by_cell.get(cell, [])
            good = [v for _, v, st in inside if st == VALID]
            missing = sum(1 for s in inside if s[2] == MISSING)
            error = sum(1 for s in inside if s[2] == ERROR)
            if good:
                stats = (good[0], good[-1], min(good), max(good), sum(good) / len(good), len(good))
                held, held_flag = good[-1], False
            elif held is not None:
                stats, held_flag = (held, held, held, held, held, 0), True
            else:
                stats, held_flag = (None, None, None, None, None, 0), False
            rows.append((name, cell * cell_ns, *stats, missing, error, held_flag))
    return rows


def result_rows(results: Sequence[DefaultResult], cell_ns: int) -> list[tuple[Any, ...]]:
    for result in results:
        assert result.interval_end_time_nano - result.interval_start_time_nano == cell_ns
    rows = [
        (
            r.identifier,
            r.interval_start_time_nano,
            r.first,
            r.last,
            r.min,
            r.max,
            r.mean,
            r.count,
            r.missing_count,
            r.error_count,
            r.is_super_sampled,
        )
        for r in results
    ]
    order = {name: i for i, name in enumerate(ALL)}
    return sorted(rows, key=lambda row: (order[row[0]], row[1]))


def assert_rows_equal(actual: list[tuple[Any, ...]], expected: list[tuple[Any, ...]]) -> None:
    assert len(actual) == len(expected)
    for got, want in zip(actual, expected, strict=True):
        mean_got, mean_want = got[6], want[6]
        assert got[:6] + got[7:] == want[:6] + want[7:], (got, want)
        assert (mean_got is None) == (mean_want is None), (got, want)
        if mean_want is not None:
            assert mean_got == pytest.approx(mean_want, rel=1e-12, abs=1e-12), (got, want)


# the pipeline -----------------------------------------------------------------------------------
class Windows(IHandler[TimestampData]):
    def __init__(self) -> None:
        self.items: list[TimestampData] = []

    def handle(self, obj: TimestampData) -> None:
        self.items.append(obj)


class Samples(IHandler[SampleData]):
    def __init__(self) -> None:
        self.items: list[SampleData] = []

    def handle(self, obj: SampleData) -> None:
        self.items.append(obj)


class Results(IBatchResultHandler):
    def __init__(self, key: str, *, raising: bool = False) -> None:
        self.key = key
        self.raising = raising
        self.batches: list[BatchResult] = []
        self.calls = 0

    def handle(self, result: BatchResult) -> None:
        self.calls += 1
        if self.raising:
            raise RuntimeError("a result handler that fails on every batch")
        self.batches.append(result)

    def results(self) -> list[DefaultResult]:
        found = [r for batch in self.batches for r in batch.results]
        assert all(isinstance(r, DefaultResult) for r in found)
        return found  # type: ignore[return-value]


@dataclass
class Pipeline:
    packet_reader: Any
    sample_reader: Any
    data_reader: Any
    windows: Windows = field(default_factory=Windows)
    samples: Samples = field(default_factory=Samples)
    merged: list[SessionInfo] = field(default_factory=list)
    results: dict[str, Results] = field(default_factory=dict)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def on_merged(self, sender: object, info: SessionInfo) -> None:
        with self.lock:
            self.merged.append(info)

    def merged_keys(self) -> list[str]:
        with self.lock:
            return [info.session_key for info in self.merged]

    def stop(self) -> None:
        for service in (self.packet_reader, self.sample_reader, self.data_reader):
            service.stop()  # outermost first


#: subscription key → (parameters, frequency Hz, delivery Hz)
SUBSCRIPTIONS = {
    "ten": (ALL, 10.0, None),
    "three": (["C:Pipe", "A:Pipe"], 3.0, 2.0),  # cells of 333 333 333 ns, not a divisor of 1 s
    "raising": (ALL, 10.0, None),
}


def start_pipeline(
    library: Library,
    configuration: PacketReadingConfiguration,
    merge_strategy: MergeStrategy = MergeStrategy.READING_MERGE,
) -> Pipeline:
    api = library.api
    buffering = BufferingConfiguration(ALL, 1000, 10, merge_strategy)
    sample_created = api.get_sample_reader_api().create_service(buffering)
    data_created = api.get_data_reader_api().create_service()
    assert sample_created.success and data_created.success
    pipeline = Pipeline(library.reader(configuration), sample_created.data, data_created.data)
    pipeline.sample_reader.set_reader_service(pipeline.packet_reader)
    pipeline.sample_reader.set_handler(pipeline.windows)
    pipeline.sample_reader.set_handler(pipeline.samples)
    pipeline.sample_reader.session_data_merging_completed.subscribe(pipeline.on_merged)
    pipeline.data_reader.set_sample_reader_service(pipeline.sample_reader)
    for key, (parameters, hz, delivery) in SUBSCRIPTIONS.items():
        handler = Results(key, raising=key == "raising")
        pipeline.results[key] = handler
        assert pipeline.data_reader.subscribe(key, parameters, hz, handler, delivery)
    for service in (pipeline.data_reader, pipeline.sample_reader, pipeline.packet_reader):
        service.initialise()
        service.start()  # innermost first
    return pipeline


def check_pipeline(pipeline: Pipeline, data_source: str, key: str, scale: int = 1) -> None:
    expected = expected_samples(scale)
    sample_reader = pipeline.sample_reader
    assert sample_reader.get_late_sample_count(data_source, key) == 0

    # SampleData: start item, every sample once in time order per parameter, end item.
    items = [item for item in pipeline.samples.items if item.session_key == key]
    assert isinstance(items[0], StartSampleData) and isinstance(items[-1], EndSampleData)
    assert not any(isinstance(i, (StartSampleData, EndSampleData)) for i in items[1:-1])
    received: dict[str, list[Sample]] = {name: [] for name in ALL}
    for item in items[1:-1]:
        assert item.data_source == data_source
        for value in item.values:
            assert item.start_time <= value.timestamp < item.end_time
            received[item.identifier].append(
                (value.timestamp, value.cast(float), int(value.status))
            )
    for name in ALL:
        stamps = [s[0] for s in received[name]]
        assert stamps == sorted(set(stamps)), f"{name}: not strictly time-ordered"
        assert received[name] == expected[name], name

    # TimestampData: ascending non-overlapping windows, ascending columns, the same samples.
    windows = [item for item in pipeline.windows.items if item.session_key == key]
    assert isinstance(windows[0], StartTimestampData) and isinstance(windows[-1], EndTimestampData)
    merged: list[tuple[int, str, float, int]] = []
    previous_end = None
    for window in windows[1:-1]:
        assert previous_end is None or window.start_time >= previous_end
        previous_end = window.end_time
        stamps = [column.timestamp for column in window.time_columns]
        assert stamps == sorted(set(stamps))
        for column in window.time_columns:
            assert window.start_time <= column.timestamp < window.end_time
            merged.extend(
                (column.timestamp, v.identifier, v.cast(float), int(v.status))
                for v in column.sample_values
            )
    flat = sorted((t, name, v, st) for name in ALL for t, v, st in expected[name])
    assert sorted(merged) == flat

    last_time = dict(sample_reader.get_last_time_info(data_source, key))
    assert last_time == {
        "": expected["A:Pipe"][-1][0],
        "s1": expected["C:Pipe"][-1][0],
    }

    # Interpolation: every cell once, equal to the plain computation; order within batches.
    for subscription in ("ten", "three"):
        parameters, hz, _ = SUBSCRIPTIONS[subscription]
        cell_ns = round(1e9 / hz)
        handler = pipeline.results[subscription]
        for batch in handler.batches:
            assert batch.subscription_key == subscription and batch.session_key == key
            starts = [
                (r.interval_start_time_nano, parameters.index(r.identifier)) for r in batch.results
            ]
            assert starts == sorted(starts)
            assert batch.delivery_interval_start_time_nano == starts[0][0]
        actual = result_rows(handler.results(), cell_ns)
        assert_rows_equal(
            actual, expected_cells(expected, sorted(parameters, key=ALL.index), cell_ns)
        )
    assert pipeline.results["raising"].calls >= 1
    check_batches_follow_data_time(pipeline)


def check_batches_follow_data_time(pipeline: Pipeline) -> None:
    """Each batch holds the cells starting in one delivery period of data time, in order."""
    for subscription in ("ten", "three"):
        _, hz, delivery = SUBSCRIPTIONS[subscription]
        cell_ns, delivery_ns = round(1e9 / hz), round(1e9 / (delivery or 10.0))
        periods = [
            (
                batch.delivery_interval_start_time_nano // delivery_ns,
                (batch.delivery_interval_end_time_nano - cell_ns) // delivery_ns,
            )
            for batch in pipeline.results[subscription].batches
        ]
        assert all(first == last for first, last in periods), subscription
        assert [first for first, _ in periods] == sorted({first for first, _ in periods})


def batch_spans(pipeline: Pipeline, subscription: str) -> list[tuple[int, int, int]]:
    return [
        (b.delivery_interval_start_time_nano, b.delivery_interval_end_time_nano, len(b.results))
        for b in pipeline.results[subscription].batches
    ]


def test_historic_replays_give_the_same_batches(library: Library, data_source: str) -> None:
    """Delivery counts data time: 8 s of data at 10 Hz delivery is 81 batches of 100 ms (the
    session starts 23 ms into a period), the same on every replay however fast it runs."""
    key = write_pipeline_session(library, data_source)

    def replay() -> dict[str, list[tuple[int, int, int]]]:
        pipeline = start_pipeline(library, historic_configuration(data_source, session_key=key))
        try:
            wait_for(lambda: key in pipeline.merged_keys(), PIPELINE_WAIT_S, "historic merge")
        finally:
            pipeline.stop()
        check_batches_follow_data_time(pipeline)
        return {name: batch_spans(pipeline, name) for name in ("ten", "three")}

    spans = [replay(), replay()]
    assert spans[0] == spans[1]
    ten = spans[0]["ten"]
    assert len(ten) == 81 and all(count == len(ALL) for _, _, count in ten)
    assert len(spans[0]["three"]) == 17  # 500 ms batches over 8.1 s


@pytest.mark.parametrize("merge_strategy", list(MergeStrategy))
def test_historic_pipeline_delivers_every_sample_once_and_exact_statistics(
    library: Library, data_source: str, merge_strategy: MergeStrategy
) -> None:
    key = write_pipeline_session(library, data_source)
    pipeline = start_pipeline(
        library, historic_configuration(data_source, session_key=key), merge_strategy
    )
    try:
        wait_for(lambda: key in pipeline.merged_keys(), PIPELINE_WAIT_S, "historic merge")
    finally:
        pipeline.stop()
    check_pipeline(pipeline, data_source, key)
    assert pipeline.merged_keys() == [key]


def test_historic_pipeline_over_partitions_and_many_polls(
    library_factory: Any, data_source: str
) -> None:
    """Streams as partitions of one topic, and a session far longer than one poll (the reader
    hands the partitions' records over in chunks)."""
    library = library_factory(PARTITION_BASE, partition_mappings={"s1": 1})
    key = write_pipeline_session(library, data_source, scale=20)
    pipeline = start_pipeline(library, historic_configuration(data_source, session_key=key))
    try:
        wait_for(lambda: key in pipeline.merged_keys(), PIPELINE_WAIT_S, "historic merge")
    finally:
        pipeline.stop()
    check_pipeline(pipeline, data_source, key, scale=20)


def test_live_pipeline_started_before_the_writer(library_factory: Any, data_source: str) -> None:
    reading, writing = library_factory(), library_factory()
    pipeline = start_pipeline(reading, live_configuration(data_source))
    released_before_end: list[int] = []
    batches_before_end: list[int] = []

    def before_end() -> None:
        # Wait until the reader has caught up with the data, then count what it released.
        wait_for(lambda: len(pipeline.samples.items) > 1, PIPELINE_WAIT_S, "first release")
        released_before_end.append(len(pipeline.windows.items))
        batches_before_end.append(len(pipeline.results["ten"].batches))

    try:
        key = write_pipeline_session(writing, data_source, pause_s=0.05, before_end=before_end)
        wait_for(lambda: key in pipeline.merged_keys(), PIPELINE_WAIT_S, "live merge")
    finally:
        pipeline.stop()
    check_pipeline(pipeline, data_source, key)
    # Paced writing: windows were released while the session was still being written.
    assert released_before_end[0] > 1
    # ...and batches delivered as the data time advanced, before the session ended.
    assert batches_before_end[0] >= 1
    # The failing handler kept being called: each failure costs only its own batch.
    assert pipeline.results["raising"].calls >= 2


# bad input --------------------------------------------------------------------------------------
class Quiet(IBatchResultHandler):
    def handle(self, result: BatchResult) -> None:
        pass


@pytest.mark.parametrize(
    ("window_ms", "percentage", "named"),
    [
        (0, 5, "buffering_window_length"),
        (-100, 5, "buffering_window_length"),
        (float("nan"), 5, "buffering_window_length"),
        (3000, 0, "sliding_window_percentage"),
        (3000, -5, "sliding_window_percentage"),
        (3000, 100.5, "sliding_window_percentage"),
        (3000, float("nan"), "sliding_window_percentage"),
    ],
)
def test_bad_buffering_configuration_fails_create_service(
    library: Library, window_ms: float, percentage: float, named: str
) -> None:
    result = library.api.get_sample_reader_api().create_service(
        BufferingConfiguration(ALL, window_ms, percentage)
    )
    assert not result.success and result.data is None
    assert named in result.error_message


def test_full_slide_is_accepted(library: Library) -> None:
    result = library.api.get_sample_reader_api().create_service(
        BufferingConfiguration(ALL, 3000, 100)
    )
    assert result.success and result.data is not None


def test_bad_subscriptions_are_refused(library: Library, caplog: pytest.LogCaptureFixture) -> None:
    api = library.api
    sample_reader = api.get_sample_reader_api().create_service(BufferingConfiguration(ALL)).data
    data_reader = api.get_data_reader_api().create_service().data
    data_reader.set_sample_reader_service(sample_reader)
    handler = Quiet()

    def refused(named: str, *arguments: Any) -> None:
        caplog.clear()
        assert not data_reader.subscribe(*arguments)
        assert named in caplog.text, (arguments, caplog.text)

    for hz in (0, -10, float("nan"), float("inf")):
        refused("subscription_frequency_hz", f"hz-{hz}", ALL, hz, handler)
    refused("delivery_frequency_hz", "delivery", ALL, 10, handler, 0)
    refused("delivery_frequency_hz", "delivery-nan", ALL, 10, handler, float("nan"))
    refused("must not be empty", "empty", [], 10, handler)
    assert data_reader.subscribe("twice", ALL, 10, handler)
    refused("already subscribed", "twice", ["A:Pipe"], 5, handler)
    assert data_reader.unsubscribe("twice")
    assert not data_reader.unsubscribe("twice")
    for key in ("hz-0", "delivery", "empty"):
        assert not data_reader.unsubscribe(key)  # none of the refused ones was registered

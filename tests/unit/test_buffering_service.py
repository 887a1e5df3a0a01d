"""SampleReaderService wired to a scripted packet reader: order of items, shapes, handlers."""

from __future__ import annotations

import logging

import pytest
from streaming_fakes import (
    ScriptedReader,
    marker_packet,
    periodic_packet,
    row_packet,
)

from ma_dataplatforms_streaming_support_library.contracts.buffering import (
    BufferingConfiguration,
    EndSampleData,
    EndTimestampData,
    MarkerData,
    MergeStrategy,
    SampleData,
    StartSampleData,
    StartTimestampData,
    TimestampData,
    ValueStatus,
)
from ma_dataplatforms_streaming_support_library.contracts.data_format_management.data_format_info_type import (
    DataFormatInfoType,
)
from ma_dataplatforms_streaming_support_library.contracts.session_management.session_info import (
    SessionInfo,
)
from ma_dataplatforms_streaming_support_library.contracts.shared.i_handler import IHandler
from ma_dataplatforms_streaming_support_library.core.buffering.sample_reader_service import (
    SampleReaderService,
)

MS = 1_000_000
SESSION = SessionInfo("key-1", "Default", "run")


class TimestampCollector(IHandler[TimestampData]):
    def __init__(self) -> None:
        self.items: list[TimestampData] = []

    def handle(self, obj: TimestampData) -> None:
        self.items.append(obj)


class SampleCollector(IHandler[SampleData]):
    def __init__(self) -> None:
        self.items: list[SampleData] = []

    def handle(self, obj: SampleData) -> None:
        self.items.append(obj)


def _service(
    configuration: BufferingConfiguration | None = None, streams: tuple[str, ...] = ()
) -> tuple[SampleReaderService, ScriptedReader]:
    service = SampleReaderService(
        configuration or BufferingConfiguration(), stream_discovery_grace_s=0
    )
    reader = ScriptedReader(streams)
    service.set_reader_service(reader)
    service.start()
    return service, reader


def test_items_bracket_the_session_and_columns_follow_the_merge_example() -> None:
    service, reader = _service(BufferingConfiguration(["vCar", "gLat", "RPM"]))
    timestamps, samples = TimestampCollector(), SampleCollector()
    service.set_handler(timestamps)
    service.set_handler(samples)
    events: list[str] = []
    service.session_data_merging_started.subscribe(lambda s, info: events.append("started"))
    service.session_data_merging_completed.subscribe(lambda s, info: events.append("completed"))
    reader.start_session(SESSION)
    reader.send(
        SESSION, "A", periodic_packet(["vCar", "gLat"], 1000 * MS, 10 * MS, [[1, 2, 3], [4, 5, 6]])
    )
    reader.send(SESSION, "B", row_packet(["RPM"], [1000 * MS, 1015 * MS], [[7], [8]]))
    reader.complete_session(SESSION)

    assert events == ["started", "completed"]
    items = timestamps.items
    assert isinstance(items[0], StartTimestampData) and isinstance(items[-1], EndTimestampData)
    (data,) = items[1:-1]
    assert (data.start_time, data.end_time, data.timestamp) == (1000 * MS, 1150 * MS, 1000 * MS)
    columns = [(c.timestamp, [v.identifier for v in c.sample_values]) for c in data.time_columns]
    assert columns == [
        (1000 * MS, ["vCar", "gLat", "RPM"]),
        (1010 * MS, ["vCar", "gLat"]),
        (1015 * MS, ["RPM"]),
        (1020 * MS, ["vCar", "gLat"]),
    ]
    value = data.time_columns[0].sample_values[2]
    assert (value.value_type, value.cast(float), value.status) == (float, 7.0, ValueStatus.VALID)
    assert value.cast(str) is None

    assert isinstance(samples.items[0], StartSampleData) and isinstance(
        samples.items[-1], EndSampleData
    )
    per_parameter = {
        s.identifier: [(v.timestamp, v.value.value) for v in s.values] for s in samples.items[1:-1]
    }
    assert per_parameter == {
        "vCar": [(1000 * MS, 1.0), (1010 * MS, 2.0), (1020 * MS, 3.0)],
        "gLat": [(1000 * MS, 4.0), (1010 * MS, 5.0), (1020 * MS, 6.0)],
        "RPM": [(1000 * MS, 7.0), (1015 * MS, 8.0)],
    }
    assert [s.identifier for s in samples.items[1:-1]] == ["vCar", "gLat", "RPM"]
    assert service.get_last_time_info("Default", "key-1") == [("A", 1020 * MS), ("B", 1015 * MS)]
    assert service.get_last_time_info("Default", "unknown") == []


def test_slices_are_released_as_the_window_slides() -> None:
    service, reader = _service(BufferingConfiguration(None, 1000, 10))  # window 1 s, slide 100 ms
    timestamps = TimestampCollector()
    service.set_handler(timestamps)
    reader.send(SESSION, "", periodic_packet(["x"], 0, 50 * MS, [list(range(21))]))  # 0 … 1000 ms
    released = [(d.start_time, d.end_time) for d in timestamps.items[1:]]
    assert released == [(0, 100 * MS)]
    reader.send(
        SESSION, "", periodic_packet(["x"], 1050 * MS, 50 * MS, [[1, 2, 3]])
    )  # up to 1150 ms
    assert [(d.start_time, d.end_time) for d in timestamps.items[2:]] == [(100 * MS, 200 * MS)]
    assert [c.timestamp for c in timestamps.items[2].time_columns] == [100 * MS, 150 * MS]


def test_subscription_filters_and_changes_on_the_fly() -> None:
    service, reader = _service(BufferingConfiguration(["a"], 100, 100))
    samples = SampleCollector()
    service.set_handler(samples, SampleData)
    reader.send(SESSION, "", periodic_packet(["a", "b"], 0, MS, [[1, 2], [3, 4]]))
    assert service.subscribe(["b"]) is True
    reader.send(SESSION, "", periodic_packet(["a", "b"], 2 * MS, MS, [[5], [6]]))
    assert service.unsubscribe(["a"]) is True
    reader.send(SESSION, "", periodic_packet(["a", "b"], 3 * MS, MS, [[7], [8]]))
    reader.complete_session(SESSION)
    values = {}
    for item in samples.items[1:-1]:
        values.setdefault(item.identifier, []).extend(v.value.value for v in item.values)
    assert values == {"b": [6.0, 8.0]}  # a's buffered values were dropped when unsubscribed
    assert service.subscribe("a") is False  # a str is not a list of identifiers
    assert service.subscribe([1]) is False  # type: ignore[list-item]


def test_subscribe_all_includes_parameters_seen_later() -> None:
    service, reader = _service(BufferingConfiguration(None, 100, 100))
    samples = SampleCollector()
    service.set_handler(samples)
    reader.send(SESSION, "", periodic_packet(["p", "q"], 0, MS, [[1], [2]]))
    assert service.unsubscribe(["q"])
    reader.send(SESSION, "", periodic_packet(["p", "q", "r"], MS, MS, [[1], [2], [3]]))
    reader.complete_session(SESSION)
    assert sorted({s.identifier for s in samples.items[1:-1]}) == ["p", "r"]


def test_markers_ride_along_when_included() -> None:
    service, reader = _service(BufferingConfiguration(None, 100, 100, include_marker_data=True))
    timestamps = TimestampCollector()
    service.set_handler(timestamps)
    reader.send(SESSION, "", marker_packet(5 * MS, "Lap", 3))
    reader.send(SESSION, "A", periodic_packet(["p"], 0, 5 * MS, [[1, 2]]))
    reader.complete_session(SESSION)
    columns = timestamps.items[1].time_columns
    assert [c.timestamp for c in columns] == [0, 5 * MS]
    marker = columns[1].sample_values[-1]
    assert marker.identifier == "Lap" and marker.value_type is MarkerData
    assert marker.cast(MarkerData) == MarkerData(5 * MS, 3, "Lap")


def test_markers_are_ignored_by_default() -> None:
    service, reader = _service(BufferingConfiguration(None, 100, 100))
    timestamps = TimestampCollector()
    service.set_handler(timestamps)
    reader.send(SESSION, "", marker_packet(5 * MS, "Lap"))
    reader.complete_session(SESSION)
    assert [type(i) for i in timestamps.items] == [StartTimestampData, EndTimestampData]


def test_data_format_ids_are_resolved() -> None:
    asked = []

    def resolve(
        data_source: str, kind: DataFormatInfoType, data_format_id: int
    ) -> list[str] | None:
        asked.append((data_source, kind, data_format_id))
        return ["p", "q"] if data_format_id == 42 else None

    service = SampleReaderService(
        BufferingConfiguration(None, 100, 100), resolver=resolve, stream_discovery_grace_s=0
    )
    reader = ScriptedReader()
    service.set_reader_service(reader)
    service.start()
    samples = SampleCollector()
    service.set_handler(samples)
    reader.send(SESSION, "", periodic_packet(42, 0, MS, [[1], [2]]))
    reader.send(SESSION, "", periodic_packet(43, 0, MS, [[1], [2]]))
    reader.complete_session(SESSION)
    assert [s.identifier for s in samples.items[1:-1]] == ["p", "q"]
    assert ("Default", DataFormatInfoType.PARAMETERS, 42) in asked


def test_a_raising_handler_does_not_stop_the_others(caplog: pytest.LogCaptureFixture) -> None:
    class Failing(IHandler[TimestampData]):
        def handle(self, obj: TimestampData) -> None:
            raise RuntimeError("boom")

    service, reader = _service(BufferingConfiguration(None, 100, 100))
    good = TimestampCollector()
    service.set_handler(Failing())
    service.set_handler(good)
    with caplog.at_level(logging.ERROR):
        reader.send(SESSION, "", periodic_packet(["p"], 0, MS, [[1]]))
        reader.complete_session(SESSION)
    assert len(good.items) == 3
    assert "buffering handler" in caplog.text and "boom" in caplog.text


def test_set_handler_needs_a_known_data_type() -> None:
    class Untyped:
        def handle(self, obj: object) -> None:
            pass

    service, _ = _service()
    with pytest.raises(TypeError, match="TimestampData or SampleData"):
        service.set_handler(Untyped())  # type: ignore[arg-type]
    service.set_handler(Untyped(), TimestampData)  # type: ignore[arg-type]


def test_remove_handler_stops_delivery() -> None:
    service, reader = _service(BufferingConfiguration(None, 100, 100))
    collector = TimestampCollector()
    service.set_handler(collector)
    reader.start_session(SESSION)
    service.remove_handler(collector)
    reader.complete_session(SESSION)
    assert [type(i) for i in collector.items] == [StartTimestampData]
    service.remove_handler(collector)  # unknown handler: no error


def test_packets_before_start_are_dropped_with_a_warning(caplog: pytest.LogCaptureFixture) -> None:
    service = SampleReaderService(BufferingConfiguration())
    reader = ScriptedReader()
    service.set_reader_service(reader)
    with caplog.at_level(logging.WARNING):
        reader.send(SESSION, "", periodic_packet(["p"], 0, MS, [[1]]))
    assert "not started" in caplog.text
    assert service.get_last_time_info("Default", "key-1") == []


def test_stop_flushes_open_sessions_and_detaches() -> None:
    service, reader = _service(BufferingConfiguration(None, 100_000, 5))
    collector = SampleCollector()
    service.set_handler(collector)
    reader.send(SESSION, "", periodic_packet(["p"], 0, MS, [[1, 2]]))
    service.stop()
    assert isinstance(collector.items[-1], EndSampleData)
    assert [v.value.value for v in collector.items[1].values] == [1.0, 2.0]
    assert reader.handlers == []
    service.stop()


def test_configured_streams_hold_releases_until_each_has_delivered() -> None:
    service, reader = _service(BufferingConfiguration(None, 100, 10), streams=("A", "B"))
    collector = SampleCollector()
    service.set_handler(collector)
    reader.send(SESSION, "A", periodic_packet(["a"], 0, 100 * MS, [[1, 2, 3]]))
    assert len(collector.items) == 1  # only the start item: B has not delivered yet
    reader.send(SESSION, "B", periodic_packet(["b"], 0, 100 * MS, [[4, 5, 6]]))
    assert {item.identifier for item in collector.items[1:]} == {"a", "b"}


def test_late_samples_are_counted() -> None:
    service, reader = _service(BufferingConfiguration(None, 100, 10))
    reader.send(SESSION, "A", periodic_packet(["a"], 0, 100 * MS, [[1, 2, 3]]))
    reader.send(SESSION, "A", periodic_packet(["a"], 10 * MS, MS, [[9]]))
    assert service.get_late_sample_count("Default", "key-1") == 1


@pytest.mark.parametrize("strategy", list(MergeStrategy))
def test_both_merge_strategies_give_the_same_items(strategy: MergeStrategy) -> None:
    service, reader = _service(BufferingConfiguration(None, 10, 50, strategy))
    collector = SampleCollector()
    service.set_handler(collector)
    reader.send(SESSION, "A", periodic_packet(["a", "b"], 0, 3 * MS, [[1, 2, 3, 4], [5, 6, 7, 8]]))
    reader.send(SESSION, "B", periodic_packet(["a"], MS, 3 * MS, [[9, 10]]))
    reader.send(SESSION, "B", periodic_packet(["a"], 30 * MS, MS, [[11]]))
    reader.send(SESSION, "A", periodic_packet(["b"], 31 * MS, MS, [[12]]))
    reader.complete_session(SESSION)
    flattened = [
        (s.identifier, s.start_time, [(v.timestamp, v.value.value) for v in s.values])
        for s in collector.items[1:-1]
    ]
    assert flattened == [
        ("a", 0, [(0, 1.0), (MS, 9.0), (3 * MS, 2.0), (4 * MS, 10.0)]),
        ("b", 0, [(0, 5.0), (3 * MS, 6.0)]),
        ("a", 5 * MS, [(6 * MS, 3.0), (9 * MS, 4.0)]),
        ("b", 5 * MS, [(6 * MS, 7.0), (9 * MS, 8.0)]),
        ("a", 30 * MS, [(30 * MS, 11.0)]),
        ("b", 30 * MS, [(31 * MS, 12.0)]),
    ]


def test_string_columns_are_left_out_with_a_warning_and_integers_become_floats(
    caplog: pytest.LogCaptureFixture,
) -> None:
    from streaming_fakes import envelope

    from ma_dataplatforms_streaming_support_library.protos import open_data_pb2 as pb

    service, reader = _service(BufferingConfiguration(None, 100, 100))
    samples = SampleCollector()
    service.set_handler(samples)
    columns = [
        pb.SampleColumn(
            string_samples=pb.StringSampleList(samples=[pb.StringSample(value="on", status=1)])
        ),
        pb.SampleColumn(
            int32_samples=pb.Int32SampleList(samples=[pb.Int32Sample(value=7, status=1)])
        ),
    ]
    packet = pb.PeriodicDataPacket(
        data_format=pb.SampleDataFormat(
            parameter_identifiers=pb.ParameterList(parameter_identifiers=["mode", "gear"])
        ),
        start_time=0,
        interval=MS,
        columns=columns,
    )
    with caplog.at_level(logging.WARNING):
        reader.send(SESSION, "", envelope("PeriodicData", packet))
        reader.send(SESSION, "", envelope("PeriodicData", packet))
        reader.complete_session(SESSION)
    (gear,) = samples.items[1:-1]
    assert gear.identifier == "gear"
    assert [(v.value.value, v.value_type) for v in gear.values] == [(7.0, float)]
    assert caplog.text.count("string samples of ['mode']") == 1

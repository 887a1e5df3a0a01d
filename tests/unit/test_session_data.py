"""read_session: sessions written through the official API come back as the arrays that were written."""

from __future__ import annotations

import logging
import math
from collections.abc import Iterator, Sequence
from pathlib import Path

import numpy as np
import pytest

from ma_dataplatforms_streaming_support_library.columnar import IMPL_ENVIRONMENT_VARIABLE
from ma_dataplatforms_streaming_support_library.contracts.packet_writing.packet_bytes import (
    PacketBytes,
)
from ma_dataplatforms_streaming_support_library.contracts.session_management.session_creation_info import (
    SessionCreationInfo,
)
from ma_dataplatforms_streaming_support_library.contracts.shared.stream_api_configuration import (
    StreamingApiConfiguration,
)
from ma_dataplatforms_streaming_support_library.contracts.shared.stream_creation_strategy import (
    StreamCreationStrategy,
)
from ma_dataplatforms_streaming_support_library.core.base.logger import Logger
from ma_dataplatforms_streaming_support_library.core.base.support_library_bootstrapper import (
    SupportLibraryBootstrapper,
)
from ma_dataplatforms_streaming_support_library.errors import SessionCopyError, SessionNotFoundError
from ma_dataplatforms_streaming_support_library.protos import open_data_pb2 as pb
from ma_dataplatforms_streaming_support_library.sessions import (
    SessionStore,
    collect,
    copy_session,
    list_sessions,
    read_session,
    resample_session,
)
from ma_dataplatforms_streaming_support_library.sessions.scan import plan_scan, scan_records
from ma_dataplatforms_streaming_support_library.transport import (
    BROKER_ENVIRONMENT_VARIABLE,
    open_transport,
)

VALID, MISSING, ERROR = pb.DATA_STATUS_VALID, pb.DATA_STATUS_MISSING, pb.DATA_STATUS_ERROR
T0 = 1_700_000_000_000_000_000
MS = 1_000_000
Sample = tuple[float, int]


class Writer:
    """Writes sessions through the official services (session manager, data formats, writer)."""

    def __init__(
        self,
        broker_list: str,
        strategy: StreamCreationStrategy = StreamCreationStrategy.TOPIC_BASE,
        partition_mappings: dict[str, int] | None = None,
    ) -> None:
        configuration = StreamingApiConfiguration(
            broker_list, strategy, [], 10, partition_mappings=partition_mappings
        )
        self.library = SupportLibraryBootstrapper.bootstrap(configuration, Logger()).create()
        self.library.initialise()
        self.library.start()
        self.sessions = self.library.get_session_manager_api().create_service().data
        self.formats = self.library.get_data_format_manager_api().create_service().data
        self.writer = self.library.get_writing_packet_api().create_service().data
        assert self.sessions and self.formats and self.writer
        for service in (self.sessions, self.formats, self.writer):
            service.start()

    def new_session(self, identifier: str = "test") -> str:
        created = self.sessions.create_new_session(SessionCreationInfo("Default", identifier))
        assert created.success and created.data, created.error_message
        return created.data.session_key

    def format_id(self, identifiers: Sequence[str]) -> int:
        result = self.formats.get_parameter_data_format_id("Default", list(identifiers))
        assert result.success and result.data, result.error_message
        return result.data.data_format_id

    def event_format_id(self, name: str) -> int:
        result = self.formats.get_event_data_format_id("Default", name)
        assert result.success and result.data, result.error_message
        return result.data.data_format_id

    def send(self, key: str, stream: str, packet_type: str, content: bytes) -> None:
        packet = pb.Packet(type=packet_type, session_key=key, content=content)
        result = self.writer.write_data(
            "Default", stream, key, PacketBytes(packet.SerializeToString())
        )
        assert result.success, result.error_message

    def periodic(
        self,
        key: str,
        stream: str,
        data_format: int | Sequence[str],
        start_ns: int,
        interval_ns: int,
        columns: Sequence[Sequence[Sample]],
        kind: str = "double",
    ) -> None:
        packet = pb.PeriodicDataPacket(
            data_format=_format(data_format), start_time=start_ns, interval=interval_ns
        )
        for column in columns:
            packet.columns.append(_column(pb.SampleColumn(), column, kind))
        self.send(key, stream, "PeriodicData", packet.SerializeToString())

    def end(self, key: str) -> None:
        for stream in ("", "Chassis"):
            self.send(
                key,
                stream,
                "EndOfSession",
                pb.EndOfSessionPacket(data_source="Default").SerializeToString(),
            )
        assert self.sessions.end_session("Default", key).success

    def flush(self) -> None:
        assert self.writer.flush().success

    def close(self) -> None:
        self.library.stop()


def _format(data_format: int | Sequence[str]) -> pb.SampleDataFormat:
    if isinstance(data_format, int):
        return pb.SampleDataFormat(data_format_identifier=data_format)
    return pb.SampleDataFormat(
        parameter_identifiers=pb.ParameterList(parameter_identifiers=data_format)
    )


def _column(
    target: pb.SampleColumn | pb.SampleRow, samples: Sequence[Sample], kind: str
) -> pb.SampleColumn | pb.SampleRow:
    if kind == "double":
        target.double_samples.samples.extend(pb.DoubleSample(value=v, status=s) for v, s in samples)
    elif kind == "int32":
        target.int32_samples.samples.extend(
            pb.Int32Sample(value=int(v), status=s) for v, s in samples
        )
    elif kind == "bool":
        target.bool_samples.samples.extend(
            pb.BoolSample(value=bool(v), status=s) for v, s in samples
        )
    else:
        target.string_samples.samples.extend(
            pb.StringSample(value=str(v), status=s) for v, s in samples
        )
    return target


@pytest.fixture(params=["numpy/memory", "reference/memory", "numpy/embedded"])
def broker(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> str:
    """A fresh log shared by the test's writer and readers; every test runs with the fast and
    with the reference columnar decoder in memory, and on the embedded store (read through
    its keyed reader)."""
    implementation, transport = request.param.split("/")
    monkeypatch.delenv(BROKER_ENVIRONMENT_VARIABLE, raising=False)
    monkeypatch.setenv(IMPL_ENVIRONMENT_VARIABLE, implementation)
    if transport == "embedded":
        return f"embedded:{tmp_path / 'store.db'}"
    return f"memory:{request.node.nodeid}"


@pytest.fixture
def writer(broker: str) -> Iterator[Writer]:
    opened = Writer(broker)
    try:
        yield opened
    finally:
        opened.close()


def assert_series(
    data: object, name: str, stamps: Sequence[int], samples: Sequence[Sample]
) -> None:
    series = data.parameter(name)  # type: ignore[attr-defined]
    assert series.timestamps.dtype == np.int64 and series.values.dtype == np.float64
    assert series.status.dtype == np.int8
    np.testing.assert_array_equal(series.timestamps, np.asarray(stamps, np.int64))
    np.testing.assert_array_equal(series.values, np.array([v for v, _ in samples], np.float64))
    np.testing.assert_array_equal(series.status, np.array([s for _, s in samples], np.int8))


SPEED = [(0.0, VALID), (math.nan, MISSING), (1.5, VALID), (-2.25, ERROR), (math.inf, VALID)]
RPM = [(12000.0, VALID), (0.0, MISSING), (0.0, VALID), (1e-300, VALID), (-0.0, VALID)]


def test_periodic_on_two_streams_round_trips_values_and_statuses(
    writer: Writer, broker: str
) -> None:
    key = writer.new_session("two streams")
    chassis = writer.format_id(["vCar:Chassis", "nEngine:Chassis"])
    writer.periodic(key, "Chassis", chassis, T0, 10 * MS, [SPEED, RPM])
    writer.periodic(key, "Chassis", chassis, T0 + 50 * MS, 10 * MS, [SPEED[:2], RPM[:2]])
    writer.periodic(key, "", ["gLat:Main"], T0 + 1, MS, [[(0.5, VALID), (0.25, VALID)]])
    writer.end(key)

    writer.flush()
    data = read_session(key, broker)

    assert data.complete and data.session_info.identifier == "two streams"
    assert data.parameters == ["gLat:Main", "nEngine:Chassis", "vCar:Chassis"]
    stamps = [T0 + i * 10 * MS for i in range(7)]
    assert_series(data, "vCar:Chassis", stamps, SPEED + SPEED[:2])
    assert_series(data, "nEngine:Chassis", stamps, RPM + RPM[:2])
    assert_series(data, "gLat:Main", [T0 + 1, T0 + 1 + MS], [(0.5, VALID), (0.25, VALID)])
    assert data.streams_of_parameters["vCar:Chassis"] == ["Chassis"]
    assert data.packet_counts["PeriodicData"] == 3 and data.packet_counts["EndOfSession"] == 2
    assert data.stream_packet_counts == {"Chassis": 3, "": 2}
    assert data.sample_count == 7 + 7 + 2 and not data.corrupt_records
    with pytest.raises(ValueError, match="read-only"):
        data.parameter("vCar:Chassis").timestamps[0] = 0


def test_row_and_synchro_data_with_int_and_bool_columns(writer: Writer, broker: str) -> None:
    key = writer.new_session()
    row_format = writer.format_id(["a:Row", "b:Row"])
    rows = pb.RowDataPacket(data_format=_format(row_format), timestamps=[T0, T0 + 7, T0 + 9])
    for a, b in [(1.0, 0.0), (math.nan, 2.0), (0.0, -3.5)]:
        rows.rows.append(_column(pb.SampleRow(), [(a, VALID), (b, MISSING)], "double"))
    writer.send(key, "", "RowData", rows.SerializeToString())
    synchro = pb.SynchroDataPacket(
        data_format=_format(["gear:Sync", "drs:Sync"]), start_time=T0, intervals=[5, 20]
    )
    synchro.columns.append(
        _column(pb.SampleColumn(), [(3, VALID), (0, VALID), (-1, ERROR)], "int32")
    )
    synchro.columns.append(
        _column(pb.SampleColumn(), [(1, VALID), (0, VALID), (1, MISSING)], "bool")
    )
    writer.send(key, "Chassis", "SynchroData", synchro.SerializeToString())

    writer.flush()
    data = read_session(key, broker)

    assert not data.complete  # never ended
    stamps = [T0, T0 + 7, T0 + 9]
    assert_series(data, "a:Row", stamps, [(1.0, VALID), (math.nan, VALID), (0.0, VALID)])
    assert_series(data, "b:Row", stamps, [(0.0, MISSING), (2.0, MISSING), (-3.5, MISSING)])
    assert_series(data, "gear:Sync", [T0, T0 + 5, T0 + 25], [(3, VALID), (0, VALID), (-1, ERROR)])
    assert_series(data, "drs:Sync", [T0, T0 + 5, T0 + 25], [(1, VALID), (0, VALID), (1, MISSING)])


def test_out_of_order_packets_and_a_parameter_on_two_streams_come_back_in_time_order(
    writer: Writer, broker: str
) -> None:
    key = writer.new_session()
    writer.periodic(key, "", ["x:P"], T0 + 100, 10, [[(3.0, VALID), (4.0, VALID)]])
    writer.periodic(key, "", ["x:P"], T0, 10, [[(1.0, VALID), (2.0, VALID)]])
    writer.periodic(key, "Chassis", ["x:P"], T0 + 50, 10, [[(2.5, ERROR)]])

    writer.flush()
    data = read_session(key, broker)

    assert_series(data, "x:P", [T0, T0 + 10, T0 + 50, T0 + 100, T0 + 110],
                  [(1.0, VALID), (2.0, VALID), (2.5, ERROR), (3.0, VALID), (4.0, VALID)])  # fmt: skip
    assert data.streams_of_parameters["x:P"] == ["", "Chassis"]


def test_streams_filter_reads_only_the_streams_listed(writer: Writer, broker: str) -> None:
    key = writer.new_session()
    writer.periodic(key, "", ["main:P"], T0, 10, [[(1.0, VALID)]])
    writer.periodic(key, "Chassis", ["chassis:P"], T0, 10, [[(2.0, VALID)]])
    writer.flush()

    assert read_session(key, broker, streams=["Chassis"]).parameters == ["chassis:P"]
    assert read_session(key, broker, streams=[""]).parameters == ["main:P"]
    assert read_session(key, broker).parameters == ["chassis:P", "main:P"]


def test_markers_and_events_with_resolved_event_formats(writer: Writer, broker: str) -> None:
    key = writer.new_session()
    lap = pb.MarkerPacket(
        timestamp=T0 + 5, label="Lap 1", type="Lap Trigger", description="d", value=1
    )
    writer.send(key, "", "Marker", lap.SerializeToString())
    writer.send(
        key, "", "Marker", pb.MarkerPacket(timestamp=T0, label="Out Lap").SerializeToString()
    )
    event_id = writer.event_format_id("Overheat")
    by_id = pb.EventPacket(
        data_format=pb.EventDataFormat(data_format_identifier=event_id),
        timestamp=T0 + 3,
        raw_values=[1.0, 2.0],
    )
    by_name = pb.EventPacket(
        data_format=pb.EventDataFormat(event_identifier="Flag"), timestamp=T0 + 1
    )
    writer.send(key, "Chassis", "Event", by_id.SerializeToString())
    writer.send(key, "", "Event", by_name.SerializeToString())

    writer.flush()
    data = read_session(key, broker)

    assert [(m.label, m.timestamp_ns) for m in data.markers] == [("Out Lap", T0), ("Lap 1", T0 + 5)]
    assert data.markers[1].type == "Lap Trigger" and data.markers[1].value == 1
    assert [(e.identifier, e.timestamp_ns, e.raw_values, e.stream) for e in data.events] == [
        ("Flag", T0 + 1, (), ""),
        ("Overheat", T0 + 3, (1.0, 2.0), "Chassis"),
    ]
    assert data.events[1].data_format_id == event_id


def test_unknown_data_format_id_is_reported_not_fatal(
    writer: Writer, broker: str, caplog: pytest.LogCaptureFixture
) -> None:
    key = writer.new_session()
    writer.periodic(key, "", 424242, T0, 10, [[(1.0, VALID)]])
    writer.periodic(key, "", 424242, T0 + 10, 10, [[(1.0, VALID)]])
    writer.periodic(key, "", ["ok:P"], T0, 10, [[(7.0, VALID)]])

    with caplog.at_level(logging.WARNING):
        writer.flush()
    data = read_session(key, broker)

    assert data.unresolved_formats == {424242: 2}
    assert data.parameters == ["ok:P"]
    assert "424242" in caplog.text


def test_corrupt_records_are_counted_with_their_position(writer: Writer, broker: str) -> None:
    key = writer.new_session()
    writer.periodic(key, "", ["ok:P"], T0, 10, [[(7.0, VALID)]])
    writer.send(key, "", "PeriodicData", b"\x22\xff\xff\xff")  # a column longer than the packet
    writer.flush()
    transport = open_transport(broker)
    try:
        transport.produce("Default", 0, key.encode(), b"\xff\x00 not a packet")
        transport.flush(10)
    finally:
        transport.close()

    writer.flush()
    data = read_session(key, broker)

    assert data.parameters == ["ok:P"]
    assert len(data.corrupt_records) == 2
    assert {(c.topic, c.partition) for c in data.corrupt_records} == {("Default", 0)}
    assert [c.offset for c in data.corrupt_records] == [1, 2]
    assert any("not an Open Data Packet" in c.reason for c in data.corrupt_records)


def test_many_corrupt_records_cost_a_linear_number_of_decodes(
    writer: Writer, broker: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    key = writer.new_session()
    for index in range(50):
        writer.periodic(key, "", ["ok:P"], T0 + index * 10, 1, [[(float(index), VALID)]])
    writer.flush()
    transport = open_transport(broker)
    try:
        for index in range(2_000):
            transport.produce("Default", 0, key.encode(), b"\xff\x00 garbage %d" % index)
        transport.flush(10)
    finally:
        transport.close()
    calls = []
    real = collect.read_envelopes

    def counting(batch: object) -> object:
        calls.append(1)
        return real(batch)  # type: ignore[arg-type]

    monkeypatch.setattr(collect, "read_envelopes", counting)
    data = read_session(key, broker)

    assert len(data.corrupt_records) == 2_000
    assert len(data.parameter("ok:P")) == 50
    assert all("not an Open Data Packet" in c.reason for c in data.corrupt_records)
    assert len(calls) <= 20  # a few per chunk, not one per corrupt record


def test_a_live_session_reads_up_to_now_and_again_later(writer: Writer, broker: str) -> None:
    key = writer.new_session()
    writer.periodic(key, "", ["x:P"], T0, 10, [[(1.0, VALID)]])
    writer.flush()
    first = read_session(key, broker)
    writer.periodic(key, "", ["x:P"], T0 + 10, 10, [[(2.0, VALID)]])
    writer.end(key)
    second = read_session(key, broker)

    assert not first.complete and len(first.parameter("x:P")) == 1
    assert second.complete and len(second.parameter("x:P")) == 2


def test_string_samples_read_as_nan_and_are_counted(writer: Writer, broker: str) -> None:
    key = writer.new_session()
    writer.periodic(key, "", ["s:P"], T0, 10, [[("on", VALID), ("off", MISSING)]], kind="string")
    writer.flush()
    data = read_session(key, broker)
    assert data.string_samples == 2
    series = data.parameter("s:P")
    assert np.isnan(series.values).all() and series.status.tolist() == [VALID, MISSING]


def test_unknown_session_and_parameter_errors_name_what_is_missing(
    writer: Writer, broker: str
) -> None:
    key = writer.new_session()
    writer.periodic(key, "", ["vCar:Chassis"], T0, 10, [[(1.0, VALID)]])
    with pytest.raises(SessionNotFoundError, match="not-a-session"):
        read_session("not-a-session", broker)
    with pytest.raises(SessionNotFoundError, match="data source 'Other'"):
        read_session(key, broker, data_source="Other")
    with pytest.raises(KeyError, match="did you mean vCar:Chassis"):
        read_session(key, broker).parameter("vcar")


def test_a_session_is_scanned_in_chunks_bounded_in_bytes(writer: Writer, broker: str) -> None:
    key = writer.new_session()
    other = writer.new_session("interleaved")
    for i in range(40):
        samples = [(float(j), VALID) for j in range(1 + i % 7 * 20)]  # sizes from 30 B to 1.3 kB
        writer.periodic(key, "", ["x:P"], T0 + i * 1_000, 1, [samples])
        writer.periodic(other, "", ["x:P"], T0, 1, [[(1.0, VALID)]])
    writer.periodic(key, "", ["x:P"], T0 + 40_000, 1, [[(1.0, VALID)] * 300])  # above the bound
    writer.flush()
    context = writer.library.context
    assert context is not None
    context.sessions.catch_up()
    record = context.sessions.get(key)
    assert record is not None
    scan = plan_scan(context.transport, record, None, {})

    chunks = list(scan_records(context.transport, scan, 10, batch_bytes=2_000))

    sizes = [chunk.packets.ends - chunk.packets.starts for chunk in chunks]
    assert len(chunks) > 10
    assert all(int(size.sum()) <= 2_000 or size.size == 1 for size in sizes)
    assert any(int(size.sum()) > 2_000 for size in sizes)
    assert sum(chunk.scanned for chunk in chunks) == scan.total_records
    offsets = [offset for chunk in chunks for _, _, offset in chunk.origins]
    assert len(offsets) == 41 and offsets == sorted(offsets)
    data = read_session(key, broker)
    assert len(data.parameter("x:P")) == sum(1 + i % 7 * 20 for i in range(40)) + 300


def test_long_form_exports_match_the_arrays(writer: Writer, broker: str, tmp_path: Path) -> None:
    import pyarrow.csv as pacsv
    import pyarrow.parquet as pq

    key = writer.new_session()
    writer.periodic(key, "", ["b:P", "a:P"], T0, 10, [SPEED, RPM])
    writer.flush()
    data = read_session(key, broker)

    frame = data.to_pandas()
    assert list(frame.columns) == ["timestamp", "parameter", "value", "status", "session_time"]
    assert len(frame) == 10 and list(frame["parameter"].cat.categories) == ["a:P", "b:P"]
    assert str(frame["timestamp"].dtype) == "datetime64[ns, UTC]"
    b_rows = frame[frame["parameter"] == "b:P"]
    np.testing.assert_array_equal(b_rows["value"].to_numpy(), [v for v, _ in SPEED])
    assert b_rows["timestamp"].iloc[1].value == T0 + 10

    assert data.to_parquet(tmp_path / "s.parquet") == 10
    table = pq.read_table(tmp_path / "s.parquet")
    assert table.num_rows == 10 and table.column_names == [
        "timestamp",
        "parameter",
        "value",
        "status",
        "units",
    ]
    assert table.column("status").to_pylist()[:5] == [s for _, s in RPM]

    assert data.to_csv(tmp_path / "s.csv") == 10
    csv = pacsv.read_csv(tmp_path / "s.csv")
    assert csv.num_rows == 10 and csv.column("parameter").to_pylist()[0] == "a:P"


def test_partition_based_layout_names_streams_from_the_mappings(broker: str) -> None:
    writer = Writer(broker, StreamCreationStrategy.PARTITION_BASE, {"Chassis": 1})
    try:
        key = writer.new_session()
        writer.periodic(key, "", ["main:P"], T0, 10, [[(1.0, VALID)]])
        writer.periodic(key, "Chassis", ["chassis:P"], T0, 10, [[(2.0, VALID), (3.0, VALID)]])
        writer.end(key)
    finally:
        writer.close()

    named = read_session(key, broker, partition_mappings={"Chassis": 1})
    unnamed = read_session(key, broker)

    assert named.streams_of_parameters == {"chassis:P": ["Chassis"], "main:P": [""]}
    assert named.stream_packet_counts == {"": 2, "Chassis": 2}
    assert read_session(
        key, broker, streams=["Chassis"], partition_mappings={"Chassis": 1}
    ).parameters == ["chassis:P"]
    assert unnamed.parameters == named.parameters  # every partition is read either way
    assert_series(unnamed, "chassis:P", [T0, T0 + 10], [(2.0, VALID), (3.0, VALID)])


def test_a_session_without_samples_exports_empty_tables(
    writer: Writer, broker: str, tmp_path: Path
) -> None:
    import pyarrow.parquet as pq

    key = writer.new_session()
    writer.end(key)
    data = read_session(key, broker)
    assert data.complete and data.parameters == [] and data.time_range_ns is None
    assert data.packet_counts == {"EndOfSession": 2}
    assert len(data.to_pandas()) == 0
    assert data.to_parquet(tmp_path / "empty.parquet") == 0
    assert pq.read_table(tmp_path / "empty.parquet").num_rows == 0


def test_list_sessions_gives_lifecycle_times_and_exact_packet_counts(
    writer: Writer, broker: str
) -> None:
    ended = writer.new_session("ended one")
    writer.periodic(ended, "Chassis", ["vCar:Chassis"], T0, MS, [SPEED])
    writer.end(ended)
    live = writer.new_session("live one")
    writer.periodic(live, "", ["gLat:Main"], T0, MS, [[(0.5, VALID)]] * 1)
    writer.flush()

    summaries = list_sessions(broker, count_packets=True)

    by_key = {s.session_key: s for s in summaries}
    assert [s.session_key for s in summaries] == [ended, live]  # oldest first
    assert not by_key[ended].is_live and by_key[ended].ended_ms is not None
    assert by_key[live].is_live and by_key[live].ended_ms is None
    assert by_key[ended].started_ms is not None and by_key[ended].info.identifier == "ended one"
    assert by_key[ended].packets == 3  # PeriodicData + two EndOfSession
    assert by_key[live].packets == 1
    assert all(s.record_span >= (s.packets or 0) for s in summaries)
    assert list_sessions(broker)[0].packets is None
    assert list_sessions(broker, data_source="Other") == []


def test_a_session_store_serves_reads_listing_resampling_and_copies(
    writer: Writer, broker: str, tmp_path: Path
) -> None:
    key = writer.new_session("store")
    speeds = [(float(i), VALID) for i in range(20)]
    writer.periodic(key, "Chassis", ["vCar:Chassis"], T0, 10 * MS, [speeds])
    writer.end(key)
    writer.flush()
    configuration = StreamingApiConfiguration(broker, StreamCreationStrategy.TOPIC_BASE, [], 5)
    target = f"embedded:{tmp_path}/copy.db"

    with SessionStore(configuration) as store:
        assert [s.session_key for s in store.list()] == [key]
        assert len(store.read(key).parameter("vCar:Chassis")) == 20
        table, late = store.resample(key, ["vCar:Chassis", "vCar:Chassis"], 10.0)
        report = copy_session(key, broker, target)

    assert late == 0
    assert set(table["parameter"].tolist()) == {0}  # de-duplicated parameters
    assert int(table["count"].sum()) == 20 and table["bucket_start_ns"].size == 2
    assert report.session_key == key and report.data_records >= 1
    copied = read_session(key, target)
    np.testing.assert_array_equal(copied.parameter("vCar:Chassis").values, np.arange(20.0))
    with pytest.raises(SessionCopyError, match="already"):
        copy_session(key, broker, target)
    with pytest.raises(SessionNotFoundError, match="not found"):
        resample_session("00000000-0000-4000-8000-000000000000", ["vCar:Chassis"], 10.0, broker)

"""The session writer (sessions/write.py) against read_session and the official reader, on both stores."""

from __future__ import annotations

import math
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from ma_dataplatforms_streaming_support_library import (
    Parameter,
    list_sessions,
    open_session_writer,
    read_session,
    write_session,
)
from ma_dataplatforms_streaming_support_library.errors import ConfigurationError
from ma_dataplatforms_streaming_support_library.protos import open_data_pb2 as pb
from ma_dataplatforms_streaming_support_library.sessions.parameters import configuration_packets
from ma_dataplatforms_streaming_support_library.transport.embedded import EmbeddedTransport

ROOT = Path(__file__).resolve().parents[2]
T0 = 1_700_000_000_000_000_000
MS = 1_000_000
VALID, MISSING, ERROR = 1, 2, 3
SPECIAL = np.array([0.0, -0.0, math.nan, math.inf, -math.inf, 1e-300, -2.5, 1e300])


def test_periodic_doubles_with_every_status_and_special_values_round_trip(
    broker_list: str, data_source: str
) -> None:
    values = np.stack([SPECIAL, SPECIAL[::-1]])
    status = np.array([[VALID, MISSING, ERROR, VALID, VALID, 0, VALID, ERROR]] * 2)
    with open_session_writer(broker_list, data_source=data_source, identifier="doubles") as w:
        w.write_periodic(["a:App", "b:App"], T0, 5 * MS, values, status)

    data = read_session(w.session_key, broker_list)
    stamps = T0 + np.arange(8) * 5 * MS
    for row, name in enumerate(["a:App", "b:App"]):
        series = data.parameter(name)
        np.testing.assert_array_equal(series.timestamps, stamps)
        np.testing.assert_array_equal(series.values, values[row])
        np.testing.assert_array_equal(np.signbit(series.values), np.signbit(values[row]))
        np.testing.assert_array_equal(series.status, status[row])
    assert data.complete and data.session_info.identifier == "doubles"


def test_int_bool_and_string_columns_round_trip(broker_list: str, data_source: str) -> None:
    with open_session_writer(broker_list, data_source=data_source) as w:
        w.write_periodic("gear:Car", T0, MS, np.array([-2_147_483_648, 0, 7, 2_147_483_647]))
        w.write_periodic("drs:Car", T0, MS, np.array([True, False, True]))
        w.write_periodic("mode:Car", T0, MS, np.array(["race", "pit"]), status=MISSING)

    data = read_session(w.session_key, broker_list)
    np.testing.assert_array_equal(
        data.parameter("gear:Car").values, [-2_147_483_648, 0, 7, 2_147_483_647]
    )
    np.testing.assert_array_equal(data.parameter("drs:Car").values, [1.0, 0.0, 1.0])
    assert np.isnan(data.parameter("mode:Car").values).all()
    np.testing.assert_array_equal(data.parameter("mode:Car").status, [MISSING, MISSING])
    assert data.string_samples == 2


def test_rows_frames_markers_events_and_details(broker_list: str, data_source: str) -> None:
    stamps = T0 + np.array([0, 3, 7, 20]) * MS
    lat = np.array([0.1, math.nan, math.inf, -0.0])
    wide = pd.DataFrame(
        {"rpm:Engine": [10000.0, 10100.0, 10200.0]},
        index=pd.to_datetime(T0 + np.arange(3) * 2 * MS, utc=True),
    )
    long = pd.DataFrame(
        {
            "timestamp": T0 + np.array([5, 1]) * MS,
            "parameter": ["oil:Engine", "oil:Engine"],
            "value": [90.5, 89.0],
            "status": [VALID, ERROR],
        }
    )
    with open_session_writer(broker_list, data_source=data_source) as w:
        w.write_rows(stamps, {"gLat:Chassis": lat, "gLong:Chassis": -lat})
        w.write_frame(wide)
        w.write_frame(long)
        w.marker("Lap 2", T0 + 10 * MS, type="Lap Trigger", value=2)
        w.event("Pit Entry", T0 + 11 * MS, values=[1.0, 42.0])
        w.details({"Driver": "A. Driver"})

    data = read_session(w.session_key, broker_list)
    np.testing.assert_array_equal(data.parameter("gLat:Chassis").timestamps, stamps)
    np.testing.assert_array_equal(data.parameter("gLat:Chassis").values, lat)
    np.testing.assert_array_equal(data.parameter("gLong:Chassis").values, -lat)
    np.testing.assert_array_equal(data.parameter("rpm:Engine").values, wide["rpm:Engine"])
    assert data.packet_counts["PeriodicData"] == 1  # an evenly spaced wide frame is periodic
    oil = data.parameter("oil:Engine")
    np.testing.assert_array_equal(oil.timestamps, T0 + np.array([1, 5]) * MS)
    np.testing.assert_array_equal(oil.status, [ERROR, VALID])
    assert [(m.label, m.type, m.value) for m in data.markers] == [("Lap 2", "Lap Trigger", 2)]
    assert [(e.identifier, e.raw_values) for e in data.events] == [("Pit Entry", (1.0, 42.0))]
    assert data.session_info.details == {"Driver": "A. Driver"}


def test_units_and_limits_reach_the_configuration_and_the_reader(
    broker_list: str, data_source: str, tmp_path: Path
) -> None:
    speed = Parameter(
        units="km/h", frequency_hz=200, min=0, max=400, format="%5.1f", group="Chassis"
    )
    with open_session_writer(
        broker_list, data_source=data_source, parameters={"vCar:Chassis": speed}
    ) as w:
        w.write_periodic("vCar:Chassis", T0, 5 * MS, np.linspace(0, 300, 50))
        w.write_periodic("undeclared:Chassis", T0, 5 * MS, np.zeros(3))

    data = read_session(w.session_key, broker_list)
    assert data.parameter("vCar:Chassis").units == "km/h"
    assert data.parameter("undeclared:Chassis").units == ""
    read_back = data.parameter_definitions["vCar:Chassis"]
    assert (read_back.units, read_back.frequency_hz, read_back.min, read_back.max) == (
        "km/h",
        200.0,
        0.0,
        400.0,
    )
    assert (read_back.format, read_back.group) == ("%5.1f", "Chassis")
    assert data.packet_counts["Configuration"] == 2  # one per batch of new parameters
    path = tmp_path / "units.parquet"
    data.to_parquet(path)
    import pyarrow.parquet as pq

    metadata = pq.read_schema(path).metadata
    assert metadata[b"ma_streaming.session_key"] == w.session_key.encode()
    assert b'"vCar:Chassis": "km/h"' in metadata[b"ma_streaming.units"]


def test_a_block_that_raises_still_ends_the_session(broker_list: str, data_source: str) -> None:
    with (
        pytest.raises(RuntimeError, match="boom"),
        open_session_writer(broker_list, data_source=data_source, identifier="crash") as w,
    ):
        w.write_periodic("a:App", T0, MS, np.ones(10))
        raise RuntimeError("boom")

    [summary] = [s for s in list_sessions(broker_list) if s.session_key == w.session_key]
    assert not summary.is_live
    data = read_session(w.session_key, broker_list)
    assert data.complete and len(data.parameter("a:App")) == 10
    assert data.packet_counts["EndOfSession"] == 1


def test_packets_are_split_below_the_size_limit(broker_list: str, data_source: str) -> None:
    values = np.random.default_rng(1).normal(size=(20, 5_000))
    with open_session_writer(broker_list, data_source=data_source, max_packet_bytes=64_000) as w:
        packets = w.write_periodic([f"p{i}:App" for i in range(20)], T0, MS, values)

    assert packets >= 20 * 5_000 * 11 // 64_000
    data = read_session(w.session_key, broker_list)
    np.testing.assert_array_equal(data.parameter("p7:App").values, values[7])
    np.testing.assert_array_equal(data.parameter("p7:App").timestamps, T0 + np.arange(5_000) * MS)


def test_write_session_writes_a_frame_in_one_call(broker_list: str, data_source: str) -> None:
    frame = pd.DataFrame(
        {"timestamp": T0 + np.arange(4) * MS, "x:A": [1.0, 2.0, math.nan, 4.0], "y:A": 0.5}
    )
    key = write_session(frame, broker_list, data_source=data_source, identifier="frame")
    data = read_session(key, broker_list)
    np.testing.assert_array_equal(data.parameter("x:A").values, [1.0, 2.0, 4.0])
    np.testing.assert_array_equal(data.parameter("y:A").values, [0.5] * 4)


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda w: w.write_periodic([], T0, MS, np.ones((0, 1))), "non-empty list"),
        (lambda w: w.write_periodic("a:A", T0, 0, np.ones(3)), "interval_ns"),
        (lambda w: w.write_periodic(["a:A", "b:A"], T0, MS, np.ones(3)), "do not match"),
        (lambda w: w.write_periodic("a:A", T0, MS, np.ones(3), status=7), "DataStatus codes"),
        (lambda w: w.write_periodic("a:A", T0, MS, np.array([2**40])), "int32"),
        (lambda w: w.write_rows([T0], {"a:A": [1.0, 2.0]}), "shape"),
        (lambda w: w.write_frame({"a": 1}), "DataFrame"),
    ],
)
def test_bad_arguments_name_what_is_wrong(tmp_path: Path, call: object, message: str) -> None:
    with (
        open_session_writer(f"embedded:{tmp_path}/bad.db") as w,
        pytest.raises(ConfigurationError, match=message),
    ):
        call(w)  # type: ignore[operator]


def test_bad_parameter_definitions_are_refused(tmp_path: Path) -> None:
    with pytest.raises(ConfigurationError, match="frequency_hz"):
        open_session_writer(
            f"embedded:{tmp_path}/p.db", parameters={"a:A": Parameter(frequency_hz=-1)}
        )
    with pytest.raises(ConfigurationError, match="min 5 is above max 1"):
        open_session_writer(
            f"embedded:{tmp_path}/p.db", parameters={"a:A": Parameter(min=5, max=1)}
        )


def test_a_large_configuration_is_split_into_numbered_partial_packets() -> None:
    parameters = {f"p{i}:App": Parameter(units="m", description="x" * 200) for i in range(500)}
    packets = configuration_packets("cfg", parameters, max_bytes=20_000)
    assert len(packets) > 1
    assert [p.packet_number for p in packets] == list(range(1, len(packets) + 1))
    assert all(p.partial_packet and p.total_packet_number == len(packets) for p in packets)
    assert all(p.ByteSize() <= 20_000 for p in packets)
    names = [d.identifier for p in packets for d in p.parameter_definitions]
    assert names == list(parameters)
    assert isinstance(packets[0], pb.ConfigurationPacket)


def test_the_official_reader_sample_reads_a_written_session(tmp_path: Path) -> None:
    store = f"embedded:{tmp_path}/sample.db"
    with open_session_writer(store, identifier="for the sample") as w:
        w.write_periodic("Sin:MyApp", T0, 10 * MS, np.sin(np.arange(100) / 10))
    result = subprocess.run(
        [sys.executable, str(ROOT / "examples" / "reader.py"), "--historic", "--broker", store],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert "100 samples of Sin:MyApp, 1 session(s) completed" in result.stdout


def test_declared_packet_layouts_are_registered_in_one_round_trip(
    broker_list: str, data_source: str
) -> None:
    groups = [[f"ch{c}:Car" for c in range(first, first + 5)] for first in range(0, 50, 5)]
    with open_session_writer(broker_list, data_source=data_source) as w:
        w.declare(groups)
        for index, group in enumerate(groups):
            w.write_periodic(group, T0, MS, np.full((5, 3), float(index)))

    data = read_session(w.session_key, broker_list)
    assert data.packet_counts["Configuration"] == 1  # every parameter configured at once
    assert data.packet_counts["PeriodicData"] == 10
    np.testing.assert_array_equal(data.parameter("ch42:Car").values, [8.0, 8.0, 8.0])
    formats = list_sessions(broker_list, data_source=data_source)
    assert len(formats) == 1


def test_packets_written_a_chunk_at_a_time_are_numbered_without_gaps(tmp_path: Path) -> None:
    """Doubles are encoded and stored a few megabytes at a time: the packets of one session
    still carry the ids 0, 1, 2, ... in the order written, across chunks and calls."""
    store = tmp_path / "ids.db"
    values = np.random.default_rng(2).normal(size=(100, 6_000))  # ~8 MB: more than one chunk
    with open_session_writer(f"embedded:{store}", data_source="Ids") as w:
        first = w.write_periodic(
            [f"p{i}:App" for i in range(100)], T0, MS, values, samples_per_packet=100
        )
        second = w.write_periodic("q:App", T0, MS, np.ones(10))
    transport = EmbeddedTransport(store)
    ids = []
    for topic, partitions in transport.list_topics().items():
        for partition in range(partitions):
            end = transport.end_offsets(topic).get(partition, 0)
            for record in transport.read_range(topic, partition, 0, end):
                packet = pb.Packet.FromString(record.value)
                if packet.session_key == w.session_key and topic == "Ids":
                    ids.append(packet.id)
    transport.close()
    assert first == 60 and second == 1
    assert ids == list(range(len(ids))) and len(ids) >= 62
    data = read_session(w.session_key, f"embedded:{store}")
    np.testing.assert_array_equal(data.parameter("p99:App").values, values[99])

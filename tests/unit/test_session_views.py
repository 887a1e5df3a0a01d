"""Issue 14 on the API side: notebook views of a session, stores that reading never creates, the
default store path, naming sessions, durations and the tail rate."""

from __future__ import annotations

import argparse
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from ma_dataplatforms_streaming_support_library import (
    SessionStore,
    StoreNotFoundError,
    list_sessions,
    open_session_writer,
    read_session,
)
from ma_dataplatforms_streaming_support_library.cli.common import duration_seconds
from ma_dataplatforms_streaming_support_library.cli.options import as_broker_list
from ma_dataplatforms_streaming_support_library.contracts.session_management.session_info import (
    SessionInfo,
)
from ma_dataplatforms_streaming_support_library.errors import (
    ConfigurationError,
    SessionNotFoundError,
)
from ma_dataplatforms_streaming_support_library.sessions import (
    ParameterSeries,
    SessionData,
    copy_session,
)

T0 = 1_700_000_000_000_000_000
MS = 1_000_000


def _series(
    identifier: str, start_ns: int, step_ns: int, values: list[float], units: str = ""
) -> ParameterSeries:
    stamps = start_ns + step_ns * np.arange(len(values), dtype=np.int64)
    status = np.ones(len(values), dtype=np.int8)
    return ParameterSeries(stamps, np.asarray(values, dtype=np.float64), status, units, identifier)


@pytest.fixture
def data() -> SessionData:
    speed = _series("vCar:Chassis", T0, 100 * MS, [100.0, 110.0, 120.0, 130.0], "km/h")
    gear = _series("nGear:Chassis", T0 + 50 * MS, 200 * MS, [3.0, 4.0])
    return SessionData(
        session_info=SessionInfo("0f8fad5b-d9cb-469f-a165-70867728950e", "Default", "FP1"),
        complete=True,
        location="embedded:/tmp/x.db",
        series={"vCar:Chassis": speed, "nGear:Chassis": gear},
        streams_of_parameters={},
        packet_counts={},
        stream_packet_counts={},
    )


def test_reprs_are_short_and_html_names_units(data: SessionData) -> None:
    text = repr(data)
    assert text.startswith("<SessionData 0f8fad5b") and "FP1" in text and "\n" not in text
    assert len(text) < 300
    speed = repr(data.parameter("vCar:Chassis"))
    assert speed.startswith("<vCar:Chassis [km/h]: samples 4") and "mean 115" in speed
    assert "<table>" in data._repr_html_() and "vCar:Chassis [km/h]" in data._repr_html_()
    assert "km/h" in data.parameter("vCar:Chassis")._repr_html_()


def test_to_series_has_a_datetime_index_name_and_units(data: SessionData) -> None:
    series = data.parameter("vCar:Chassis").to_series()
    assert series.name == "vCar:Chassis" and series.attrs["units"] == "km/h"
    assert str(series.index.dtype) == "datetime64[ns, UTC]"
    assert series.index[1].value == T0 + 100 * MS
    assert series.tolist() == [100.0, 110.0, 120.0, 130.0]


def test_wide_frames_outer_join_or_resample(data: SessionData) -> None:
    wide = data.to_pandas(wide=True)
    assert list(wide.columns) == ["session_time", "nGear:Chassis", "vCar:Chassis"]
    assert len(wide) == 6  # 4 speed times and 2 gear times, none shared
    assert wide.attrs["units"] == {"nGear:Chassis": "", "vCar:Chassis": "km/h"}
    assert wide["session_time"].iloc[0].value == 0
    assert np.isnan(wide["nGear:Chassis"].iloc[0]) and wide["vCar:Chassis"].iloc[0] == 100.0
    resampled = data.to_pandas(wide=True, hz=5)
    # 200 ms buckets aligned to the epoch: speed means (100,110), (120,130); gear 3, 4
    assert resampled["vCar:Chassis"].tolist() == [105.0, 125.0]
    assert resampled["nGear:Chassis"].tolist() == [3.0, 4.0]
    with pytest.raises(ConfigurationError, match="hz"):
        data.to_pandas(wide=True, hz=0)


def test_long_form_has_session_time_and_units(data: SessionData) -> None:
    frame = data.to_pandas()
    gear = frame[frame["parameter"] == "nGear:Chassis"]
    assert gear["session_time"].iloc[0].value == 50 * MS
    assert frame.attrs["units"]["vCar:Chassis"] == "km/h"


def test_reading_never_creates_a_store_and_writing_does(tmp_path: Path) -> None:
    missing = tmp_path / "nope.db"
    for attempt in (
        lambda: read_session("k", f"embedded:{missing}"),
        lambda: list_sessions(f"embedded:{missing}"),
        lambda: SessionStore(f"embedded:{missing}"),
        lambda: SessionStore(str(missing)),
    ):
        with pytest.raises(StoreNotFoundError, match=f"no store at {missing}") as caught:
            attempt()
        assert isinstance(caught.value, FileNotFoundError)
    assert list(tmp_path.iterdir()) == []
    source = f"embedded:{tmp_path / 'source.db'}"
    with open_session_writer(source, identifier="FP1 run 3") as writer:
        writer.write_periodic("vCar:Chassis", T0, MS, [1.0, 2.0])
    with pytest.raises(SessionNotFoundError):
        copy_session("nosuchkey", source, f"embedded:{tmp_path / 'new.db'}")
    assert sorted(p.name for p in tmp_path.iterdir() if p.suffix == ".db") == ["source.db"]
    copy_session(writer.session_key, source, f"embedded:{tmp_path / 'new.db'}")
    assert read_session(writer.session_key, f"embedded:{tmp_path / 'new.db'}").sample_count == 2


def test_sessions_are_named_by_prefix_identifier_or_latest(tmp_path: Path) -> None:
    broker = f"embedded:{tmp_path / 's.db'}"
    keys = []
    for identifier in ("FP1", "FP2", "FP2"):
        with open_session_writer(broker, identifier=identifier) as writer:
            writer.write_periodic("x:A", T0, MS, [1.0])
        keys.append(writer.session_key)
    with SessionStore(broker) as store:
        assert store.resolve("latest") == keys[-1]
        assert store.resolve("FP1") == keys[0]
        assert store.resolve(keys[1][:13].upper()) == keys[1]
        with pytest.raises(SessionNotFoundError, match="'FP2' names 2 sessions") as caught:
            store.resolve("FP2")
        assert keys[1] in str(caught.value) and keys[2] in str(caught.value)
        with pytest.raises(SessionNotFoundError, match="session zzz not found"):
            store.resolve("zzz")


def test_additional_properties_reach_the_configuration_and_not_beside_one() -> None:
    from ma_dataplatforms_streaming_support_library.sessions.store import as_configuration

    configuration = as_configuration("kafka1:9092", 5, {"sasl.username": "me"})
    assert configuration.additional_properties == {"sasl.username": "me"}
    with pytest.raises(ConfigurationError, match="additional_properties"):
        as_configuration(configuration, 5, ["sasl.password=x"])


def test_an_empty_xdg_data_home_keeps_the_default_store_absolute() -> None:
    code = (
        "from ma_dataplatforms_streaming_support_library.transport import default_store_path;"
        "print(default_store_path())"
    )
    for value in ("", "relative/dir"):
        env = {"XDG_DATA_HOME": value, "HOME": "/home/someone", "PATH": "/usr/bin"}
        env["PYTHONPATH"] = ":".join(sys.path)
        out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True,
                             text=True, check=True).stdout.strip()  # fmt: skip
        assert Path(out).is_absolute(), (value, out)
        assert out.endswith("ma-streaming/sessions.db")


def test_durations_and_broker_values() -> None:
    assert [duration_seconds(t) for t in ("90", "90s", "15m", "2h", "1d")] == [
        90,
        90,
        900,
        7200,
        86400,
    ]
    for bad in ("soon", "-1h", "infh"):
        with pytest.raises(argparse.ArgumentTypeError):
            duration_seconds(bad)
    assert as_broker_list("run.db") == "embedded:run.db"
    assert as_broker_list("/data/car") == "embedded:/data/car"
    assert as_broker_list("kafka1:9092,kafka2:9092") == "kafka1:9092,kafka2:9092"
    assert as_broker_list("SASL_SSL://kafka1:9093") == "SASL_SSL://kafka1:9093"
    assert as_broker_list("embedded:x.db") == "embedded:x.db"


def test_tail_rate_is_measured_over_a_sliding_second() -> None:
    from ma_dataplatforms_streaming_support_library.cli.tail import _Follower

    follower = _Follower()
    # a steady 2 packets/s, sampled every 0.5 s: always 2/s (two 0.5 s counts would give 0 or 2)
    rates = []
    for step in range(2, 8):
        now = step * 0.5
        follower.arrivals.append(now - 0.49)
        rates.append(follower.rate(now))
    assert rates[1:] == [2.0] * 5


def test_official_classes_show_their_own_doc_in_help() -> None:
    import inspect

    from ma_dataplatforms_streaming_support_library.contracts.packet_reading.i_packet_reader_service import (
        IPacketReaderService,
    )
    from ma_dataplatforms_streaming_support_library.contracts.packet_reading.packet_reading_type import (
        PacketReadingType,
    )
    from ma_dataplatforms_streaming_support_library.contracts.shared.i_support_lib_api import (
        ISupportLibApi,
    )

    for cls in (IPacketReaderService, PacketReadingType, ISupportLibApi):
        assert cls.__doc__, cls
        assert "ABC" not in inspect.getdoc(cls) and "enumeration" not in inspect.getdoc(cls)

"""read_session with parameters and a time window: the same samples as a full read, less work."""

from __future__ import annotations

import datetime as dt
import math
from collections import Counter
from collections.abc import Iterator
from typing import Any

import numpy as np
import pandas as pd
import pytest
from test_session_data import MS, T0, VALID, Writer, _column, _format

from ma_dataplatforms_streaming_support_library.columnar import (
    IMPL_ENVIRONMENT_VARIABLE,
    active_implementation,
    available_implementations,
)
from ma_dataplatforms_streaming_support_library.errors import ConfigurationError
from ma_dataplatforms_streaming_support_library.protos import open_data_pb2 as pb
from ma_dataplatforms_streaming_support_library.sessions import SessionData, collect, read_session
from ma_dataplatforms_streaming_support_library.sessions.selection import as_ns
from ma_dataplatforms_streaming_support_library.transport import BROKER_ENVIRONMENT_VARIABLE

PARAMETERS = [f"p{i}:Sel" for i in range(10)]
PACKETS = 12  # per parameter
POINTS = 5  # samples per packet
INTERVAL = 2 * MS
SPAN = POINTS * INTERVAL  # one packet's time


@pytest.fixture(params=available_implementations())
def broker(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> str:
    monkeypatch.delenv(BROKER_ENVIRONMENT_VARIABLE, raising=False)
    monkeypatch.setenv(IMPL_ENVIRONMENT_VARIABLE, request.param)
    return f"memory:{request.node.nodeid}"


@pytest.fixture
def session(broker: str) -> Iterator[str]:
    """Ten parameters, each in a data format of its own, in interleaved periodic packets; two
    more in row and synchro packets of explicit lists on another stream; markers and events."""
    writer = Writer(broker)
    try:
        key = writer.new_session("selection")
        ids = [writer.format_id([p]) for p in PARAMETERS]
        for k in range(PACKETS):
            for i, data_format in enumerate(ids):
                column = [(float(100 * i + POINTS * k + j), VALID) for j in range(POINTS)]
                writer.periodic(key, "", data_format, T0 + k * SPAN, INTERVAL, [column])
            rows = pb.RowDataPacket(
                data_format=_format(["r:Sel"]), timestamps=[T0 + k * SPAN + 3, T0 + k * SPAN + 1]
            )
            for value in (k, -k):
                rows.rows.append(_column(pb.SampleRow(), [(value, VALID)], "double"))
            writer.send(key, "Chassis", "RowData", rows.SerializeToString())
            synchro = pb.SynchroDataPacket(
                data_format=_format(["s:Sel", "p0:Sel"]), start_time=T0 + k * SPAN, intervals=[7]
            )
            for _ in range(2):
                synchro.columns.append(
                    _column(pb.SampleColumn(), [(k, VALID), (0.5, VALID)], "double")
                )
            writer.send(key, "Chassis", "SynchroData", synchro.SerializeToString())
            marker = pb.MarkerPacket(timestamp=T0 + k * SPAN + 1, label=f"m{k}")
            writer.send(key, "", "Marker", marker.SerializeToString())
            event = pb.EventPacket(
                data_format=pb.EventDataFormat(event_identifier="E"), timestamp=T0 + k * SPAN
            )
            writer.send(key, "", "Event", event.SerializeToString())
        writer.end(key)
        writer.flush()
        yield key
    finally:
        writer.close()


@pytest.fixture
def decoded(monkeypatch: pytest.MonkeyPatch) -> Counter[str]:
    """Packets handed to the sample decoders, by packet type (the real decoders still run)."""
    counts: Counter[str] = Counter()

    def counting(packet_type: str, decode: Any) -> Any:
        def run(contents: Any, **kwargs: Any) -> Any:
            counts[packet_type] += len(contents)
            return decode(contents, **kwargs)

        return run

    spies = {name: counting(name, decode) for name, decode in collect._DECODERS.items()}
    monkeypatch.setattr(collect, "_DECODERS", spies)
    return counts


def _expected(
    full: SessionData, names: list[str], start: int | None, end: int | None
) -> dict[str, Any]:
    out = {}
    for name in names:
        series = full.series[name]
        keep = np.ones(len(series), bool)
        if start is not None:
            keep &= series.timestamps >= start
        if end is not None:
            keep &= series.timestamps < end
        if keep.any():
            out[name] = (series.timestamps[keep], series.values[keep], series.status[keep])
    return out


@pytest.mark.parametrize(
    ("names", "start", "end"),
    [
        (["p3:Sel"], None, None),
        (["p0:Sel", "r:Sel"], None, None),
        (None, T0 + 3 * SPAN + 3 * INTERVAL, T0 + 7 * SPAN + 1),
        (["p0:Sel", "s:Sel", "p9:Sel"], T0 + 2 * SPAN, T0 + 5 * SPAN),
        (["r:Sel"], T0 + 2 * SPAN + 2, None),
        (["p1:Sel"], None, T0 + 1),
        (["p1:Sel"], T0 + 100 * SPAN, None),
    ],
)
def test_a_selection_reads_the_samples_a_full_read_has_there(
    session: str, broker: str, names: list[str] | None, start: int | None, end: int | None
) -> None:
    full = read_session(session, broker)
    part = read_session(session, broker, parameters=names, start=start, end=end)

    expected = _expected(full, names or full.parameters, start, end)
    assert part.parameters == sorted(expected)
    for name, (stamps, values, status) in expected.items():
        np.testing.assert_array_equal(part.series[name].timestamps, stamps)
        np.testing.assert_array_equal(part.series[name].values, values)
        np.testing.assert_array_equal(part.series[name].status, status)
        assert part.streams_of_parameters[name] == full.streams_of_parameters[name]
    low, high = start or -math.inf, end or math.inf
    assert part.markers == [m for m in full.markers if low <= m.timestamp_ns < high]
    assert part.events == [e for e in full.events if low <= e.timestamp_ns < high]
    assert part.packet_counts == full.packet_counts and not part.corrupt_records


def test_one_parameter_of_ten_decodes_only_its_packets(
    session: str, broker: str, decoded: Counter[str]
) -> None:
    read_session(session, broker)
    assert decoded == {"PeriodicData": 10 * PACKETS, "RowData": PACKETS, "SynchroData": PACKETS}

    decoded.clear()
    data = read_session(session, broker, parameters=["p3:Sel"])
    assert decoded == {"PeriodicData": PACKETS}
    assert data.parameters == ["p3:Sel"] and len(data.series["p3:Sel"]) == PACKETS * POINTS

    decoded.clear()
    read_session(session, broker, parameters=["p0:Sel"])  # in its own packets and the synchro
    assert decoded == {"PeriodicData": PACKETS, "SynchroData": PACKETS}


def test_a_window_decodes_only_the_packets_that_overlap_it(
    session: str, broker: str, decoded: Counter[str]
) -> None:
    # Packets 4 and 5 of each parameter; the row packets there start 1 ns after their period.
    data = read_session(session, broker, start=T0 + 4 * SPAN, end=T0 + 6 * SPAN)
    assert decoded["RowData"] == 2 and decoded["SynchroData"] == 2
    if active_implementation() == "native":
        assert decoded["PeriodicData"] == 10 * 2
    else:  # the vectorised peek bounds a periodic packet's end from its bytes: a few more
        assert 10 * 2 <= decoded["PeriodicData"] <= 10 * 2 * 4
    assert {len(s) for n, s in data.series.items() if n.startswith("p") and n != "p0:Sel"} == {
        2 * POINTS
    }


def test_datetimes_and_datetime64_bound_a_window_as_ns_do(session: str, broker: str) -> None:
    start_ns, end_ns = T0 + 3 * SPAN + 1_000, T0 + 4 * SPAN + 7
    naive = dt.datetime(1970, 1, 1) + dt.timedelta(microseconds=start_ns // 1_000)
    assert as_ns(naive, "start") == as_ns(naive.replace(tzinfo=dt.timezone.utc), "start")
    assert as_ns(naive, "start") == start_ns
    assert as_ns(pd.Timestamp(end_ns, tz="UTC"), "end") == end_ns  # keeps its nanoseconds
    assert as_ns(np.datetime64(end_ns, "ns"), "end") == end_ns
    by_ns = read_session(session, broker, parameters=["p2:Sel"], start=start_ns, end=end_ns)
    by_time = read_session(
        session, broker, parameters=["p2:Sel"], start=naive, end=np.datetime64(end_ns, "ns")
    )
    stamps = by_ns.series["p2:Sel"].timestamps
    assert stamps[0] == T0 + 3 * SPAN + INTERVAL and stamps[-1] == T0 + 4 * SPAN
    np.testing.assert_array_equal(stamps, by_time.series["p2:Sel"].timestamps)


def test_an_unknown_parameter_is_a_key_error_naming_close_ones(session: str, broker: str) -> None:
    with pytest.raises(KeyError, match=r"'p3:Se'.*did you mean p3:Sel"):
        read_session(session, broker, parameters=["p3:Se", "p4:Sel"])
    # Known but without samples in the window: simply absent.
    assert read_session(session, broker, parameters=["p4:Sel"], end=T0).series == {}


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        ({"parameters": []}, "at least one"),
        ({"parameters": "p1:Sel"}, "not one string"),
        ({"start": T0, "end": T0}, "must be after start"),
        ({"start": "yesterday"}, "start must be int ns"),
        ({"end": True}, "end must be int ns"),
    ],
)
def test_bad_selections_are_configuration_errors(
    session: str, broker: str, arguments: dict[str, Any], message: str
) -> None:
    with pytest.raises(ConfigurationError, match=message):
        read_session(session, broker, **arguments)

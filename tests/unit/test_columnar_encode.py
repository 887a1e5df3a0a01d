"""Encoders and envelopes: byte-identical to protobuf, and round trips through the decoders."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from ma_dataplatforms_streaming_support_library.columnar import (
    IMPL_ENVIRONMENT_VARIABLE,
    DecodeStats,
    PacketDecodeError,
    available_implementations,
    decode_events,
    decode_markers,
    decode_periodic,
    decode_periodic_batch,
    encode_periodic,
    encode_periodic_batch,
    encode_periodic_packets,
    read_envelopes,
    wrap_packets,
)
from ma_dataplatforms_streaming_support_library.protos import open_data_pb2 as pb

SPECIAL = [0.0, -0.0, math.nan, math.inf, -math.inf, 5e-324, 1.5]
SETTINGS = settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def _protobuf_periodic(
    values: np.ndarray, status: np.ndarray, start: int, interval: int, fmt: object
) -> bytes:
    msg = pb.PeriodicDataPacket(start_time=start, interval=interval)
    if isinstance(fmt, int):
        msg.data_format.data_format_identifier = fmt
    else:
        msg.data_format.parameter_identifiers.SetInParent()
        msg.data_format.parameter_identifiers.parameter_identifiers.extend(fmt)  # type: ignore[arg-type]
    for c in range(values.shape[0]):
        column = msg.columns.add().double_samples
        column.SetInParent()
        for v, s in zip(values[c].tolist(), status[c].tolist(), strict=True):
            column.samples.add(value=v, status=s)
    return msg.SerializeToString()


@st.composite
def periodic_arrays(
    draw: st.DrawFn,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, object]:
    shape = (draw(st.integers(0, 4)), draw(st.integers(0, 3)), draw(st.integers(0, 12)))
    element = st.one_of(st.sampled_from(SPECIAL), st.floats(allow_nan=True, width=64))
    values = draw(hnp.arrays(np.float64, shape, elements=element))
    status = draw(hnp.arrays(np.uint8, shape, elements=st.integers(0, 127)))
    starts = draw(hnp.arrays(np.uint64, shape[0], elements=st.integers(0, 2**64 - 1)))
    intervals = draw(hnp.arrays(np.int64, shape[0], elements=st.integers(0, 2**32 - 1)))
    fmt = draw(st.one_of(st.integers(0, 2**64 - 1), st.lists(st.text(max_size=4), max_size=3)))
    return values, status, starts, intervals, fmt


@SETTINGS
@given(periodic_arrays())
def test_encode_periodic_batch_is_byte_identical_to_protobuf(case: tuple) -> None:  # type: ignore[type-arg]
    values, status, starts, intervals, fmt = case
    got = encode_periodic_batch(
        values, status, start_times_ns=starts, interval_ns=intervals, data_format=fmt
    )
    assert len(got) == values.shape[0]
    for p, raw in enumerate(got):
        want = _protobuf_periodic(values[p], status[p], int(starts[p]), int(intervals[p]), fmt)
        assert raw == want


@SETTINGS
@given(periodic_arrays())
def test_encode_then_decode_round_trips(case: tuple) -> None:  # type: ignore[type-arg]
    values, status, starts, intervals, fmt = case
    starts = starts >> np.uint64(2)  # keep the time axis inside int64
    raws = encode_periodic_batch(
        values, status, start_times_ns=starts, interval_ns=intervals, data_format=fmt
    )
    stats = DecodeStats()
    decoded = decode_periodic(raws, stats=stats)
    assert stats.fallback_packets == 0
    for p, packet in enumerate(decoded):
        cols, n = values.shape[1], values.shape[2]
        assert packet.values.shape == ((cols, n) if cols else (0, 0))
        assert np.array_equal(
            packet.values.view(np.uint64), values[p].view(np.uint64).reshape(packet.values.shape)
        )
        assert np.array_equal(packet.status, status[p].reshape(packet.status.shape))
        assert packet.data_format == (fmt if isinstance(fmt, int) else tuple(fmt))


def test_documented_vectors() -> None:
    content = encode_periodic(
        [[1.5, 0.0]],
        [[1, 2]],
        start_time_ns=1700000000000000000,
        interval_ns=10000000,
        data_format=5,
    )
    assert content.hex().upper() == (
        "0A0208051100002A36FE9C97171880ADE20422130A110A0B09000000000000F83F10010A021002"
    )
    (packet,) = encode_periodic_packets(
        [[[1.5, 0.0]]],
        [[[1, 2]]],
        start_times_ns=1700000000000000000,
        interval_ns=10000000,
        data_format=5,
        session_key="k",
        first_id=1,
    )
    assert (
        packet.hex().upper()
        == "0A0C506572696F64696344617461" + "12016B2227" + content.hex().upper() + "2801"
    )


def test_encode_rejects_bad_input() -> None:
    with pytest.raises(ValueError, match="packets, columns, samples"):
        encode_periodic_batch(np.zeros((2, 3)), 1, start_times_ns=0, interval_ns=1, data_format=1)
    with pytest.raises(ValueError, match=r"0\.\.127"):
        encode_periodic(np.zeros(2), [1, 300], start_time_ns=0, interval_ns=1, data_format=1)
    with pytest.raises(ValueError, match="uint32"):
        encode_periodic(np.zeros(2), 1, start_time_ns=0, interval_ns=2**32, data_format=1)


def test_large_encode_decode_round_trip() -> None:
    rng = np.random.default_rng(11)
    values = rng.normal(size=(2000, 2, 100))
    values[rng.random(values.shape) < 0.05] = 0.0
    status = np.where(rng.random(values.shape) < 0.02, 2, 1).astype(np.uint8)
    starts = np.arange(2000, dtype=np.uint64) * 10**9
    raws = encode_periodic_packets(
        values, status, start_times_ns=starts, interval_ns=10**7, data_format=3
    )
    envelopes = read_envelopes(raws)
    assert set(envelopes.types) == {"PeriodicData"}
    (batch,) = decode_periodic_batch(envelopes.contents_of("PeriodicData"))
    assert np.array_equal(batch.values, values.transpose(1, 0, 2).reshape(2, -1))
    assert np.array_equal(batch.status, status.transpose(1, 0, 2).reshape(2, -1))


ENVELOPE = st.tuples(
    st.text(max_size=12),
    st.text(max_size=6),
    st.booleans(),
    st.binary(max_size=40),
    st.integers(0, 2**64 - 1),
)


@SETTINGS
@given(st.lists(ENVELOPE, max_size=30), st.sampled_from(["numpy", "reference"]))
def test_read_envelopes_matches_protobuf(
    fields: list[tuple[str, str, bool, bytes, int]], impl: str
) -> None:
    raws = [
        pb.Packet(type=t, session_key=k, is_essential=e, content=c, id=i).SerializeToString()
        for t, k, e, c, i in fields
    ]
    env = read_envelopes(raws, impl=impl)  # type: ignore[arg-type]
    assert list(env.types) == [f[0] for f in fields]
    assert list(env.session_keys) == [f[1] for f in fields]
    assert env.is_essential.tolist() == [f[2] for f in fields]
    assert env.ids.tolist() == [f[4] for f in fields]
    assert [env.contents.message(i) for i in range(len(env))] == [f[3] for f in fields]


@SETTINGS
@given(
    st.lists(st.binary(max_size=30), max_size=10),
    st.text(max_size=8),
    st.text(max_size=4),
    st.booleans(),
)
def test_wrap_packets_matches_protobuf(
    contents: list[bytes], type_name: str, key: str, essential: bool
) -> None:
    ids = list(range(len(contents)))
    got = wrap_packets(contents, type_name, session_key=key, is_essential=essential, ids=ids)
    want = [
        pb.Packet(
            type=type_name, session_key=key, is_essential=essential, content=c, id=i
        ).SerializeToString()
        for c, i in zip(contents, ids, strict=True)
    ]
    assert got == want


def test_read_envelopes_falls_back_and_reports_bad_packets() -> None:
    good = pb.Packet(type="Marker", content=b"\x09" + bytes(8)).SerializeToString()
    duplicated = good + pb.Packet(type="Event").SerializeToString()  # type repeated: last wins
    stats = DecodeStats()
    env = read_envelopes([good, duplicated, good], impl="numpy", stats=stats)
    assert env.types == ("Marker", "Event", "Marker")
    assert env.contents.message(1) == b"\x09" + bytes(8)
    assert env.indices_of("Marker").tolist() == [0, 2]
    assert stats.fallback_packets == 1
    with pytest.raises(PacketDecodeError, match="packet 1: not a valid Packet"):
        read_envelopes([good, good[:-2]])
    with pytest.raises(PacketDecodeError, match="packet 0"):
        read_envelopes([pb.Packet(type="x").SerializeToString()[:-1] + b"\xff"])
    many = [pb.Packet(type=f"T{i}", session_key="k").SerializeToString() for i in range(12)]
    assert read_envelopes(many).types == tuple(f"T{i}" for i in range(12))
    bad_text = pb.Packet(type="T12").SerializeToString()[:-1] + b"\xff"
    with pytest.raises(PacketDecodeError, match="packet 12: not a valid Packet"):
        read_envelopes([*many, bad_text])


def test_markers_and_events() -> None:
    documented = pb.MarkerPacket(timestamp=1, label="Out Lap", type="Lap Trigger", value=1)
    assert documented.SerializeToString().hex().upper() == (
        "0901000000000000001A074F7574204C6170220B4C617020547269676765723801"
    )
    marker = pb.MarkerPacket(timestamp=1, end_time=3, label="Out Lap", type="Lap Trigger", value=1)
    marker_bytes = marker.SerializeToString()
    markers = decode_markers([marker_bytes, b""])
    assert markers.timestamps_ns.tolist() == [1, 0]
    assert markers.end_times_ns.tolist() == [3, 0]
    assert markers.labels.tolist() == ["Out Lap", ""]
    assert markers.values.tolist() == [1, 0]
    event = pb.EventPacket(timestamp=2, raw_values=[1.0, 2.5])
    event.data_format.event_identifier = "E"
    other = pb.EventPacket(timestamp=5)
    other.data_format.data_format_identifier = 9
    events = decode_events([event.SerializeToString(), other.SerializeToString(), b""])
    assert events.data_formats == ("E", 9, None)
    assert events.timestamps_ns.tolist() == [2, 5, 0]
    assert events.raw_values(0).tolist() == [1.0, 2.5]
    assert events.raw_values(1).size == 0
    with pytest.raises(PacketDecodeError, match="packet 1: not a valid MarkerPacket"):
        decode_markers([marker_bytes, b"\x0f"])
    assert len(markers) == 2 and len(events) == 3
    with pytest.raises(PacketDecodeError, match="packet 1: not a valid EventPacket"):
        decode_events([b"", b"\x0a\x05"])
    with pytest.raises(PacketDecodeError, match="packet 0: timestamp"):
        decode_events([pb.EventPacket(timestamp=2**63).SerializeToString()])


ENCODERS = [name for name in available_implementations() if name != "reference"]


@pytest.mark.parametrize("impl", ENCODERS)
def test_strided_and_broadcast_arrays_encode_as_their_contiguous_copies(
    impl: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A transposed view of (channels, samples) and a status given once are read in place,
    and give the bytes their contiguous copies give, bare and in envelopes."""
    monkeypatch.setenv(IMPL_ENVIRONMENT_VARIABLE, impl)
    rng = np.random.default_rng(5)
    channels = rng.normal(size=(3, 40))
    channels[rng.random(channels.shape) < 0.3] = 0.0
    channels[0, :3] = [math.nan, -0.0, math.inf]
    view = channels.reshape(3, 4, 10).transpose(1, 0, 2)
    status = np.broadcast_to(np.uint8(2), view.shape)
    starts = np.arange(4, dtype=np.uint64) * 100
    common = {"start_times_ns": starts, "interval_ns": 10, "data_format": 9}
    dense = encode_periodic_batch(np.ascontiguousarray(view), np.full(view.shape, 2), **common)
    assert encode_periodic_batch(view, status, **common) == dense
    assert dense == [
        _protobuf_periodic(view[p], status[p], int(starts[p]), 10, 9) for p in range(4)
    ]
    wrapped = encode_periodic_packets(view, 2, session_key="s", first_id=7, **common)
    assert wrapped == wrap_packets(dense, "PeriodicData", session_key="s", ids=range(7, 11))
    assert encode_periodic_packets(view, 2, **common) == wrap_packets(dense, "PeriodicData")


def test_packet_ids_must_be_uint64() -> None:
    with pytest.raises(ValueError, match="uint64"):
        encode_periodic_packets(
            np.zeros((2, 1, 1)),
            1,
            start_times_ns=0,
            interval_ns=1,
            data_format=1,
            first_id=2**64 - 1,
        )

"""Decode entry points: fast and reference paths against an independent oracle and each other."""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ma_dataplatforms_streaming_support_library.columnar import (
    IMPL_ENVIRONMENT_VARIABLE,
    ColumnKind,
    ContentBatch,
    DecodeStats,
    FormatBatch,
    PacketDecodeError,
    decode_periodic,
    decode_periodic_batch,
    decode_row,
    decode_row_batch,
    decode_synchro,
    decode_synchro_batch,
)
from ma_dataplatforms_streaming_support_library.errors import StreamingError
from ma_dataplatforms_streaming_support_library.protos import open_data_pb2 as pb

IMPLS = ["numpy", "reference"]
SPECIAL = [0.0, -0.0, math.nan, -math.nan, math.inf, -math.inf, 5e-324, -5e-324, 2.2e-308, 1.0]
DOUBLES = st.one_of(st.sampled_from(SPECIAL), st.floats(allow_nan=True, width=64))
STATUS = st.one_of(st.sampled_from([0, 1, 2, 3]), st.integers(0, 127))
INT32 = st.one_of(st.sampled_from([0, -1, 2**31 - 1, -(2**31)]), st.integers(-(2**31), 2**31 - 1))
KINDS = [ColumnKind.DOUBLE] * 3 + [ColumnKind.INT32, ColumnKind.BOOL, ColumnKind.STRING]
FIELD_NAMES = {
    ColumnKind.DOUBLE: "double_samples",
    ColumnKind.INT32: "int32_samples",
    ColumnKind.BOOL: "bool_samples",
    ColumnKind.STRING: "string_samples",
}
FORMATS = st.one_of(
    st.integers(0, 2**64 - 1),
    st.lists(st.text(min_size=1, max_size=6), max_size=3).map(tuple),
    st.none(),
)
TEST_SETTINGS = settings(
    max_examples=120, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)


@dataclass
class Samples:
    """One column (or row) of generated samples."""

    kind: ColumnKind
    values: list[Any]
    status: list[int]


@st.composite
def samples(draw: st.DrawFn, n: int, kind: ColumnKind | None = None) -> Samples:
    kind = kind if kind is not None else draw(st.sampled_from(KINDS))
    element = {
        ColumnKind.DOUBLE: DOUBLES,
        ColumnKind.INT32: INT32,
        ColumnKind.BOOL: st.booleans(),
        ColumnKind.STRING: st.text(max_size=4),
    }[kind]
    values = draw(st.lists(element, min_size=n, max_size=n))
    return Samples(kind, values, draw(st.lists(STATUS, min_size=n, max_size=n)))


def _fill(target: Any, column: Samples) -> None:
    typed = getattr(target, FIELD_NAMES[column.kind])
    typed.SetInParent()
    for value, status in zip(column.values, column.status, strict=True):
        typed.samples.add(value=value, status=status)


def _set_format(msg: Any, fmt: Any) -> None:
    if isinstance(fmt, int):
        msg.data_format.data_format_identifier = fmt
    elif isinstance(fmt, tuple):
        msg.data_format.parameter_identifiers.SetInParent()
        msg.data_format.parameter_identifiers.parameter_identifiers.extend(fmt)


def _block(columns: Sequence[Samples], n: int) -> tuple[np.ndarray, np.ndarray]:
    if not columns:
        return np.zeros((0, 0)), np.zeros((0, 0), np.int8)
    text = any(c.kind == ColumnKind.STRING for c in columns)
    values = np.empty((len(columns), n), dtype=object if text else np.float64)
    for i, c in enumerate(columns):
        converted = c.values if c.kind == ColumnKind.STRING else [float(v) for v in c.values]
        values[i, :] = converted if n else []
    return values, np.array([c.status for c in columns], dtype=np.int8).reshape(len(columns), n)


@dataclass
class Expected:
    data_format: Any
    kinds: tuple[ColumnKind, ...]
    timestamps: np.ndarray
    values: np.ndarray
    status: np.ndarray
    raw: bytes
    extra: dict[str, Any]


@st.composite
def periodic_packets(draw: st.DrawFn) -> Expected:
    fmt = draw(FORMATS)
    start, interval = draw(st.integers(0, 2**62)), draw(st.integers(0, 2**32 - 1))
    n, k = draw(st.integers(0, 9)), draw(st.integers(0, 4))
    columns = [draw(samples(n)) for _ in range(k)]
    msg = pb.PeriodicDataPacket(start_time=start, interval=interval)
    _set_format(msg, fmt)
    for c in columns:
        _fill(msg.columns.add(), c)
    values, status = _block(columns, n)
    points = n if k else 0
    times = np.array([start + i * interval for i in range(points)], np.int64)
    extra = {"start_time_ns": start, "interval_ns": interval}
    kinds = tuple(c.kind for c in columns)
    return Expected(fmt, kinds, times, values, status, msg.SerializeToString(), extra)


@st.composite
def synchro_packets(draw: st.DrawFn) -> Expected:
    fmt = draw(FORMATS)
    start = draw(st.integers(0, 2**62))
    empty = draw(st.booleans()) and draw(st.booleans())
    gaps = [] if empty else draw(st.lists(st.integers(0, 2**32 - 1), max_size=8))
    k = draw(st.integers(0, 4))
    # Without intervals and samples the packet is an empty block (nothing on the wire says 1).
    n = 0 if empty or (not gaps and not k) else len(gaps) + 1
    columns = [draw(samples(n)) for _ in range(k)]
    msg = pb.SynchroDataPacket(start_time=start, intervals=gaps)
    _set_format(msg, fmt)
    for c in columns:
        _fill(msg.columns.add(), c)
    values, status = _block(columns, n)
    values, status = (values, status) if columns else (np.zeros((0, n)), np.zeros((0, n), np.int8))
    times = np.cumsum([start, *gaps])[:n].astype(np.int64)
    extra = {"start_time_ns": start, "intervals_ns": np.array(gaps, np.int64)}
    kinds = tuple(c.kind for c in columns)
    return Expected(fmt, kinds, times, values, status, msg.SerializeToString(), extra)


@st.composite
def row_packets(draw: st.DrawFn) -> Expected:
    fmt = draw(FORMATS)
    r, k = draw(st.integers(0, 8)), draw(st.integers(0, 4))
    stamps = draw(st.lists(st.integers(0, 2**63 - 1), min_size=r, max_size=r))
    rows = [draw(samples(k)) for _ in range(r)]
    msg = pb.RowDataPacket(timestamps=stamps)
    _set_format(msg, fmt)
    for row in rows:
        _fill(msg.rows.add(), row)
    values, status = _block(rows, k)
    # Without rows nothing on the wire tells the parameter count: an empty 0 x 0 block.
    k = k if r else 0
    values, status = values.T.reshape(k, r), status.T.reshape(k, r)
    row_kinds = tuple(row.kind for row in rows)
    kinds = (row_kinds[0] if len(set(row_kinds)) == 1 else ColumnKind.MIXED,) * k if r else ()
    extra = {"row_kinds": row_kinds}
    return Expected(
        fmt, kinds, np.array(stamps, np.int64), values, status, msg.SerializeToString(), extra
    )


def assert_values_equal(got: np.ndarray, want: np.ndarray) -> None:
    assert got.shape == want.shape
    if got.dtype != object and want.dtype != object:
        assert np.array_equal(got.view(np.uint64), np.asarray(want, np.float64).view(np.uint64))
        return
    assert got.dtype == object
    for a, b in zip(got.reshape(-1).tolist(), want.reshape(-1).tolist(), strict=True):
        if isinstance(b, str):
            assert a == b
        else:
            assert np.float64(a).view(np.uint64) == np.float64(b).view(np.uint64)


def assert_matches(got: Any, want: Expected) -> None:
    assert got.data_format == want.data_format
    assert got.kinds == want.kinds
    assert got.timestamps_ns.dtype == np.int64
    assert np.array_equal(got.timestamps_ns, want.timestamps)
    assert_values_equal(got.values, want.values)
    assert got.status.dtype == np.int8
    assert np.array_equal(got.status, want.status)
    for name, value in want.extra.items():
        assert np.array_equal(getattr(got, name), value), name


def assert_batches_match(batches: list[FormatBatch], expected: list[Expected]) -> None:
    groups: dict[Any, list[int]] = {}
    for i, e in enumerate(expected):
        groups.setdefault((repr(e.data_format), e.values.shape[0]), []).append(i)
    assert len(batches) == len(groups)
    for batch, members in zip(batches, groups.values(), strict=True):
        assert batch.packet_indices.tolist() == members
        assert batch.data_format == expected[members[0]].data_format
        assert np.array_equal(
            batch.timestamps_ns, np.concatenate([expected[i].timestamps for i in members])
        )
        want_values = np.concatenate([expected[i].values for i in members], axis=1)
        assert_values_equal(batch.values, want_values)
        want_status = np.concatenate([expected[i].status for i in members], axis=1)
        assert np.array_equal(batch.status, want_status)
        assert batch.values.shape[0] == 0 or all(row.flags.c_contiguous for row in batch.values)


CASES: list[tuple[Any, Callable[..., Any], Callable[..., Any]]] = [
    (periodic_packets(), decode_periodic, decode_periodic_batch),
    (synchro_packets(), decode_synchro, decode_synchro_batch),
    (row_packets(), decode_row, decode_row_batch),
]


@pytest.mark.parametrize("impl", IMPLS)
@pytest.mark.parametrize(
    ("strategy", "decode", "decode_batch"), CASES, ids=["periodic", "synchro", "row"]
)
def test_decode_matches_oracle(impl: str, strategy: Any, decode: Any, decode_batch: Any) -> None:
    @TEST_SETTINGS
    @given(st.lists(strategy, max_size=12))
    def check(expected: list[Expected]) -> None:
        stats = DecodeStats()
        raws = [e.raw for e in expected]
        got = decode(raws, impl=impl, stats=stats)
        assert len(got) == len(expected)
        for g, e in zip(got, expected, strict=True):
            assert_matches(g, e)
        assert stats.fallback_packets == 0
        assert stats.packets == len(expected)
        assert_batches_match(decode_batch(ContentBatch.from_messages(raws), impl=impl), expected)

    check()


def test_documented_periodic_vector_decodes() -> None:
    raw = bytes.fromhex(
        "0A0208051100002A36FE9C971718 80ADE204 2213 0A11 0A0B 09000000000000F83F 1001 0A02 1002".replace(
            " ", ""
        )
    )
    for impl in IMPLS:
        (packet,) = decode_periodic([raw], impl=impl)
        assert packet.data_format == 5
        assert packet.timestamps_ns.tolist() == [1700000000000000000, 1700000000010000000]
        assert packet.values.tolist() == [[1.5, 0.0]]
        assert packet.status.tolist() == [[1, 2]]
        assert packet.kinds == (ColumnKind.DOUBLE,)


def test_documented_row_vector_is_rejected_for_its_row_count() -> None:
    # The protocol's wire example has two timestamps but one row: valid protobuf, but not a
    # block we can build, so both paths refuse it by name rather than guess.
    raw = bytes.fromhex(
        "0A0712050A03613A62 1210 0100000000000000 0200000000000000"
        " 1A11 120F 0A0D 08FFFFFFFFFFFFFFFFFF01 1001".replace(" ", "")
    )
    for impl in IMPLS:
        with pytest.raises(PacketDecodeError, match="packet 0: the number of timestamps"):
            decode_row([raw], impl=impl)
    fixed = raw[:9] + b"\x12\x08" + (1).to_bytes(8, "little") + raw[27:]
    for impl in IMPLS:
        (packet,) = decode_row([fixed], impl=impl)
        assert packet.data_format == ("a:b",)
        assert packet.timestamps_ns.tolist() == [1]
        assert packet.values.tolist() == [[-1.0]]
        assert packet.row_kinds == (ColumnKind.INT32,)


def test_impl_can_be_forced_by_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    raw = pb.PeriodicDataPacket(interval=1).SerializeToString()
    stats = DecodeStats()
    monkeypatch.setenv(IMPL_ENVIRONMENT_VARIABLE, "reference")
    decode_periodic([raw], stats=stats)
    assert stats.fast_packets == 0
    monkeypatch.setenv(IMPL_ENVIRONMENT_VARIABLE, "numpy")
    decode_periodic([raw], stats=stats)
    assert stats.fast_packets == 1
    with pytest.raises(ValueError, match="impl must be"):
        decode_periodic([raw], impl="quick")  # type: ignore[arg-type]


def test_large_batch_uses_lock_step_scan_and_chunks() -> None:
    rng = np.random.default_rng(7)
    values = rng.normal(size=(300, 3, 500))
    values[rng.random(values.shape) < 0.05] = 0.0
    status = np.where(rng.random(values.shape) < 0.02, 2, 1)
    raws = []
    for p in range(values.shape[0]):
        msg = pb.PeriodicDataPacket(start_time=p * 10**9, interval=10**6)
        msg.data_format.data_format_identifier = 42
        for c in range(3):
            col = msg.columns.add().double_samples
            for v, s in zip(values[p, c], status[p, c], strict=True):
                col.samples.add(value=v, status=int(s))
        raws.append(msg.SerializeToString())
    stats = DecodeStats()
    (batch,) = decode_periodic_batch(raws, impl="numpy", stats=stats)
    assert stats.fast_packets == 300
    assert np.array_equal(batch.values, values.transpose(1, 0, 2).reshape(3, -1))
    assert np.array_equal(batch.status, status.transpose(1, 0, 2).reshape(3, -1))
    assert np.array_equal(
        batch.timestamps_ns, (np.arange(300)[:, None] * 10**9 + np.arange(500) * 10**6).ravel()
    )


def test_decode_error_subclasses() -> None:
    assert issubclass(PacketDecodeError, StreamingError)
    assert issubclass(PacketDecodeError, ValueError)


@pytest.mark.parametrize("impl", IMPLS)
def test_empty_inputs(impl: str) -> None:
    for decode in (decode_periodic, decode_synchro, decode_row):
        assert decode([], impl=impl) == []
    for decode_batch in (decode_periodic_batch, decode_synchro_batch, decode_row_batch):
        assert decode_batch([], impl=impl) == []


@pytest.mark.parametrize("impl", IMPLS)
def test_many_columns_and_kinds_change_between_packets(impl: str) -> None:
    first = pb.PeriodicDataPacket(start_time=10, interval=5)
    first.data_format.data_format_identifier = 3
    second = pb.PeriodicDataPacket(start_time=20, interval=5)
    second.data_format.data_format_identifier = 3
    for c in range(300):
        first.columns.add().double_samples.samples.add(value=c + 0.5, status=1)
        column = second.columns.add()
        if c % 2:
            column.int32_samples.samples.add(value=-c, status=3)
        else:
            column.double_samples.samples.add(value=c, status=2)
    raws = [first.SerializeToString(), second.SerializeToString()]
    (batch,) = decode_periodic_batch(raws, impl=impl)
    assert batch.values.shape == (300, 2)
    assert batch.timestamps_ns.tolist() == [10, 20]
    assert batch.values[7].tolist() == [7.5, -7.0]
    assert batch.status[7].tolist() == [1, 3]
    assert batch.kinds[6] == ColumnKind.DOUBLE
    assert batch.kinds[7] == ColumnKind.MIXED
    assert batch.parameter_count == 300 and batch.sample_count == 600


def test_stats_accumulate_over_calls() -> None:
    raw = pb.PeriodicDataPacket(start_time=1, interval=1).SerializeToString()
    stats = DecodeStats()
    decode_periodic([raw, raw], impl="numpy", stats=stats)
    decode_periodic_batch([raw], impl="numpy", stats=stats)
    assert stats.packets == 3
    assert stats.fast_packets == 3
    assert stats.samples == 0


def test_batches_split_by_format_and_parameter_count() -> None:
    def packet(fmt: Any, columns: int, start: int) -> bytes:
        msg = pb.PeriodicDataPacket(start_time=start, interval=1)
        _set_format(msg, fmt)
        for _ in range(columns):
            msg.columns.add().double_samples.samples.add(value=float(start), status=1)
        return msg.SerializeToString()

    raws = [
        packet(1, 2, 100),
        packet(("a", "b"), 2, 200),
        packet(1, 2, 300),
        packet(1, 3, 400),
        packet(None, 1, 500),
        packet(("a", "b"), 2, 600),
    ]
    for impl in IMPLS:
        batches = decode_periodic_batch(raws, impl=impl)
        assert [(b.data_format, b.packet_indices.tolist()) for b in batches] == [
            (1, [0, 2]),
            (("a", "b"), [1, 5]),
            (1, [3]),
            (None, [4]),
        ]
        assert batches[1].values.tolist() == [[200.0, 600.0], [200.0, 600.0]]
        assert batches[1].timestamps_ns.tolist() == [200, 600]


def test_synchro_and_row_details() -> None:
    synchro = pb.SynchroDataPacket(start_time=100, intervals=[5, 0, 2**32 - 1])
    synchro.data_format.data_format_identifier = 8
    synchro.columns.add().bool_samples.samples.extend(
        [
            pb.BoolSample(value=True, status=1),
            pb.BoolSample(),
            pb.BoolSample(value=True),
            pb.BoolSample(status=2),
        ]
    )
    row = pb.RowDataPacket(timestamps=[7, 3])
    row.rows.add().double_samples.samples.extend([pb.DoubleSample(value=1.0), pb.DoubleSample()])
    row.rows.add().string_samples.samples.extend(
        [pb.StringSample(value="x", status=2), pb.StringSample(value="y")]
    )
    for impl in IMPLS:
        (s,) = decode_synchro([synchro.SerializeToString()], impl=impl)
        assert s.timestamps_ns.tolist() == [100, 105, 105, 105 + 2**32 - 1]
        assert s.intervals_ns.tolist() == [5, 0, 2**32 - 1]
        assert s.values.tolist() == [[1.0, 0.0, 1.0, 0.0]]
        assert s.status.tolist() == [[1, 0, 0, 2]]
        (r,) = decode_row([row.SerializeToString()], impl=impl)
        assert r.timestamps_ns.tolist() == [7, 3]
        assert r.row_kinds == (ColumnKind.DOUBLE, ColumnKind.STRING)
        assert r.kinds == (ColumnKind.MIXED, ColumnKind.MIXED)
        assert r.values.tolist() == [[1.0, "x"], [0.0, "y"]]
        assert r.status.tolist() == [[0, 2], [0, 0]]
        (batch,) = decode_row_batch([row.SerializeToString()] * 2, impl=impl)
        assert batch.values.tolist() == [[1.0, "x", 1.0, "x"], [0.0, "y", 0.0, "y"]]

"""Native and NumPy parsers held against the protobuf reference on random data and bytes.

Values full of zeros (omitted on the wire), -0.0, NaN and ±inf, every status, all four list
types in all three sample packets, then the same bytes truncated, with overlong length prefixes
and with random bytes changed: every accelerated parser gives the reference's arrays, or fails
on the same packet.
"""

from __future__ import annotations

import random
from typing import Any

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ma_dataplatforms_streaming_support_library.columnar import (
    PacketDecodeError,
    available_implementations,
    decode_periodic,
    decode_row,
    decode_synchro,
    encode_periodic_batch,
    read_envelopes,
)
from ma_dataplatforms_streaming_support_library.columnar.numpy.encode import encode_columns
from ma_dataplatforms_streaming_support_library.protos import open_data_pb2 as pb

ACCELERATED = [name for name in available_implementations() if name != "reference"]
SETTINGS = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
DECODERS: dict[str, Any] = {
    "periodic": decode_periodic,
    "synchro": decode_synchro,
    "row": decode_row,
}

SPECIAL = [0.0, -0.0, float("nan"), float("inf"), float("-inf"), 1.5, -2.25, 5e-324, 1e308]
DOUBLES = st.one_of(st.sampled_from(SPECIAL), st.floats(allow_nan=True, allow_infinity=True))
STATUSES = st.one_of(st.sampled_from([0, 0, 1, 2, 3]), st.integers(0, 127))
LIST_KINDS = ["double_samples", "int32_samples", "bool_samples", "string_samples"]
SAMPLE_TYPES = {
    "double_samples": pb.DoubleSample,
    "int32_samples": pb.Int32Sample,
    "bool_samples": pb.BoolSample,
    "string_samples": pb.StringSample,
}


def _sample(kind: str, value: float, status: int) -> Any:
    if kind == "double_samples":
        return pb.DoubleSample(value=value, status=status)
    if kind == "int32_samples":
        return pb.Int32Sample(
            value=0 if not np.isfinite(value) else int(value) % 2**31, status=status
        )
    if kind == "bool_samples":
        return pb.BoolSample(value=bool(value == value and value != 0), status=status)
    return pb.StringSample(value="" if value == 0 else repr(value), status=status)


def _fill(column: Any, kind: str, samples: list[tuple[float, int]]) -> None:
    getattr(column, kind).samples.extend(_sample(kind, v, s) for v, s in samples)


@st.composite
def packets(draw: st.DrawFn, kind: str) -> bytes:
    """One serialized sample packet of ``kind`` with random shape, lists and values."""
    columns = draw(st.integers(0, 4))
    points = draw(st.integers(0, 12))
    kinds = draw(st.lists(st.sampled_from(LIST_KINDS), min_size=1, max_size=4))
    grid = draw(
        st.lists(st.tuples(DOUBLES, STATUSES), min_size=columns * points, max_size=columns * points)
    )
    data_format = pb.SampleDataFormat()
    if draw(st.booleans()):
        data_format.data_format_identifier = draw(st.integers(0, 2**64 - 1))
    else:
        data_format.parameter_identifiers.parameter_identifiers.extend(
            draw(st.lists(st.text(max_size=5), max_size=3))
        )
    start = draw(st.sampled_from([0, 1, 1_700_000_000_000_000_000]))
    rows = [grid[c * points : (c + 1) * points] for c in range(columns)]
    if kind == "row":
        row_packet = pb.RowDataPacket(data_format=data_format)
        row_packet.timestamps.extend(start + 10 * k for k in range(points))
        for k in range(points):
            _fill(row_packet.rows.add(), kinds[k % len(kinds)], [r[k] for r in rows])
        return row_packet.SerializeToString()
    message: Any = (
        pb.PeriodicDataPacket(
            data_format=data_format, start_time=start, interval=draw(st.integers(0, 2**32 - 1))
        )
        if kind == "periodic"
        else pb.SynchroDataPacket(data_format=data_format, start_time=start)
    )
    if kind == "synchro":
        message.intervals.extend(
            draw(
                st.lists(
                    st.integers(0, 2**32 - 1),
                    min_size=max(points - 1, 0),
                    max_size=max(points - 1, 0),
                )
            )
        )
    for c in range(columns):
        _fill(message.columns.add(), kinds[c % len(kinds)], rows[c])
    return bytes(message.SerializeToString())


def mutate(rng: random.Random, raw: bytes) -> bytes:
    """Truncated, an overlong length or varint, or a byte changed, inserted or dropped."""
    data = bytearray(raw)
    if not data:
        return bytes([rng.randrange(256)])
    i = rng.randrange(len(data))
    action = rng.randrange(6)
    if action == 0:
        del data[i:]
    elif action == 1:
        data[i] = min(data[i] + rng.randrange(1, 40), 255)  # a length prefix reaching too far
    elif action == 2:
        data[i] |= 0x80  # a varint that runs on (or off the end)
    elif action == 3:
        data[i] = rng.randrange(256)
    elif action == 4:
        data.insert(i, rng.randrange(256))
    else:
        del data[i]
    return bytes(data)


def outcome(decode: Any, raws: list[bytes], impl: str) -> Any:
    try:
        return decode(raws, impl=impl)
    except PacketDecodeError as exc:
        return ("error", exc.packet_index, exc.reason)


def assert_same(a: Any, b: Any) -> None:
    """Equal outcomes, arrays compared bit for bit (NaN payloads and -0.0 included)."""
    if isinstance(a, tuple) or isinstance(b, tuple):
        assert a == b
        return
    assert len(a) == len(b)
    for x, y in zip(a, b, strict=True):
        for name in x.__dataclass_fields__:
            u, v = getattr(x, name), getattr(y, name)
            if not isinstance(u, np.ndarray):
                assert u == v, name
            elif u.dtype == object:
                assert u.shape == v.shape and [repr(e) for e in u.ravel()] == [
                    repr(e) for e in v.ravel()
                ], name
            else:
                assert u.dtype == v.dtype and u.shape == v.shape, name
                assert np.ascontiguousarray(u).tobytes() == np.ascontiguousarray(v).tobytes(), name


@pytest.mark.parametrize("impl", ACCELERATED)
@pytest.mark.parametrize("kind", list(DECODERS))
def test_random_packets_match_the_reference(impl: str, kind: str) -> None:
    @SETTINGS
    @given(st.lists(packets(kind), min_size=1, max_size=5))
    def check(raws: list[bytes]) -> None:
        decode = DECODERS[kind]
        assert_same(outcome(decode, raws, impl), outcome(decode, raws, "reference"))

    check()


@pytest.mark.parametrize("impl", ACCELERATED)
@pytest.mark.parametrize("kind", list(DECODERS))
def test_mutated_packets_match_the_reference(impl: str, kind: str) -> None:
    @SETTINGS
    @given(
        st.lists(packets(kind), min_size=1, max_size=4), st.integers(0, 2**32), st.integers(1, 4)
    )
    def check(raws: list[bytes], seed: int, hits: int) -> None:
        rng = random.Random(seed)
        for _ in range(hits):
            i = rng.randrange(len(raws))
            raws[i] = mutate(rng, raws[i])
        decode = DECODERS[kind]
        assert_same(outcome(decode, raws, impl), outcome(decode, raws, "reference"))

    check()


@pytest.mark.parametrize("impl", ACCELERATED)
def test_mutated_envelopes_match_the_reference(impl: str) -> None:
    @SETTINGS
    @given(
        st.lists(
            st.tuples(
                st.text(max_size=12),
                st.text(max_size=6),
                st.booleans(),
                st.binary(max_size=30),
                st.integers(0, 2**64 - 1),
            ),
            min_size=1,
            max_size=6,
        ),
        st.integers(0, 2**32),
    )
    def check(fields: list[tuple[str, str, bool, bytes, int]], seed: int) -> None:
        rng = random.Random(seed)
        raws = [
            pb.Packet(type=t, session_key=k, is_essential=e, content=c, id=i).SerializeToString()
            for t, k, e, c, i in fields
        ]
        raws = [mutate(rng, r) if rng.random() < 0.4 else r for r in raws]

        def read(name: str) -> Any:
            try:
                env = read_envelopes(raws, impl=name)  # type: ignore[arg-type]
            except PacketDecodeError as exc:
                return ("error", exc.packet_index)
            contents = [env.contents.message(i) for i in range(len(env))]
            return (
                env.types,
                env.session_keys,
                env.is_essential.tolist(),
                env.ids.tolist(),
                contents,
            )

        assert read(impl) == read("reference")

    check()


@SETTINGS
@given(
    st.integers(1, 4),
    st.integers(0, 3),
    st.integers(0, 9),
    st.data(),
)
def test_encoders_write_protobufs_bytes(
    packets_count: int, columns: int, samples: int, data: st.DataObject
) -> None:
    shape = (packets_count, columns, samples)
    size = int(np.prod(shape))
    values = np.array(
        data.draw(st.lists(DOUBLES, min_size=size, max_size=size)), np.float64
    ).reshape(shape)
    status = np.array(
        data.draw(st.lists(STATUSES, min_size=size, max_size=size)), np.uint8
    ).reshape(shape)
    starts = np.array(
        data.draw(
            st.lists(st.integers(0, 2**64 - 1), min_size=packets_count, max_size=packets_count)
        ),
        np.uint64,
    )
    interval = data.draw(st.integers(0, 2**32 - 1))
    ids = np.array(
        data.draw(
            st.lists(st.integers(0, 2**64 - 1), min_size=packets_count, max_size=packets_count)
        ),
        np.uint64,
    )
    expected = []
    for p in range(packets_count):
        message = pb.PeriodicDataPacket(start_time=int(starts[p]), interval=interval)
        message.data_format.data_format_identifier = int(ids[p])
        for c in range(columns):
            _fill(
                message.columns.add(),
                "double_samples",
                list(zip(values[p, c].tolist(), status[p, c].tolist(), strict=True)),
            )
        expected.append(message.SerializeToString())
    got = encode_periodic_batch(
        values, status, start_times_ns=starts, interval_ns=interval, data_format=ids
    )
    assert got == expected
    intervals = np.full(packets_count, interval, np.int64)
    assert encode_columns(values, status, starts, intervals, ids, b"") == expected


def _tight_packets() -> list[tuple[str, list[bytes]]]:
    """Batches of the tightest layouts, each on its own and among roomy packets: samples of
    value 0 and status 0 (2 bytes each), columns with no list (2 bytes each), synchro
    intervals of 1 ns (1 byte each)."""
    zeros = pb.PeriodicDataPacket(interval=1)
    zeros.data_format.data_format_identifier = 3
    zeros.columns.add().double_samples.samples.extend(pb.DoubleSample() for _ in range(500))
    empty = pb.PeriodicDataPacket(interval=1)
    for _ in range(300):
        empty.columns.add()
    ticks = pb.SynchroDataPacket(start_time=5, intervals=[1] * 400)
    synchro = pb.SynchroDataPacket(start_time=5, intervals=[1] * 3)
    synchro.columns.add().double_samples.samples.extend(
        pb.DoubleSample(value=v, status=1) for v in range(4)
    )
    roomy = encode_periodic_batch(
        np.ones((2, 2, 50)), 1, start_times_ns=0, interval_ns=1, data_format=3
    )
    tight = [zeros.SerializeToString(), empty.SerializeToString()]
    return [
        *[("periodic", [raw]) for raw in tight],
        ("periodic", [roomy[0], *tight, roomy[1]]),
        ("synchro", [ticks.SerializeToString()]),
        ("synchro", [synchro.SerializeToString(), ticks.SerializeToString()]),
    ]


@pytest.mark.parametrize("impl", ACCELERATED)
@pytest.mark.parametrize("case", range(len(_tight_packets())))
def test_tightly_packed_packets_match_the_reference(impl: str, case: int) -> None:
    kind, raws = _tight_packets()[case]
    decode = DECODERS[kind]
    found = outcome(decode, raws, impl)
    assert not isinstance(found, tuple)
    assert_same(found, outcome(decode, raws, "reference"))

"""The record-chain decoder of sample lists, against protobuf, including adversarial bytes."""

from __future__ import annotations

import math
import struct
from collections.abc import Callable
from typing import Any

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ma_dataplatforms_streaming_support_library.columnar import ColumnKind, ContentBatch
from ma_dataplatforms_streaming_support_library.columnar.numpy import records as _records
from ma_dataplatforms_streaming_support_library.columnar.numpy.records import decode_sample_lists
from ma_dataplatforms_streaming_support_library.protos import open_data_pb2 as pb

SPECIAL = [0.0, -0.0, math.nan, -math.nan, math.inf, -math.inf, 5e-324, -5e-324, 2.2e-308, 1.5]
DOUBLES = st.one_of(st.sampled_from(SPECIAL), st.floats(allow_nan=True, width=64))
STATUS = st.one_of(st.sampled_from([0, 1, 2, 3]), st.integers(0, 127))
# Doubles whose bytes imitate record starts (0A 00, 0A 02 10 .., 0A 0B 09 ..) inside values.
ADVERSARIAL = [
    struct.unpack("<d", bytes(b))[0]
    for b in (
        [0x0A, 0x00, 0x0A, 0x00, 0x0A, 0x00, 0x0A, 0x00],
        [0x0A, 0x02, 0x10, 0x01, 0x0A, 0x0B, 0x09, 0x3F],
        [0x00, 0x0A, 0x09, 0x09, 0x0A, 0x0B, 0x09, 0x40],
        [0x0A, 0x0B, 0x09, 0x0A, 0x02, 0x10, 0x02, 0x0A],
    )
]


def _double_list(values: list[float], status: list[int]) -> bytes:
    msg = pb.DoubleSampleList()
    for v, s in zip(values, status, strict=True):
        msg.samples.add(value=v, status=s)
    return msg.SerializeToString()


def _bits(values: np.ndarray) -> list[int]:
    return np.asarray(values, np.float64).view(np.uint64).tolist()


@st.composite
def double_lists(
    draw: st.DrawFn, elements: st.SearchStrategy[float] = DOUBLES
) -> tuple[list[float], list[int]]:
    n = draw(st.integers(0, 40))
    return draw(st.lists(elements, min_size=n, max_size=n)), draw(
        st.lists(STATUS, min_size=n, max_size=n)
    )


@settings(max_examples=150, deadline=None)
@given(st.lists(double_lists(st.one_of(DOUBLES, st.sampled_from(ADVERSARIAL))), max_size=30))
def test_double_lists_match_protobuf(lists: list[tuple[list[float], list[int]]]) -> None:
    batch = ContentBatch.from_messages([_double_list(v, s) for v, s in lists])
    out = decode_sample_lists(batch.buffer, batch.starts, batch.ends, ColumnKind.DOUBLE)
    assert not out.bad.any()
    assert out.counts.tolist() == [len(v) for v, _ in lists]
    assert _bits(out.values) == _bits(np.array([x for v, _ in lists for x in v], np.float64))
    assert out.status.tolist() == [x for _, s in lists for x in s]


def test_many_false_candidates_still_decode() -> None:
    values = ADVERSARIAL * 500 + [0.0] * 100
    status = [1] * len(values)
    raw = _double_list(values, status)
    batch = ContentBatch.from_messages([raw, raw[:0], raw])
    out = decode_sample_lists(batch.buffer, batch.starts, batch.ends, ColumnKind.DOUBLE)
    assert out.counts.tolist() == [len(values), 0, len(values)]
    assert _bits(out.values) == _bits(np.array(values * 2))


def _check(lists: list[tuple[list[float], list[int]]], batch: ContentBatch) -> None:
    out = decode_sample_lists(batch.buffer, batch.starts, batch.ends, ColumnKind.DOUBLE)
    assert not out.bad.any()
    assert out.counts.tolist() == [len(v) for v, _ in lists]
    assert _bits(out.values) == _bits(np.array([x for v, _ in lists for x in v], np.float64))
    assert out.status.tolist() == [x for _, s in lists for x in s]


def _random_list(rng: np.random.Generator, n: int) -> tuple[list[float], list[int]]:
    """Long runs of 13-byte records broken by zeros, missing statuses, omitted statuses and
    doubles whose bytes hold false record starts (``0A`` then every plausible length)."""
    values = rng.normal(50.0, 20.0, n)
    kind = rng.random(n)
    values[kind < 0.05] = 0.0
    false_starts = rng.integers(0, 12, n)
    tricky = (kind >= 0.05) & (kind < 0.12)
    raw = values.view(np.uint8).reshape(n, 8)
    at = rng.integers(0, 7, n)
    raw[tricky, at[tricky]] = 0x0A
    raw[tricky, at[tricky] + 1] = false_starts[tricky]
    status = rng.choice([0, 1, 1, 1, 2, 127], n)
    return values.tolist(), status.tolist()


@settings(max_examples=60, deadline=None)
@given(st.integers(0, 2**32 - 1), st.lists(st.integers(0, 3000), min_size=1, max_size=6))
def test_long_lists_with_false_starts_match_protobuf(seed: int, sizes: list[int]) -> None:
    rng = np.random.default_rng(seed)
    lists = [_random_list(rng, n) for n in sizes]
    _check(lists, ContentBatch.from_messages([_double_list(v, s) for v, s in lists]))


def _tiled_list(
    rng: np.random.Generator, n: int, heads: bytes = b""
) -> tuple[list[float], list[int]]:
    """Lists of 13-byte records and 4-byte zeros only (every status set), some values holding
    ``heads`` (e.g. a short record's head ``0A 02 10``) in their bytes."""
    values = rng.normal(50.0, 20.0, n)
    values[rng.random(n) < 0.1] = 0.0
    if heads:
        tricky = np.flatnonzero(rng.random(n) < 0.05)
        raw = values.view(np.uint8).reshape(n, 8)
        starts = rng.integers(0, 9 - len(heads), tricky.size)
        for i, at in zip(tricky.tolist(), starts.tolist(), strict=True):
            raw[i, at : at + len(heads)] = list(heads)
    return values.tolist(), rng.integers(1, 128, n).tolist()


@settings(max_examples=40, deadline=None)
@given(st.integers(0, 2**32 - 1), st.lists(st.integers(0, 2000), min_size=1, max_size=6))
def test_tiled_lists_take_the_tiled_path(seed: int, sizes: list[int]) -> None:
    rng = np.random.default_rng(seed)
    lists = [_tiled_list(rng, n, b"\x0a\x0b\x09") for n in sizes]
    tiled = _records._tiled_doubles
    taken: list[bool] = []

    def spy(*args: Any) -> _records.ListSamples | None:
        out = tiled(*args)
        taken.append(out is not None)
        return out

    # Short-record heads between the lists are no records of theirs.
    spans = [m for v, s in lists for m in (_double_list(v, s), b"\x0a\x02\x10\x01")]
    batch = ContentBatch.from_messages(spans).take(np.arange(0, len(spans), 2))
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(_records, "_tiled_doubles", spy)
        _check(lists, batch)
    assert taken and all(taken)


@settings(max_examples=60, deadline=None)
@given(
    st.integers(0, 2**32 - 1),
    st.lists(st.integers(0, 2000), min_size=1, max_size=6),
    st.sampled_from([b"\x0a\x02\x10", b"\x0a\x02\x10\x01\x0a\x0b\x09", b""]),
    st.lists(st.tuples(st.sampled_from(SPECIAL), st.sampled_from([0, 1, 128])), max_size=3),
    st.data(),
)
def test_tilings_that_do_not_check_out_match_protobuf(
    seed: int,
    sizes: list[int],
    heads: bytes,
    spoilers: list[tuple[float, int]],
    data: st.DataObject,
) -> None:
    """Short-record heads inside values and records of other layouts (no status, a two-byte
    status) in the middle of tiled lists: the tiling must not be trusted."""
    rng = np.random.default_rng(seed)
    lists = [_tiled_list(rng, n, heads) for n in sizes]
    for value, status in spoilers:
        values, statuses = lists[data.draw(st.integers(0, len(lists) - 1))]
        at = data.draw(st.integers(0, len(values)))
        values.insert(at, value)
        statuses.insert(at, status)
    raws = [_double_list(v, s) for v, s in lists]
    if any(s >= 0x80 for _, s in spoilers):
        batch = ContentBatch.from_messages(raws)
        out = decode_sample_lists(batch.buffer, batch.starts, batch.ends, ColumnKind.DOUBLE)
        assert out.bad.tolist() == [any(s >= 0x80 for s in st_) for _, st_ in lists]
        return
    _check(lists, ContentBatch.from_messages(raws))


BAD_RECORDS = [
    b"\x0a\x01\x10",  # every length up to 11 is a candidate: the payload check must refuse
    b"\x0a\x03\x10\x01\x00",
    b"\x0a\x05\x10\x01\x18\x01\x00",
    b"\x0a\x0a\x09" + bytes(8) + b"\x10",
    b"\x0a\x0b\x09" + bytes(8) + b"\x18\x01",  # status tag replaced by an unknown field
    b"\x0a\x0b\x11" + bytes(8) + b"\x10\x01",  # value with another field number
    b"\x0a\x02\x10\x90",
    b"\x0a\x09\x11" + bytes(8),
]


@pytest.mark.parametrize("record", BAD_RECORDS)
@pytest.mark.parametrize("make", [_random_list, _tiled_list])
@settings(max_examples=10, deadline=None)
@given(st.integers(0, 2**32 - 1), st.lists(st.integers(1, 2000), min_size=2, max_size=5), st.data())
def test_a_bad_record_inside_a_long_list_marks_only_that_list(
    record: bytes,
    make: Callable[[np.random.Generator, int], tuple[list[float], list[int]]],
    seed: int,
    sizes: list[int],
    data: st.DataObject,
) -> None:
    rng = np.random.default_rng(seed)
    lists = [make(rng, n) for n in sizes]
    victim = data.draw(st.integers(0, len(sizes) - 1))
    cut = data.draw(st.integers(0, sizes[victim]))
    raws = [_double_list(v, s) for v, s in lists]
    values, status = lists[victim]
    raws[victim] = (
        _double_list(values[:cut], status[:cut]) + record + _double_list(values[cut:], status[cut:])
    )
    batch = ContentBatch.from_messages(raws)
    out = decode_sample_lists(batch.buffer, batch.starts, batch.ends, ColumnKind.DOUBLE)
    assert out.bad.tolist() == [j == victim for j in range(len(sizes))]
    kept = [lists[j] for j in range(len(sizes)) if j != victim]
    assert out.counts.tolist() == [0 if j == victim else n for j, n in enumerate(sizes)]
    assert _bits(out.values) == _bits(np.array([x for v, _ in kept for x in v], np.float64))
    assert out.status.tolist() == [x for _, s in kept for x in s]


def test_lists_out_of_position_order() -> None:
    lists = [_double_list([float(i)] * (i + 1), [1] * (i + 1)) for i in range(5)]
    batch = ContentBatch.from_messages(lists).take([3, 0, 4, 0])
    out = decode_sample_lists(batch.buffer, batch.starts, batch.ends, ColumnKind.DOUBLE)
    assert out.counts.tolist() == [4, 1, 5, 1]
    assert out.values.tolist() == [3.0] * 4 + [0.0] + [4.0] * 5 + [0.0]


@pytest.mark.parametrize(
    "record",
    [
        b"\x0a\x0b\x10\x01\x09" + bytes(8),  # status before value: valid protobuf, not canonical
        b"\x0a\x03\x10\x81\x01",  # two-byte status varint
        b"\x0a\x02\x18\x01",  # unknown field
        b"\x0a\x09\x10" + bytes(8),  # wrong tag for a 9-byte payload
        b"\x12\x00",  # another field number in the list
        b"\x0a\x0b\x09" + bytes(8) + b"\x10\x80",  # status byte with continuation bit
    ],
)
def test_non_canonical_records_mark_the_list_bad(record: bytes) -> None:
    good = _double_list([1.0, 2.0], [1, 1])
    batch = ContentBatch.from_messages([good, good + record + good, good])
    out = decode_sample_lists(batch.buffer, batch.starts, batch.ends, ColumnKind.DOUBLE)
    assert out.bad.tolist() == [False, True, False]
    assert out.counts.tolist() == [2, 0, 2]
    assert out.values.tolist() == [1.0, 2.0, 1.0, 2.0]


def test_truncated_list_is_bad() -> None:
    raw = _double_list([1.0, 2.0], [1, 1])
    batch = ContentBatch.from_messages([raw[:-1], raw[:-5], raw])
    out = decode_sample_lists(batch.buffer, batch.starts, batch.ends, ColumnKind.DOUBLE)
    assert out.bad.tolist() == [True, True, False]


INT32 = st.one_of(
    st.sampled_from([0, -1, 1, 10, -(2**31), 2**31 - 1]), st.integers(-(2**31), 2**31 - 1)
)


@settings(max_examples=100, deadline=None)
@given(
    st.lists(
        st.lists(st.tuples(st.one_of(INT32, st.booleans()), STATUS), max_size=30), max_size=20
    ),
    st.sampled_from([ColumnKind.INT32, ColumnKind.BOOL]),
)
def test_varint_lists_match_protobuf(lists: list[list[tuple[int, int]]], kind: ColumnKind) -> None:
    message = pb.Int32SampleList if kind == ColumnKind.INT32 else pb.BoolSampleList
    raws = []
    expected = []
    for samples in lists:
        msg = message()
        for value, status in samples:
            v = int(value) if kind == ColumnKind.INT32 else bool(value)
            msg.samples.add(value=v, status=status)
            expected.append((float(v), status))
        raws.append(msg.SerializeToString())
    batch = ContentBatch.from_messages(raws)
    out = decode_sample_lists(batch.buffer, batch.starts, batch.ends, kind)
    assert not out.bad.any()
    assert out.counts.tolist() == [len(s) for s in lists]
    assert list(zip(out.values.tolist(), out.status.tolist(), strict=True)) == expected


def test_varint_value_is_truncated_like_protobuf() -> None:
    # A 5-byte varint of 2**32 + 7: int32 keeps the low 32 bits, bool any nonzero value.
    record = b"\x0a\x06\x08\x87\x80\x80\x80\x10"
    for kind, message in (
        (ColumnKind.INT32, pb.Int32SampleList),
        (ColumnKind.BOOL, pb.BoolSampleList),
    ):
        batch = ContentBatch.from_messages([record])
        out = decode_sample_lists(batch.buffer, batch.starts, batch.ends, kind)
        assert out.values.tolist() == [float(message.FromString(record).samples[0].value)]


def test_unknown_kind_is_rejected() -> None:
    batch = ContentBatch.from_messages([b""])
    with pytest.raises(ValueError, match="no vectorised decoder"):
        decode_sample_lists(batch.buffer, batch.starts, batch.ends, ColumnKind.STRING)

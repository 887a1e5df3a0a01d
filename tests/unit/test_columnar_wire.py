"""Unit tests of the vectorised wire primitives behind the columnar fast path."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ma_dataplatforms_streaming_support_library.columnar import ContentBatch
from ma_dataplatforms_streaming_support_library.columnar._batch import PAD, concat_ranges
from ma_dataplatforms_streaming_support_library.columnar.numpy.wire import (
    decode_packed_varints,
    read_varints,
    scan_fields,
)


def varint(value: int) -> bytes:
    value &= (1 << 64) - 1
    out = bytearray()
    while True:
        byte, value = value & 0x7F, value >> 7
        out.append(byte | (0x80 if value else 0))
        if not value:
            return bytes(out)


def _buffer(data: bytes) -> np.ndarray:
    return np.frombuffer(data + bytes(PAD), np.uint8)


@given(st.lists(st.integers(0, (1 << 64) - 1), max_size=50))
def test_read_varints_matches_python(values: list[int]) -> None:
    raw = b"".join(varint(v) for v in values)
    pos = np.cumsum([0] + [len(varint(v)) for v in values])[:-1].astype(np.int64)
    got, lengths = read_varints(_buffer(raw), pos)
    assert got.tolist() == values
    assert lengths.tolist() == [len(varint(v)) for v in values]


def test_read_varints_flags_overlong_and_overflowing() -> None:
    raw = b"\xff" * 10 + b"\x01" + b"\xff" * 9 + b"\x02" + b"\xff" * 9 + b"\x01"
    got, lengths = read_varints(_buffer(raw), np.array([0, 11, 21], np.int64))
    assert lengths.tolist() == [0, 0, 10]
    assert int(got[2]) == (1 << 64) - 1


def test_concat_ranges() -> None:
    out = concat_ranges(np.array([5, 0, 9], np.int64), np.array([2, 0, 3], np.int64))
    assert out.tolist() == [5, 6, 9, 10, 11]
    assert concat_ranges(np.zeros(0, np.int64), np.zeros(0, np.int64)).size == 0


def test_content_batch_round_trip_and_padding() -> None:
    batch = ContentBatch.from_messages([b"ab", b"", b"cde"])
    assert len(batch) == 3
    assert [batch.message(i) for i in range(3)] == [b"ab", b"", b"cde"]
    assert batch.take([2, 0]).message(0) == b"cde"
    with pytest.raises(ValueError, match="past the last message"):
        ContentBatch(b"abc", np.array([0]), np.array([3]))
    with pytest.raises(ValueError, match="start <= end"):
        ContentBatch(bytes(64), np.array([5]), np.array([3]))
    with pytest.raises(ValueError, match="same length"):
        ContentBatch(bytes(64), np.array([0, 1]), np.array([3]))


def _message(fields: list[tuple[int, int, int | bytes]]) -> bytes:
    out = b""
    for number, wire, value in fields:
        out += varint(number << 3 | wire)
        if wire == 0:
            assert isinstance(value, int)
            out += varint(value)
        elif wire == 1:
            assert isinstance(value, int)
            out += value.to_bytes(8, "little")
        elif wire == 5:
            assert isinstance(value, int)
            out += value.to_bytes(4, "little")
        else:
            assert isinstance(value, bytes)
            out += varint(len(value)) + value
    return out


FIELD = st.one_of(
    st.tuples(st.integers(1, 2**29 - 1), st.just(0), st.integers(0, 2**64 - 1)),
    st.tuples(st.integers(1, 2**29 - 1), st.just(1), st.integers(0, 2**64 - 1)),
    st.tuples(st.integers(1, 2**29 - 1), st.just(5), st.integers(0, 2**32 - 1)),
    st.tuples(st.integers(1, 2**29 - 1), st.just(2), st.binary(max_size=300)),
)


@settings(max_examples=60, deadline=None)
@given(st.lists(st.lists(FIELD, max_size=12), max_size=30))
def test_scan_fields_lists_every_field_in_order(
    messages: list[list[tuple[int, int, int | bytes]]],
) -> None:
    batch = ContentBatch.from_messages([_message(m) for m in messages])
    table = scan_fields(batch.buffer, batch.starts, batch.ends)
    assert not table.malformed.any()
    expected = [(i, n, w) for i, m in enumerate(messages) for n, w, _ in m]
    got = list(
        zip(table.message.tolist(), table.number.tolist(), table.wire_type.tolist(), strict=True)
    )
    assert got == expected
    for row, (i, j) in enumerate((i, j) for i, m in enumerate(messages) for j in range(len(m))):
        _, wire, value = messages[i][j]
        payload = batch.buffer[table.start[row] : table.end[row]]
        if wire == 0:
            assert int(table.varint[row]) == value
        elif wire == 2:
            assert payload == value
        else:
            assert int.from_bytes(payload, "little") == value


@pytest.mark.parametrize(
    "raw",
    [
        b"\x0a\x05ab",  # LEN past the end
        b"\x09\x01\x02",  # I64 past the end
        b"\x0b\x0c",  # group wire types
        b"\x0e\x00",  # wire type 6
        b"\x00\x01",  # field number 0
        b"\x08" + b"\xff" * 10 + b"\x01",  # 11-byte varint
        b"\x0a\xff\xff\xff\xff\xff\xff\xff\xff\xff\x01",  # absurd length
    ],
)
@pytest.mark.parametrize("copies", [1, 20])
def test_scan_fields_marks_malformed(raw: bytes, copies: int) -> None:
    # One copy goes through the Python tail, twenty through the lock-step loop.
    batch = ContentBatch.from_messages([b"\x08\x01", raw] * copies)
    table = scan_fields(batch.buffer, batch.starts, batch.ends)
    assert table.malformed.tolist() == [False, True] * copies


@given(st.lists(st.lists(st.integers(0, 2**64 - 1), max_size=20), max_size=20))
def test_decode_packed_varints(spans: list[list[int]]) -> None:
    batch = ContentBatch.from_messages([b"".join(varint(v) for v in s) for s in spans])
    values, counts, bad = decode_packed_varints(batch.array, batch.starts, batch.ends)
    assert not bad.any()
    assert counts.tolist() == [len(s) for s in spans]
    assert values.tolist() == [v for s in spans for v in s]


def test_decode_packed_varints_flags_cut_and_overlong_spans() -> None:
    batch = ContentBatch.from_messages([b"\x01\x80", b"\x05", b"\xff" * 10 + b"\x01", b"\x07"])
    values, counts, bad = decode_packed_varints(batch.array, batch.starts, batch.ends)
    assert bad.tolist() == [True, False, True, False]
    assert counts[1] == 1 and counts[3] == 1
    offsets = np.concatenate(([0], np.cumsum(counts)))
    assert values[offsets[1]] == 5 and values[offsets[3]] == 7

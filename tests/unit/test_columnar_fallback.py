"""Fast path versus reference path on unusual and corrupt bytes: same arrays or same error.

The packets here are written by hand so that they can use every liberty protobuf allows
(field order, explicit defaults, padded varints, unknown fields, unpacked repeated scalars,
merged oneofs, duplicated fields) and then be corrupted at random.
"""

from __future__ import annotations

import random
import struct
from typing import Any

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ma_dataplatforms_streaming_support_library.columnar import (
    DecodeStats,
    PacketDecodeError,
    decode_periodic,
    decode_periodic_batch,
    decode_row,
    decode_synchro,
)
from ma_dataplatforms_streaming_support_library.columnar.parsers import available_implementations

# The accelerated parsers of this installation, each held against the reference path.
ACCELERATED = [name for name in available_implementations() if name != "reference"]
SETTINGS = settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def varint(value: int, pad: int = 0) -> bytes:
    """Varint of ``value`` (negatives sign-extended), with ``pad`` redundant 0x80 bytes."""
    value &= (1 << 64) - 1
    out = bytearray()
    while True:
        byte, value = value & 0x7F, value >> 7
        out.append(byte | (0x80 if value else 0))
        if not value:
            break
    for _ in range(min(pad, 10 - len(out))):
        out[-1] |= 0x80
        out.append(0)
    return bytes(out)


def key(number: int, wire: int) -> bytes:
    return varint(number << 3 | wire)


def f_varint(number: int, value: int, pad: int = 0) -> bytes:
    return key(number, 0) + varint(value, pad)


def f_len(number: int, payload: bytes) -> bytes:
    return key(number, 2) + varint(len(payload)) + payload


def f_i64(number: int, value: int) -> bytes:
    return key(number, 1) + (value & (1 << 64) - 1).to_bytes(8, "little")


class Writer:
    """Writes sample packets, taking a liberty with probability ``odd`` at each choice."""

    def __init__(self, rng: random.Random, odd: float) -> None:
        self.rng, self.odd = rng, odd

    def chance(self) -> bool:
        return self.rng.random() < self.odd

    def sample(self, kind: int) -> bytes:
        rng = self.rng
        status = rng.choice([0, 0, 1, 1, 1, 2, 3, rng.randrange(128), rng.randrange(1 << 32)])
        if kind == 1:
            value = rng.choice(
                [0.0, -0.0, 1.5, float("nan"), struct.unpack("<d", b"\x0a\x00" * 4)[0]]
            )
            raw = struct.pack("<d", value)
            value_field = key(1, 1) + raw if (raw != bytes(8) or self.chance()) else b""
        elif kind in (2, 3):
            number = rng.choice([0, 1, -1, 10, 2**31 - 1, 2**33]) if kind == 2 else rng.randrange(2)
            value_field = f_varint(1, number, pad=rng.randrange(3) if self.chance() else 0)
            value_field = value_field if (number or self.chance()) else b""
        else:
            text = rng.choice(["", "a", "é"]).encode()
            if self.chance():
                text = b"\xff"  # invalid UTF-8: protobuf rejects the packet
            value_field = f_len(1, text) if (text or self.chance()) else b""
        status_field = f_varint(2, status, pad=1 if self.chance() else 0)
        status_field = status_field if (status or self.chance()) else b""
        fields = [value_field, status_field]
        if self.chance():
            fields.reverse()
        if self.chance():
            fields.append(f_varint(15, 7))
        return f_len(1, b"".join(fields))

    def column(self, kind: int, n: int) -> bytes:
        records = b"".join(self.sample(kind) for _ in range(n))
        if self.chance() and n > 1:
            cut = records.index(b"\x0a", 1) if b"\x0a" in records[1:] else len(records)
            body = f_len(kind, records[:cut]) + f_len(kind, records[cut:])  # oneof merge
        else:
            body = f_len(kind, records)
        if self.chance():
            body += f_varint(9, 1)
        return body

    def data_format(self) -> bytes:
        if self.chance():
            return b""
        if self.rng.random() < 0.7:
            inner = f_varint(1, self.rng.choice([0, 5, 2**63]))
        else:
            inner = f_len(2, b"".join(f_len(1, t) for t in (b"a:b", b"c")))
        if self.chance():
            inner += f_varint(1, 9)  # second oneof member: last one wins
        return f_len(1, inner)

    def packet(self, kind: str, n: int, k: int) -> bytes:
        rng = self.rng
        head = [self.data_format()]
        if kind in ("periodic", "synchro"):
            start = rng.choice([0, 1, 1700000000000000000, 2**63 + 1 if self.chance() else 5])
            head.append(f_i64(2, start) if start or self.chance() else b"")
            if self.chance():
                head.insert(0, f_i64(2, 99))  # duplicate: the later value wins
        if kind == "periodic":
            head.append(f_varint(3, rng.choice([0, 1, 10**7, 2**32 + 3]), pad=int(self.chance())))
        times = [rng.randrange(1 << 32) for _ in range(max(n - 1, 0))]
        if kind == "row":
            times = [
                rng.choice([0, 5, 2**63 - 1, 2**63 + 2 if self.chance() else 9]) for _ in range(n)
            ]
        if kind != "periodic":
            wire = 1 if kind == "row" else 0
            single = [f_i64(2, t) if wire else f_varint(3, t) for t in times]
            number = 2 if kind == "row" else 3
            packed = f_len(
                number, b"".join(t.to_bytes(8, "little") if wire else varint(t) for t in times)
            )
            head.append(b"".join(single) if self.chance() else (packed if times else b""))
        lists_field = 3 if kind == "row" else 4
        kinds = [rng.choice([1, 1, 1, 2, 3, 4]) for _ in range(n if kind == "row" else k)]
        per_list = k if kind == "row" else n
        if kind == "synchro" and self.chance():
            per_list += 1  # column length disagrees with the intervals
        body = [f_len(lists_field, self.column(t, per_list)) for t in kinds]
        if self.chance():
            body.insert(rng.randrange(len(body) + 1), f_len(14, b"unknown"))
        fields = head + body
        if self.chance():
            rng.shuffle(head)
            fields = body + head if self.chance() else head + body
        return b"".join(fields)


def corrupt(rng: random.Random, raw: bytes) -> bytes:
    data = bytearray(raw)
    action = rng.randrange(4)
    if not data or action == 0:
        return bytes(data) + bytes([rng.randrange(256)])
    i = rng.randrange(len(data))
    if action == 1:
        data[i] = rng.randrange(256)
    elif action == 2:
        del data[i:]
    else:
        data.insert(i, rng.randrange(256))
    return bytes(data)


def outcome(decode: Any, raws: list[bytes], impl: str) -> Any:
    try:
        return decode(raws, impl=impl)
    except PacketDecodeError as exc:
        return ("error", exc.packet_index)


def same(a: Any, b: Any) -> None:
    if isinstance(a, tuple) or isinstance(b, tuple):
        assert a == b
        return
    assert len(a) == len(b)
    for x, y in zip(a, b, strict=True):
        for name in x.__dataclass_fields__:
            u, v = getattr(x, name), getattr(y, name)
            if isinstance(u, np.ndarray):
                assert u.dtype == v.dtype and u.shape == v.shape, name
                if u.dtype == object:
                    assert [repr(e) for e in u.ravel()] == [repr(e) for e in v.ravel()], name
                else:
                    raw_u, raw_v = np.ascontiguousarray(u), np.ascontiguousarray(v)
                    assert np.array_equal(raw_u.view(np.uint8), raw_v.view(np.uint8)), name
            else:
                assert u == v, name


DECODERS = {"periodic": decode_periodic, "synchro": decode_synchro, "row": decode_row}


@pytest.mark.parametrize("impl", ACCELERATED)
@pytest.mark.parametrize("kind", list(DECODERS))
@pytest.mark.parametrize("odd", [0.0, 0.05, 0.3])
def test_liberties_decode_the_same_on_both_paths(impl: str, kind: str, odd: float) -> None:
    @SETTINGS
    @given(st.integers(0, 2**32), st.integers(1, 8))
    def check(seed: int, count: int) -> None:
        rng = random.Random(seed)
        writer = Writer(rng, odd)
        raws = [writer.packet(kind, rng.randrange(6), rng.randrange(4)) for _ in range(count)]
        same(outcome(DECODERS[kind], raws, impl), outcome(DECODERS[kind], raws, "reference"))

    check()


@pytest.mark.parametrize("impl", ACCELERATED)
@pytest.mark.parametrize("kind", list(DECODERS))
def test_corrupt_bytes_decode_the_same_or_fail_the_same(impl: str, kind: str) -> None:
    @SETTINGS
    @given(st.integers(0, 2**32), st.integers(1, 6), st.integers(1, 3))
    def check(seed: int, count: int, hits: int) -> None:
        rng = random.Random(seed)
        writer = Writer(rng, 0.02)
        raws = [writer.packet(kind, rng.randrange(5), rng.randrange(4)) for _ in range(count)]
        for _ in range(hits):
            i = rng.randrange(count)
            raws[i] = corrupt(rng, raws[i])
        same(outcome(DECODERS[kind], raws, impl), outcome(DECODERS[kind], raws, "reference"))

    check()


def _canonical_periodic(values: list[float], status: list[int]) -> bytes:
    records = b""
    for v, s in zip(values, status, strict=True):
        payload = (
            key(1, 1) + struct.pack("<d", v) if struct.pack("<d", v) != bytes(8) else b""
        ) + (f_varint(2, s) if s else b"")
        records += f_len(1, payload)
    return f_len(1, f_varint(1, 7)) + f_i64(2, 1000) + f_varint(3, 10) + f_len(4, f_len(1, records))


def test_fallback_is_per_packet_and_counted() -> None:
    good = _canonical_periodic([1.0, 0.0, 2.0], [1, 2, 0])
    padded_status = good.replace(b"\x10\x02", b"\x10\x82\x00")
    padded_status = padded_status.replace(b"\x0a\x02\x10\x82\x00", b"\x0a\x03\x10\x82\x00")
    odd = f_len(1, f_varint(1, 7)) + f_i64(2, 1000) + f_varint(3, 10)
    odd += f_len(4, f_len(1, f_len(1, key(2, 0) + b"\x82\x00")))  # 2-byte status varint
    raws = [good, odd, good, f_i64(2, 5) + good]  # the last repeats start_time
    stats = DecodeStats()
    # The NumPy parser declines the 2-byte status; the native one reads it itself.
    fast = decode_periodic(raws, impl="numpy", stats=stats)
    same(fast, decode_periodic(raws, impl="reference"))
    assert stats.fast_packets == 2
    assert stats.fallback_packets == 2
    assert stats.fallback_reasons == {"samples": 1, "duplicate": 1}
    assert fast[1].status.tolist() == [[2]]
    assert fast[3].start_time_ns == 1000


def test_malformed_packet_error_names_its_index() -> None:
    good = _canonical_periodic([1.0], [1])
    for impl in available_implementations():
        with pytest.raises(PacketDecodeError, match=r"^packet 2: not a valid PeriodicDataPacket"):
            decode_periodic([good, good, good[:-3], good[:-1]], impl=impl)


def test_unrepresentable_content_errors_name_their_index() -> None:
    good = _canonical_periodic([1.0, 2.0], [1, 1])
    cases = {
        "status 200 is outside": _canonical_periodic([1.0], [200]),
        "start_time exceeds int64": good.replace(f_i64(2, 1000), f_i64(2, 2**63)),
        "columns have different lengths": good + f_len(4, f_len(1, f_len(1, b""))),
    }
    for message, bad in cases.items():
        for impl in available_implementations():
            with pytest.raises(PacketDecodeError, match=f"packet 1: .*{message}"):
                decode_periodic([good, bad], impl=impl)


def test_skip_mode_leaves_bad_packets_out() -> None:
    good = _canonical_periodic([1.0, 2.0], [1, 1])
    stats = DecodeStats()
    batches = decode_periodic_batch([good, good[:-1], good], errors="skip", stats=stats)
    assert [b.packet_indices.tolist() for b in batches] == [[0, 2]]
    assert stats.skipped_packets == 1
    assert stats.errors[0].packet_index == 1
    assert batches[0].values.tolist() == [[1.0, 2.0, 1.0, 2.0]]

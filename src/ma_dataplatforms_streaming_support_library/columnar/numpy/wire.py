"""Vectorised protobuf wire primitives: varints and lock-step field scanning."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ...arrays import BoolArray, I64Array, U8Array, U64Array
from .._batch import concat_ranges

__all__ = [
    "WIRE_I32",
    "WIRE_I64",
    "WIRE_LEN",
    "WIRE_VARINT",
    "FieldTable",
    "decode_packed_varints",
    "read_varint",
    "read_varints",
    "scan_fields",
]


WIRE_VARINT = 0
WIRE_I64 = 1
WIRE_LEN = 2
WIRE_I32 = 5

# Below this many unfinished messages a lock-step numpy iteration costs more than walking the
# remaining fields in Python (one iteration is ~20 numpy calls).
_PYTHON_TAIL = 4


def read_varints(buf: U8Array, pos: I64Array) -> tuple[U64Array, I64Array]:
    """The varints starting at ``pos``: ``(values, byte lengths)``; length 0 marks one that is
    longer than 10 bytes or whose 10th byte overflows 64 bits (the reference path decides those).
    """
    first = buf[pos]
    values = (first & 0x7F).astype(np.uint64)
    lengths = np.ones(pos.size, dtype=np.int64)
    more = np.flatnonzero(first >= 0x80)
    k = 1
    while more.size and k < 10:
        b = buf[pos[more] + k]
        values[more] |= (b & 0x7F).astype(np.uint64) << np.uint64(7 * k)
        lengths[more] += 1
        if k == 9:
            lengths[more[b > 1]] = 0
        more = more[b >= 0x80]
        k += 1
    lengths[more] = 0
    return values, lengths


@dataclass(frozen=True, eq=False)
class FieldTable:
    """The fields of many messages, ordered by (message, position).

    ``start``/``end`` bound the payload: the value bytes of VARINT, I64 and I32 fields, the
    content of LEN fields. ``varint`` holds VARINT values (0 for other wire types).
    ``malformed[m]`` says message ``m`` could not be walked (the reference path must decide).
    """

    message: I64Array
    number: I64Array
    wire_type: I64Array
    start: I64Array
    end: I64Array
    varint: U64Array
    malformed: BoolArray


def scan_fields(data: bytes, starts: I64Array, ends: I64Array) -> FieldTable:
    """Walk the fields of every message ``data[starts[i]:ends[i]]`` in lock-step: one numpy step
    per field index, so the cost grows with the field count of the longest message, not the
    number of messages. ``data`` must extend PAD bytes past every message.

    Groups (wire types 3, 4) and the invalid wire types 6, 7 mark the message malformed.
    """
    buf = np.frombuffer(data, dtype=np.uint8)
    count = starts.size
    malformed = np.zeros(count, dtype=np.bool_)
    cursor = starts.copy()
    active = np.flatnonzero(cursor < ends)
    parts: list[tuple[I64Array, ...]] = []
    varint_parts: list[U64Array] = []
    while active.size > _PYTHON_TAIL:
        pos = cursor[active]
        end = ends[active]
        tag, tag_len = read_varints(buf, pos)
        wire = (tag & np.uint64(7)).astype(np.int64)
        number = (tag >> np.uint64(3)).astype(np.int64)
        payload = pos + tag_len
        bad = (tag_len == 0) | (number == 0) | (tag >= np.uint64(1 << 32))
        value, value_len = read_varints(buf, payload)
        is_varint = wire == WIRE_VARINT
        is_len = wire == WIRE_LEN
        stop = payload.copy()
        stop[is_varint] += value_len[is_varint]
        stop[wire == WIRE_I64] += 8
        stop[wire == WIRE_I32] += 4
        bad |= ((is_varint | is_len) & (value_len == 0)) | ((wire > 2) & (wire != WIRE_I32))
        # Compare lengths before adding them: a corrupt length may not even fit in int64.
        room = (end - payload - value_len).clip(min=0).astype(np.uint64)
        bad |= is_len & (value > room)
        start = payload.copy()
        start[is_len] += value_len[is_len]
        stop[is_len] = start[is_len] + value[is_len].astype(np.int64)
        bad |= stop > end
        good = ~bad
        value[~is_varint] = 0
        parts.append((active[good], number[good], wire[good], start[good], stop[good]))
        varint_parts.append(value[good])
        malformed[active[bad]] = True
        cursor[active] = stop
        active = active[good & (stop < end)]
    if active.size:
        tail, tail_varints = _scan_tail(data, active, cursor, ends)
        malformed[tail[-1]] = True
        parts.append(tail[:-1])
        varint_parts.append(tail_varints)
    if not parts:
        empty = np.zeros(0, dtype=np.int64)
        return FieldTable(empty, empty, empty, empty, empty, np.zeros(0, np.uint64), malformed)
    columns = [np.concatenate(c) for c in zip(*parts, strict=True)]
    varints = np.concatenate(varint_parts)
    order = np.argsort(columns[0], kind="stable")
    msg, number, wire, start, stop = (c[order] for c in columns)
    return FieldTable(msg, number, wire, start, stop, varints[order], malformed)


def read_varint(data: bytes, pos: int) -> tuple[int, int]:
    """``(value, next position)``; next position -1 when invalid (same rule as read_varints)."""
    value = 0
    for k in range(10):
        if pos + k >= len(data):
            return 0, -1
        b = data[pos + k]
        if k == 9 and b > 1:
            return 0, -1
        value |= (b & 0x7F) << (7 * k)
        if b < 0x80:
            return value & 0xFFFFFFFFFFFFFFFF, pos + k + 1
    return 0, -1


def _scan_tail(
    data: bytes, active: I64Array, cursor: I64Array, ends: I64Array
) -> tuple[tuple[I64Array, ...], U64Array]:
    """The few messages left by scan_fields, walked in Python; returns its columns + malformed."""
    rows: list[tuple[int, int, int, int, int]] = []
    values: list[int] = []
    bad: list[int] = []
    for m in active.tolist():
        pos, end = int(cursor[m]), int(ends[m])
        while pos < end:
            tag, pos = read_varint(data, pos)
            number, wire = tag >> 3, tag & 7
            if pos < 0 or number == 0 or tag >= 1 << 32:
                bad.append(m)
                break
            value = 0
            if wire == WIRE_VARINT:
                value, stop = read_varint(data, pos)
                start = pos
            elif wire == WIRE_LEN:
                length, start = read_varint(data, pos)
                stop = start + length if start >= 0 else -1
            elif wire in (WIRE_I64, WIRE_I32):
                start, stop = pos, pos + (8 if wire == WIRE_I64 else 4)
            else:
                stop = -1
            if stop < 0 or stop > end:
                bad.append(m)
                break
            rows.append((m, number, wire, start, stop))
            values.append(value)
            pos = stop
    table = np.array(rows, dtype=np.int64).reshape(-1, 5)
    columns = tuple(np.ascontiguousarray(table[:, i]) for i in range(5))
    return (*columns, np.array(bad, dtype=np.int64)), np.array(values, dtype=np.uint64)


def decode_packed_varints(
    buf: U8Array, starts: I64Array, ends: I64Array
) -> tuple[U64Array, I64Array, BoolArray]:
    """Decode packed varint payloads: ``(values of all spans in order, count per span, bad)``.

    A span is bad when it ends inside a varint or holds one longer than 10 bytes.
    """
    lengths = ends - starts
    nonempty = lengths > 0
    bad = np.zeros(starts.size, dtype=np.bool_)
    bad[nonempty] = buf[ends[nonempty] - 1] >= 0x80
    if bad.any():
        # A span cut inside a varint would run into the next span: decode only the others.
        good = ~bad
        values, good_counts, good_bad = decode_packed_varints(buf, starts[good], ends[good])
        counts = np.zeros(starts.size, dtype=np.int64)
        counts[good] = good_counts
        bad[good] = good_bad
        return values, counts, bad
    pos = concat_ranges(starts, lengths)
    raw = buf[pos]
    last = raw < 0x80
    span_of_byte = np.repeat(np.arange(starts.size, dtype=np.int64), lengths)
    closes = np.flatnonzero(last)
    opens = np.concatenate(([0], closes[:-1] + 1)) if closes.size else closes
    width = closes - opens + 1
    too_long = width > 10
    ten = width == 10
    too_long[ten] |= raw[closes[ten]] > 1
    if too_long.any():
        bad[span_of_byte[closes[too_long]]] = True
    shift = (np.arange(pos.size, dtype=np.int64) - np.repeat(opens, width)) * 7
    shift = np.minimum(shift, 63).astype(np.uint64)
    contrib = (raw & 0x7F).astype(np.uint64) << shift
    values = np.bitwise_or.reduceat(contrib, opens) if opens.size else contrib[:0]
    counts = np.bincount(span_of_byte[closes], minlength=starts.size).astype(np.int64)
    return values, counts, bad

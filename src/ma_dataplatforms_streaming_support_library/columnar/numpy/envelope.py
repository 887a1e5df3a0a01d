"""``Packet`` envelopes read in bulk with the lock-step field scanner."""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

from ...arrays import BoolArray, I64Array, U8Array
from .._batch import ContentBatch
from .._fallback import Decline
from .._parsed import PacketEnvelopes
from .wire import WIRE_LEN, WIRE_VARINT, scan_fields

__all__ = ["scan_envelopes"]

_EXPECTED_WIRE = {1: WIRE_LEN, 2: WIRE_LEN, 3: WIRE_VARINT, 4: WIRE_LEN, 5: WIRE_VARINT}
_DISTINCT_STRINGS = 8


def _strings(data: bytes, starts: I64Array, ends: I64Array, declined: BoolArray) -> list[str]:
    """The UTF-8 strings ``data[starts[i]:ends[i]]``; packets with invalid UTF-8 are declined.

    A batch holds few distinct types and session keys, so each distinct value is matched
    against all packets with one vectorised byte comparison per character instead of one
    slice and decode per packet; past a few distinct values the rest is decoded one by one.
    """
    n = starts.size
    out: list[str] = [""] * n
    buf = np.frombuffer(data, dtype=np.uint8)
    lengths = ends - starts
    pending = np.flatnonzero(lengths > 0)
    for _ in range(_DISTINCT_STRINGS):
        if pending.size == 0:
            return out
        first = int(pending[0])
        raw = data[starts[first] : ends[first]]
        same = pending[lengths[pending] == len(raw)]
        for offset, byte in enumerate(raw):
            same = same[buf[starts[same] + offset] == byte]
        try:
            text = raw.decode("utf-8")  # strict, as protobuf is for proto3 strings
        except UnicodeDecodeError:
            declined[same] = True
            text = ""
        for i in same.tolist():
            out[i] = text
        pending = pending[np.isin(pending, same, assume_unique=True, invert=True)]
    for i in pending.tolist():
        try:
            out[i] = data[starts[i] : ends[i]].decode("utf-8")
        except UnicodeDecodeError:
            declined[i] = True
    return out


def scan_envelopes(batch: ContentBatch) -> tuple[PacketEnvelopes, U8Array]:
    """Every envelope of the batch, and a nonzero ``Decline`` for those the reference path
    must read again (malformed, duplicated or mistyped fields, invalid UTF-8)."""
    data = batch.buffer
    n = len(batch)
    table = scan_fields(data, batch.starts, batch.ends)
    declined = table.malformed.copy()
    for number, wire in _EXPECTED_WIRE.items():
        rows = table.number == number
        declined[table.message[rows & (table.wire_type != wire)]] = True
        declined[np.bincount(table.message[rows], minlength=n) > 1] = True
    fields: dict[int, tuple[I64Array, I64Array, npt.NDArray[np.uint64]]] = {}
    for number in _EXPECTED_WIRE:
        rows = np.flatnonzero(table.number == number)
        start = np.zeros(n, np.int64)
        end = np.zeros(n, np.int64)
        value = np.zeros(n, np.uint64)
        start[table.message[rows]] = table.start[rows]
        end[table.message[rows]] = table.end[rows]
        value[table.message[rows]] = table.varint[rows]
        fields[number] = (start, end, value)
    types = _strings(data, fields[1][0], fields[1][1], declined)
    keys = _strings(data, fields[2][0], fields[2][1], declined)
    envelopes = PacketEnvelopes(
        tuple(types),
        tuple(keys),
        fields[3][2] != 0,
        fields[5][2],
        ContentBatch(data, fields[4][0], fields[4][1]),
    )
    return envelopes, declined.astype(np.uint8) * np.uint8(Decline.ENVELOPE)

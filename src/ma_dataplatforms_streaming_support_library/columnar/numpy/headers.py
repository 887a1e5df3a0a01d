"""Vectorised header peek: data format and time range of sample packets, samples left unread."""

from __future__ import annotations

import numpy as np

from ...arrays import I64Array, U8Array, U64Array
from .._batch import ContentBatch, unaligned_view
from .._fallback import Decline
from .._parsed import PacketKind
from .._shape import segment_sums
from .samples import _decline, _formats, _rows, _singular, _times
from .wire import WIRE_I64, WIRE_LEN, WIRE_VARINT, FieldTable, scan_fields

__all__ = ["peek_fast"]

_U32 = np.uint64(0xFFFFFFFF)
_I64_MAX = np.iinfo(np.int64).max


def peek_fast(
    batch: ContentBatch, kind: PacketKind
) -> tuple[U8Array, U8Array, U64Array, dict[int, tuple[str, ...]], I64Array, I64Array]:
    """``(reasons, format kinds, format ids, format lists, first ns, last ns)`` per packet; a
    packet with a nonzero reason could not be peeked. A periodic packet's last time is an upper
    bound (its samples are not counted, only the bytes of its first column)."""
    data, n = batch.buffer, len(batch)
    reasons = np.zeros(n, np.uint8)
    packets = np.arange(n, dtype=np.int64)
    top = scan_fields(data, batch.starts, batch.ends)
    _decline(reasons, np.flatnonzero(top.malformed), Decline.MALFORMED)
    fmt_rows = _rows(top, 1, WIRE_LEN, reasons, packets)
    _singular(top, fmt_rows, reasons, packets)
    kinds, ids, lists = _formats(data, top, fmt_rows, n, reasons)
    if kind is PacketKind.ROW:
        first, last = _row_range(data, top, reasons)
        return reasons, kinds, ids, lists, first, last
    rows = _rows(top, 2, WIRE_I64, reasons, packets)
    _singular(top, rows, reasons, packets)
    start = np.zeros(n, np.uint64)
    start[top.message[rows]] = unaligned_view(data, "<u8")[top.start[rows]]
    _decline(reasons, np.flatnonzero(start > _I64_MAX), Decline.MALFORMED)
    first = np.where(start > _I64_MAX, 0, start).astype(np.int64)
    if kind is PacketKind.SYNCHRO:
        counts, intervals = _times(data, top, kind, reasons)
        offsets = np.zeros(n + 1, np.int64)
        np.cumsum(counts, out=offsets[1:])
        span = segment_sums(intervals.astype(np.int64), offsets)
    else:
        span = _periodic_span(top, reasons, packets)
    room = _I64_MAX - first
    if kind is PacketKind.SYNCHRO:  # exact there: past int64 is the decoder's error to report
        _decline(reasons, np.flatnonzero(span > room), Decline.MALFORMED)
    return reasons, kinds, ids, lists, first, first + np.minimum(span, room)


def _periodic_span(top: FieldTable, reasons: U8Array, packets: I64Array) -> I64Array:
    """An upper bound of ``(samples - 1) * interval``: a sample takes at least two bytes."""
    n = packets.size
    interval_rows = _rows(top, 3, WIRE_VARINT, reasons, packets)
    _singular(top, interval_rows, reasons, packets)
    interval = np.zeros(n, np.int64)
    interval[top.message[interval_rows]] = (top.varint[interval_rows] & _U32).astype(np.int64)
    columns = _rows(top, 4, WIRE_LEN, reasons, packets)
    owners, first_column = np.unique(top.message[columns], return_index=True)
    samples = np.zeros(n, np.int64)
    samples[owners] = (top.end[columns] - top.start[columns])[first_column] // 2
    steps = np.maximum(samples - 1, 0)
    # steps * interval, saturating at int64 (both are far below 2**32 and 2**63 / 2**32).
    limit = _I64_MAX // np.maximum(interval, 1)
    return np.where(steps > limit, _I64_MAX, steps * interval)


def _row_range(data: bytes, top: FieldTable, reasons: U8Array) -> tuple[I64Array, I64Array]:
    n = reasons.size
    counts, stamps = _times(data, top, PacketKind.ROW, reasons)
    first = np.zeros(n, np.int64)
    last = np.zeros(n, np.int64)
    filled = np.flatnonzero(counts > 0)
    if filled.size:
        heads = (np.cumsum(counts) - counts)[filled]
        low = np.minimum.reduceat(stamps, heads)
        high = np.maximum.reduceat(stamps, heads)
        _decline(reasons, filled[high > _I64_MAX], Decline.MALFORMED)
        first[filled] = np.where(high > _I64_MAX, 0, low).astype(np.int64)
        last[filled] = np.where(high > _I64_MAX, 0, high).astype(np.int64)
    return first, last

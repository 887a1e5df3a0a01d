"""Build the public results from parsed packets: one block per packet, or one per data format."""

from __future__ import annotations

from typing import cast

import numpy as np

from ..arrays import I8Array, I64Array, U8Array
from ._batch import concat_ranges
from ._parsed import FORMAT_ID, FORMAT_LIST, PacketKind, ParsedPackets
from ._shape import Shapes
from .model import (
    ColumnKind,
    DataFormatKey,
    FormatBatch,
    PeriodicPacketArrays,
    RowPacketArrays,
    SynchroPacketArrays,
    ValuesArray,
)

__all__ = ["PacketArrays", "format_batches", "packet_arrays"]

PacketArrays = PeriodicPacketArrays | SynchroPacketArrays | RowPacketArrays

_KINDS_CACHE: dict[bytes, tuple[ColumnKind, ...]] = {}


def _kinds(raw: U8Array) -> tuple[ColumnKind, ...]:
    key = raw.tobytes()
    found = _KINDS_CACHE.get(key)
    if found is None:
        found = tuple(ColumnKind(k) for k in raw.tolist())
        if len(_KINDS_CACHE) < 4096:
            _KINDS_CACHE[key] = found
    return found


def _common(kinds: tuple[ColumnKind, ...], count: int) -> tuple[ColumnKind, ...]:
    """Per-parameter kinds of a row packet: the rows' kind if they agree, else MIXED."""
    if count == 0 or not kinds:
        return ()
    first = kinds[0]
    return (first if all(k == first for k in kinds) else ColumnKind.MIXED,) * count


def data_format_of(parsed: ParsedPackets, p: int) -> DataFormatKey:
    kind = int(parsed.format_kinds[p])
    if kind == FORMAT_ID:
        return int(parsed.format_ids[p])
    if kind == FORMAT_LIST:
        return parsed.format_lists[p]
    return None


class _Lookup:
    """Per-packet and per-list numbers as Python lists: indexing a numpy array for one scalar
    costs ~100 ns, which dominates when there are many small packets."""

    def __init__(self, parsed: ParsedPackets, shapes: Shapes) -> None:
        self.parsed = parsed
        self.params: list[int] = shapes.params.tolist()
        self.points: list[int] = shapes.points.tolist()
        self.list_offsets: list[int] = parsed.list_offsets.tolist()
        self.sample_offsets: list[int] = parsed.sample_offsets.tolist()
        self.time_offsets: list[int] = shapes.time_offsets.tolist()
        self.format_kinds: list[int] = parsed.format_kinds.tolist()
        self.format_ids: list[int] = parsed.format_ids.tolist()

    def data_format(self, p: int) -> DataFormatKey:
        kind = self.format_kinds[p]
        if kind == FORMAT_ID:
            return self.format_ids[p]
        if kind == FORMAT_LIST:
            return self.parsed.format_lists[p]
        return None


def _block(look: _Lookup, kind: PacketKind, p: int) -> tuple[ValuesArray, I8Array]:
    """``(values, status)`` of packet ``p`` as ``params x points`` (views where possible)."""
    parsed = look.parsed
    k, n = look.params[p], look.points[p]
    first_list = look.list_offsets[p]
    text: list[int] = []
    if parsed.strings:
        lists = range(first_list, first_list + (n if kind is PacketKind.ROW else k))
        text = [j for j in lists if j in parsed.strings]
    if k * n == 0:
        empty = np.zeros((k, n), object if text else np.float64)
        return empty, np.zeros((k, n), np.int8)
    a = look.sample_offsets[first_list]
    values, status = parsed.values[a : a + k * n], parsed.status[a : a + k * n]
    if kind is PacketKind.ROW:
        values, status = values.reshape(n, k).T, status.reshape(n, k).T
    else:
        values, status = values.reshape(k, n), status.reshape(k, n)
    if not text:
        return values, status
    mixed = values.astype(object)
    for j in text:
        if kind is PacketKind.ROW:
            mixed[:, j - first_list] = parsed.strings[j]
        else:
            mixed[j - first_list] = parsed.strings[j]
    return mixed, status


def packet_arrays(
    parsed: ParsedPackets, shapes: Shapes, kind: PacketKind, packets: I64Array
) -> list[PacketArrays]:
    """One result object per packet in ``packets``; arrays are views of the batch arrays."""
    out: list[PacketArrays] = []
    look = _Lookup(parsed, shapes)
    ts, toff = shapes.timestamps, look.time_offsets
    starts: list[int] = parsed.start_ns.tolist()
    intervals: list[int] = parsed.interval_ns.tolist()
    for p in packets.tolist():
        values, status = _block(look, kind, p)
        timestamps = ts[toff[p] : toff[p + 1]]
        first_list = look.list_offsets[p]
        fmt = look.data_format(p)
        if kind is PacketKind.ROW:
            rows = _kinds(parsed.list_kinds[first_list : look.list_offsets[p + 1]])
            common = _common(rows, values.shape[0])
            out.append(RowPacketArrays(fmt, rows, common, timestamps, values, status))
            continue
        kinds = _kinds(parsed.list_kinds[first_list : first_list + values.shape[0]])
        if kind is PacketKind.PERIODIC:
            out.append(
                PeriodicPacketArrays(
                    fmt, starts[p], intervals[p], kinds, timestamps, values, status
                )
            )
        else:
            gaps = parsed.times[parsed.time_offsets[p] : parsed.time_offsets[p + 1]]
            out.append(
                SynchroPacketArrays(
                    fmt, starts[p], gaps.astype(np.int64), kinds, timestamps, values, status
                )
            )
    return out


def _groups(parsed: ParsedPackets, shapes: Shapes, packets: I64Array) -> list[I64Array]:
    """``packets`` split by (data format, parameter count), groups in order of first packet."""
    if packets.size == 0:
        return []
    codes: dict[tuple[str, ...], int] = {}
    list_code = np.zeros(packets.size, np.uint64)
    if parsed.format_lists:
        for i, p in enumerate(packets.tolist()):
            fmt = parsed.format_lists.get(p)
            if fmt is not None:
                list_code[i] = codes.setdefault(fmt, len(codes))
    keys = np.stack(
        [
            parsed.format_kinds[packets].astype(np.uint64),
            parsed.format_ids[packets],
            list_code,
            shapes.params[packets].astype(np.uint64),
        ],
        axis=1,
    )
    if np.all(keys == keys[0]):
        return [packets]
    _, first, inverse = np.unique(keys, axis=0, return_index=True, return_inverse=True)
    inverse = inverse.reshape(-1)
    order = np.argsort(first, kind="stable")
    return [packets[inverse == g] for g in order.tolist()]


def format_batches(
    parsed: ParsedPackets, shapes: Shapes, kind: PacketKind, packets: I64Array
) -> list[FormatBatch]:
    """The ``packets`` grouped by data format and parameter count, each group's blocks
    concatenated along time into one contiguous row per parameter."""
    return [_batch(parsed, shapes, kind, g) for g in _groups(parsed, shapes, packets)]


def _batch(parsed: ParsedPackets, shapes: Shapes, kind: PacketKind, g: I64Array) -> FormatBatch:
    k = int(shapes.params[g[0]])
    n = shapes.points[g]
    total = int(n.sum())
    everything = g.size == len(parsed) and total * k == parsed.values.size
    if everything:
        timestamps = shapes.timestamps
    else:
        timestamps = shapes.timestamps[concat_ranges(shapes.time_offsets[g], n)]
    first_lists = parsed.list_offsets[g]
    heads = parsed.sample_offsets[first_lists]
    list_count = n if kind is PacketKind.ROW else np.full(g.size, k, np.int64)
    list_kinds = parsed.list_kinds[concat_ranges(first_lists, list_count)]
    if kind is PacketKind.ROW:
        row_kinds = np.unique(list_kinds)
        common = ColumnKind(int(row_kinds[0])) if row_kinds.size == 1 else ColumnKind.MIXED
        kinds: tuple[ColumnKind, ...] = (common,) * k
    else:
        per_column = list_kinds.reshape(g.size, k)
        same = np.all(per_column == per_column[:1], axis=0)
        kinds = tuple(
            ColumnKind(c) if s else ColumnKind.MIXED
            for c, s in zip(per_column[0].tolist(), same.tolist(), strict=True)
        )
    has_text = bool(parsed.strings) and bool(np.any(list_kinds == ColumnKind.STRING))
    if has_text:
        look = _Lookup(parsed, shapes)
        blocks = [_block(look, kind, p) for p in g.tolist()]
        values: ValuesArray = np.concatenate([b[0] for b in blocks], axis=1).astype(object)
        status = np.concatenate([b[1] for b in blocks], axis=1)
    elif k == 0 or total == 0:
        values, status = np.zeros((k, total), np.float64), np.zeros((k, total), np.int8)
    else:
        values, status = _gather(parsed, kind, heads, n, k, everything)
    fmt = data_format_of(parsed, int(g[0]))
    # Each parameter's series must be one contiguous row, whatever path built it.
    contiguous = cast(ValuesArray, np.ascontiguousarray(values))
    return FormatBatch(fmt, g, kinds, timestamps, contiguous, np.ascontiguousarray(status))


def _gather(
    parsed: ParsedPackets, kind: PacketKind, heads: I64Array, n: I64Array, k: int, everything: bool
) -> tuple[ValuesArray, I8Array]:
    """Samples of packets starting at ``heads`` (each ``k x n[i]``) as ``k x sum(n)`` arrays."""
    if everything:
        values, status = parsed.values, parsed.status
    else:
        take = concat_ranges(heads, n * k)
        values, status = parsed.values[take], parsed.status[take]
    if kind is PacketKind.ROW:
        return values.reshape(-1, k).T, status.reshape(-1, k).T
    if np.all(n == n[0]):
        # Packet-major (packet, parameter, point) to parameter-major in one strided copy.
        shape = (n.size, k, int(n[0]))
        return (
            values.reshape(shape).transpose(1, 0, 2).reshape(k, -1),
            status.reshape(shape).transpose(1, 0, 2).reshape(k, -1),
        )
    local = np.cumsum(n * k) - n * k
    rows = [concat_ranges(local + i * n, n) for i in range(k)]
    index = np.stack(rows)
    return values[index], status[index]

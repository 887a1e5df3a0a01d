"""Sample packets: vectorised walk of the packet structure plus the record-chain sample decoder.

It declines, per packet, whatever it cannot prove it reads exactly as protobuf would (see
``Decline``); those packets are then decoded by the reference path.
"""

from __future__ import annotations

import functools

import numpy as np

from ...arrays import F64Array, I8Array, I64Array, ObjArray, U8Array, U64Array
from ...protos import open_data_pb2 as pb
from ...protos.packets import parse_message
from .._batch import ContentBatch, concat_ranges, unaligned_view
from .._fallback import Decline
from .._parsed import FORMAT_ID, FORMAT_LIST, PacketKind, ParsedPackets, offsets_of
from ..model import ColumnKind
from .records import decode_sample_lists
from .wire import (
    WIRE_I64,
    WIRE_LEN,
    WIRE_VARINT,
    FieldTable,
    decode_packed_varints,
    scan_fields,
)

__all__ = ["parse_fast"]

_U32 = np.uint64(0xFFFFFFFF)


def _decline(reasons: U8Array, packets: I64Array, why: Decline) -> None:
    """Record ``why`` for packets not declined yet (the first reason is kept)."""
    if packets.size:
        current = reasons[packets]
        reasons[packets] = np.where(current == 0, np.uint8(why), current)


def _rows(
    table: FieldTable, number: int, wire: int, reasons: U8Array, owners: I64Array
) -> I64Array:
    """Rows of field ``number``; owners of rows with another wire type are declined."""
    rows = table.number == number
    wrong = rows & (table.wire_type != wire)
    if wrong.any():
        _decline(reasons, owners[table.message[wrong]], Decline.WIRE_TYPE)
    return np.flatnonzero(rows & ~wrong)


def _singular(table: FieldTable, rows: I64Array, reasons: U8Array, owners: I64Array) -> None:
    counts = np.bincount(table.message[rows], minlength=owners.size)
    _decline(reasons, owners[counts > 1], Decline.DUPLICATE)


@functools.lru_cache(maxsize=4096)
def _parameter_list(raw: bytes) -> tuple[str, ...] | None:
    """The identifiers of a ParameterList, or None when protobuf rejects it (bad UTF-8)."""
    parsed = parse_message(pb.ParameterList, raw)
    return None if parsed is None else tuple(parsed.parameter_identifiers)


def parse_fast(batch: ContentBatch, kind: PacketKind) -> tuple[ParsedPackets, U8Array]:
    """Parse every packet; packets with a nonzero ``Decline`` in the second result hold
    unspecified content and must be parsed again by the reference path."""
    data = batch.buffer
    n = len(batch)
    reasons = np.zeros(n, np.uint8)
    packets = np.arange(n, dtype=np.int64)
    top = scan_fields(data, batch.starts, batch.ends)
    _decline(reasons, np.flatnonzero(top.malformed), Decline.MALFORMED)

    fmt_rows = _rows(top, 1, WIRE_LEN, reasons, packets)
    _singular(top, fmt_rows, reasons, packets)
    kinds, ids, lists = _formats(data, top, fmt_rows, n, reasons)

    start_ns = np.zeros(n, np.uint64)
    interval_ns = np.zeros(n, np.int64)
    if kind is not PacketKind.ROW:
        rows = _rows(top, 2, WIRE_I64, reasons, packets)
        _singular(top, rows, reasons, packets)
        start_ns[top.message[rows]] = unaligned_view(data, "<u8")[top.start[rows]]
    if kind is PacketKind.PERIODIC:
        rows = _rows(top, 3, WIRE_VARINT, reasons, packets)
        _singular(top, rows, reasons, packets)
        interval_ns[top.message[rows]] = (top.varint[rows] & _U32).astype(np.int64)
    time_counts, times = _times(data, top, kind, reasons)

    list_rows = _rows(top, kind.lists_field, WIRE_LEN, reasons, packets)
    owners = top.message[list_rows]
    list_counts = np.bincount(owners, minlength=n).astype(np.int64)
    list_kinds, counts, values, status, strings = _lists(
        data, top.start[list_rows], top.end[list_rows], owners, reasons
    )
    parsed = ParsedPackets(
        format_kinds=kinds,
        format_ids=ids,
        format_lists=lists,
        start_ns=start_ns,
        interval_ns=interval_ns,
        time_offsets=offsets_of(time_counts),
        times=times,
        list_offsets=offsets_of(list_counts),
        list_kinds=list_kinds,
        sample_offsets=offsets_of(counts),
        values=values,
        status=status,
        strings=strings,
    )
    return parsed, reasons


def _formats(
    data: bytes, top: FieldTable, rows: I64Array, n: int, reasons: U8Array
) -> tuple[U8Array, U64Array, dict[int, tuple[str, ...]]]:
    """Per packet: the SampleDataFormat oneof (kind, id) and explicit lists."""
    kinds = np.zeros(n, np.uint8)
    ids = np.zeros(n, np.uint64)
    lists: dict[int, tuple[str, ...]] = {}
    owners = top.message[rows]
    fields = scan_fields(data, top.start[rows], top.end[rows])
    _decline(reasons, owners[fields.malformed], Decline.MALFORMED)
    by_id = _rows(fields, 1, WIRE_VARINT, reasons, owners)
    by_list = _rows(fields, 2, WIRE_LEN, reasons, owners)
    members = np.bincount(fields.message[np.concatenate([by_id, by_list])], minlength=owners.size)
    _decline(reasons, owners[members > 1], Decline.ONEOF)
    kinds[owners[fields.message[by_id]]] = FORMAT_ID
    ids[owners[fields.message[by_id]]] = fields.varint[by_id]
    for row in by_list.tolist():
        packet = int(owners[fields.message[row]])
        identifiers = _parameter_list(data[fields.start[row] : fields.end[row]])
        if identifiers is None:
            _decline(reasons, np.array([packet]), Decline.TEXT)
            continue
        lists[packet] = identifiers
        kinds[packet] = FORMAT_LIST
    return kinds, ids, lists


def _times(
    data: bytes, top: FieldTable, kind: PacketKind, reasons: U8Array
) -> tuple[I64Array, U64Array]:
    """Per-packet counts and values of the packed times (synchro intervals, row timestamps)."""
    n = reasons.size
    number = kind.times_field
    if number is None:
        return np.zeros(n, np.int64), np.zeros(0, np.uint64)
    unpacked_wire = WIRE_VARINT if kind is PacketKind.SYNCHRO else WIRE_I64
    unpacked = (top.number == number) & (top.wire_type == unpacked_wire)
    _decline(reasons, top.message[unpacked], Decline.UNPACKED)
    top_rows = top.number == number
    top_rows &= ~unpacked
    wrong = top_rows & (top.wire_type != WIRE_LEN)
    _decline(reasons, top.message[wrong], Decline.WIRE_TYPE)
    rows = np.flatnonzero(top_rows & ~wrong)
    owners = top.message[rows]
    chunks = np.bincount(owners, minlength=n)
    _decline(reasons, np.flatnonzero(chunks > 1), Decline.UNPACKED)
    starts, ends = top.start[rows], top.end[rows]
    if kind is PacketKind.SYNCHRO:
        buf = np.frombuffer(data, dtype=np.uint8)
        values, counts, bad = decode_packed_varints(buf, starts, ends)
        _decline(reasons, owners[bad], Decline.MALFORMED)
        values &= _U32
    else:
        sizes = ends - starts
        _decline(reasons, owners[sizes % 8 != 0], Decline.MALFORMED)
        counts = sizes // 8
        offsets = concat_ranges(np.zeros(rows.size, np.int64), counts) * 8
        offsets += np.repeat(starts, counts)
        values = unaligned_view(data, "<u8")[offsets].astype(np.uint64)
    per_packet = np.bincount(owners, weights=counts, minlength=n).astype(np.int64)
    return per_packet, values


def _lists(
    data: bytes, starts: I64Array, ends: I64Array, owners: I64Array, reasons: U8Array
) -> tuple[U8Array, I64Array, F64Array, I8Array, dict[int, ObjArray]]:
    """Kinds, sample counts, values, statuses and string values of SampleColumn/SampleRow
    messages ``data[starts[j]:ends[j]]`` (owned by packet ``owners[j]``)."""
    fields = scan_fields(data, starts, ends)
    _decline(reasons, owners[fields.malformed], Decline.MALFORMED)
    member = (fields.number >= 1) & (fields.number <= 4)
    wrong = member & (fields.wire_type != WIRE_LEN)
    _decline(reasons, owners[fields.message[wrong]], Decline.WIRE_TYPE)
    member &= ~wrong
    rows = np.flatnonzero(member)
    per_list = np.bincount(fields.message[rows], minlength=starts.size)
    _decline(reasons, owners[per_list > 1], Decline.ONEOF)
    list_kinds = np.zeros(starts.size, np.uint8)
    list_kinds[fields.message[rows]] = fields.number[rows]
    span_start = np.zeros(starts.size, np.int64)
    span_end = np.zeros(starts.size, np.int64)
    span_start[fields.message[rows]] = fields.start[rows]
    span_end[fields.message[rows]] = fields.end[rows]

    counts = np.zeros(starts.size, np.int64)
    decoded = []
    for kind in (ColumnKind.DOUBLE, ColumnKind.INT32, ColumnKind.BOOL):
        sel = np.flatnonzero(list_kinds == kind)
        if sel.size == 0:
            continue
        out = decode_sample_lists(data, span_start[sel], span_end[sel], kind)
        _decline(reasons, owners[sel[out.bad]], Decline.SAMPLES)
        counts[sel] = out.counts
        decoded.append((sel, out.counts, out.values, out.status))
    strings: dict[int, ObjArray] = {}
    text = np.flatnonzero(list_kinds == ColumnKind.STRING)
    if text.size:
        decoded.append(_string_lists(data, text, span_start, span_end, owners, reasons, strings))
        counts[text] = decoded[-1][1]
    if len(decoded) == 1 and decoded[0][0].size == starts.size:
        return list_kinds, counts, decoded[0][2], decoded[0][3], strings
    offsets = offsets_of(counts)
    values = np.zeros(int(offsets[-1]), np.float64)
    status = np.zeros(int(offsets[-1]), np.int8)
    for sel, sel_counts, sel_values, sel_status in decoded:
        dest = concat_ranges(offsets[sel], sel_counts)
        values[dest] = sel_values
        status[dest] = sel_status
    return list_kinds, counts, values, status, strings


def _string_lists(
    data: bytes,
    lists: I64Array,
    span_start: I64Array,
    span_end: I64Array,
    owners: I64Array,
    reasons: U8Array,
    strings: dict[int, ObjArray],
) -> tuple[I64Array, I64Array, F64Array, I8Array]:
    """String lists go through protobuf (it validates UTF-8); values are NaN placeholders."""
    counts = np.zeros(lists.size, np.int64)
    status: list[int] = []
    for i, j in enumerate(lists.tolist()):
        parsed = parse_message(pb.StringSampleList, data[span_start[j] : span_end[j]])
        if parsed is None:
            _decline(reasons, owners[[j]], Decline.TEXT)
            continue
        samples = parsed.samples
        list_status = [s.status for s in samples]
        if list_status and not 0 <= min(list_status) <= max(list_status) <= 127:
            _decline(reasons, owners[[j]], Decline.SAMPLES)
            continue
        strings[j] = np.array([s.value for s in samples], dtype=object).reshape(-1)
        status.extend(list_status)
        counts[i] = len(list_status)
    total = int(counts.sum())
    return lists, counts, np.full(total, np.nan), np.array(status, dtype=np.int8)

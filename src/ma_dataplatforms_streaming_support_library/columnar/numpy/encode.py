"""Vectorised encoder: NumPy arrays of doubles to ``PeriodicDataPacket`` bytes, as protobuf writes them.

All packets of a call share one byte buffer assembled with scatters; every length prefix is
computed up front from the record sizes, which proto3 makes data dependent (a 0.0 value or an
UNSPECIFIED status is left off the wire; -0.0 is not 0.0 bit-wise and is written).
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

from ...arrays import I64Array, U8Array, U64Array
from .._batch import unaligned_view

__all__ = ["encode_columns"]


def _varint_sizes(values: U64Array) -> I64Array:
    sizes = np.ones(values.shape, np.int64)
    rest = values >> np.uint64(7)
    while rest.any():
        sizes += rest > 0
        rest >>= np.uint64(7)
    return sizes


def _put_varints(out: U8Array, pos: I64Array, values: U64Array) -> None:
    rest = values.copy()
    at = pos.copy()
    live = np.arange(values.size)
    while live.size:
        low = (rest[live] & np.uint64(0x7F)).astype(np.uint8)
        rest[live] >>= np.uint64(7)
        more = rest[live] > 0
        out[at[live]] = low | (more.astype(np.uint8) << 7)
        at[live] += 1
        live = live[more]


def encode_columns(
    vals: npt.NDArray[np.float64],
    stat: U8Array,
    starts: U64Array,
    intervals: I64Array,
    ids: U64Array | None,
    fmt_bytes: bytes,
) -> list[bytes]:
    """Serialized ``PeriodicDataPacket``s of double columns ``vals[p, c, k]`` with statuses
    ``stat`` (same shape, 0..127), per-packet start times and intervals (uint32), and either
    per-packet data-format ``ids`` or ``fmt_bytes``, the serialized data_format field of an
    explicit parameter list shared by all packets (arguments checked by the caller)."""
    packets, columns, samples = vals.shape
    if ids is not None:
        # 0A <len> 08 <varint id>: the oneof member is written even when it is 0.
        fmt_size = 3 + _varint_sizes(ids)
    else:
        fmt_size = np.full(packets, len(fmt_bytes), np.int64)
    has_value = vals.view(np.uint64) != 0
    has_status = stat != 0
    record = 2 + 9 * has_value + 2 * has_status
    list_size = record.sum(axis=2, dtype=np.int64)
    column_size = 1 + _varint_sizes(list_size.astype(np.uint64)) + list_size
    field_size = 1 + _varint_sizes(column_size.astype(np.uint64)) + column_size
    has_start = starts != 0
    has_interval = intervals != 0
    interval_size = np.where(has_interval, 1 + _varint_sizes(intervals.astype(np.uint64)), 0)
    header = fmt_size + 9 * has_start + interval_size
    # Pieces in wire order: each packet's header, then its columns.
    pieces = np.concatenate([header[:, None], field_size], axis=1).reshape(-1)
    piece_at = np.cumsum(pieces) - pieces
    total = int(pieces.sum())
    out = np.zeros(total + 16, np.uint8)
    packet_at = piece_at[:: columns + 1]

    if ids is not None:
        out[packet_at] = 0x0A
        out[packet_at + 1] = (fmt_size - 2).astype(np.uint8)
        out[packet_at + 2] = 0x08
        _put_varints(out, packet_at + 3, ids)
    else:
        out[(packet_at[:, None] + np.arange(len(fmt_bytes))).reshape(-1)] = np.tile(
            np.frombuffer(fmt_bytes, np.uint8), packets
        )
    at = packet_at + fmt_size
    with_start = np.flatnonzero(has_start)
    out[at[with_start]] = 0x11
    unaligned_view(out, "<u8")[at[with_start] + 1] = starts[with_start]
    at = at + 9 * has_start
    with_interval = np.flatnonzero(has_interval)
    out[at[with_interval]] = 0x18
    _put_varints(out, at[with_interval] + 1, intervals[with_interval].astype(np.uint64))

    column_at = piece_at.reshape(packets, columns + 1)[:, 1:].reshape(-1)
    column_size, list_size = column_size.reshape(-1), list_size.reshape(-1)
    out[column_at] = 0x22
    _put_varints(out, column_at + 1, column_size.astype(np.uint64))
    list_at = column_at + 1 + _varint_sizes(column_size.astype(np.uint64))
    out[list_at] = 0x0A
    _put_varints(out, list_at + 1, list_size.astype(np.uint64))
    records_at = list_at + 1 + _varint_sizes(list_size.astype(np.uint64))

    blob = out[:total].tobytes() if samples == 0 else _records(out, records_at, record, vals, stat)
    ends = np.append(packet_at[1:], total).tolist()
    return [blob[a:b] for a, b in zip(packet_at.tolist(), ends, strict=True)]


def _records(
    out: U8Array,
    records_at: I64Array,
    record: I64Array,
    vals: npt.NDArray[np.float64],
    stat: U8Array,
) -> bytes:
    """Write every DoubleSample record; ``record`` holds their sizes (packet, column, sample)."""
    samples = record.shape[-1]
    has_value = vals.view(np.uint64).reshape(-1) != 0
    has_status = stat.reshape(-1) != 0
    flat_record = record.reshape(-1)
    within = np.cumsum(flat_record) - flat_record
    pos = within + np.repeat(records_at - within[::samples], samples)
    out[pos] = 0x0A
    out[pos + 1] = flat_record - 2
    hv = np.flatnonzero(has_value)
    out[pos[hv] + 2] = 0x09
    unaligned_view(out, "<f8")[pos[hv] + 3] = vals.reshape(-1)[hv]
    hs = np.flatnonzero(has_status)
    status_at = pos[hs] + 2 + 9 * has_value[hs]
    out[status_at] = 0x10
    out[status_at + 1] = stat.reshape(-1)[hs]
    return out[: out.size - 16].tobytes()

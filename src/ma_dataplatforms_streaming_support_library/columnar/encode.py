"""Vectorised encoder: NumPy arrays of doubles to ``PeriodicDataPacket`` bytes, as protobuf writes them.

All packets of a call share one byte buffer assembled with scatters; every length prefix is
computed up front from the record sizes, which proto3 makes data dependent (a 0.0 value or an
UNSPECIFIED status is left off the wire; -0.0 is not 0.0 bit-wise and is written).
"""

from __future__ import annotations

import logging
from collections.abc import Sequence

import numpy as np
import numpy.typing as npt

from ..protos import open_data_pb2 as pb
from ._wire import I64Array, unaligned_view
from .envelope import wrap_packets

__all__ = ["encode_periodic", "encode_periodic_batch", "encode_periodic_packets"]

logger = logging.getLogger(__name__)

U64Array = npt.NDArray[np.uint64]
U8Array = npt.NDArray[np.uint8]


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


def _format_header(
    data_format: int | Sequence[str] | npt.ArrayLike, packets: int
) -> tuple[I64Array, U64Array | None, bytes]:
    """Sizes of the data_format field per packet, and its ids (or fixed bytes of a list)."""
    if isinstance(data_format, (list, tuple)) and all(isinstance(p, str) for p in data_format):
        fmt = pb.SampleDataFormat()
        fmt.parameter_identifiers.parameter_identifiers.extend(data_format)
        header = pb.PeriodicDataPacket(data_format=fmt).SerializeToString()
        return np.full(packets, len(header), np.int64), None, header
    ids = np.broadcast_to(np.asarray(data_format, dtype=np.uint64), (packets,))
    # 0A <len> 08 <varint id>: the oneof member is written even when it is 0.
    return 3 + _varint_sizes(ids), ids, b""


def encode_periodic_batch(
    values: npt.ArrayLike,
    status: npt.ArrayLike,
    *,
    start_times_ns: npt.ArrayLike,
    interval_ns: npt.ArrayLike,
    data_format: int | Sequence[str] | npt.ArrayLike,
) -> list[bytes]:
    """Serialized ``PeriodicDataPacket``s from ``values[p, c, k]`` (packet, column, sample).

    ``status`` (DataStatus numbers 0..127) broadcasts against ``values``; ``start_times_ns``,
    ``interval_ns`` and ``data_format`` (a data-format id, per-packet ids, or one explicit
    parameter list for all) broadcast over packets. Every column is a double column.
    """
    vals = np.ascontiguousarray(values, dtype=np.float64)
    if vals.ndim != 3:
        raise ValueError(f"values must be (packets, columns, samples), got shape {vals.shape}")
    packets, columns, samples = vals.shape
    if packets == 0:
        return []
    stat = np.broadcast_to(np.asarray(status), vals.shape)
    if stat.size and (stat.min() < 0 or stat.max() > 127):
        raise ValueError("status values must be DataStatus numbers in 0..127")
    stat = stat.astype(np.uint8)
    starts = np.broadcast_to(np.asarray(start_times_ns, dtype=np.uint64), (packets,))
    intervals = np.broadcast_to(np.asarray(interval_ns, dtype=np.int64), (packets,))
    if intervals.size and (intervals.min() < 0 or intervals.max() > 0xFFFFFFFF):
        raise ValueError("interval_ns must fit in uint32")
    fmt_size, ids, fmt_bytes = _format_header(data_format, packets)

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


def encode_periodic(
    values: npt.ArrayLike,
    status: npt.ArrayLike,
    *,
    start_time_ns: int,
    interval_ns: int,
    data_format: int | Sequence[str],
) -> bytes:
    """One ``PeriodicDataPacket`` from ``values[c, k]`` (column, sample) of doubles."""
    vals = np.asarray(values, dtype=np.float64)
    if vals.ndim == 1:
        vals = vals[None, :]
    stat = np.broadcast_to(np.asarray(status), vals.shape)
    return encode_periodic_batch(
        vals[None],
        stat[None],
        start_times_ns=start_time_ns,
        interval_ns=interval_ns,
        data_format=data_format,
    )[0]


def encode_periodic_packets(
    values: npt.ArrayLike,
    status: npt.ArrayLike,
    *,
    start_times_ns: npt.ArrayLike,
    interval_ns: npt.ArrayLike,
    data_format: int | Sequence[str] | npt.ArrayLike,
    session_key: str = "",
    first_id: int | None = None,
) -> list[bytes]:
    """Like encode_periodic_batch, each wrapped in a ``Packet`` of type ``PeriodicData``;
    ``first_id`` numbers the packets from it (the sample writer counts up from 0)."""
    contents = encode_periodic_batch(
        values,
        status,
        start_times_ns=start_times_ns,
        interval_ns=interval_ns,
        data_format=data_format,
    )
    ids = None if first_id is None else range(first_id, first_id + len(contents))
    return wrap_packets(contents, "PeriodicData", session_key=session_key, ids=ids)

"""Arrays of doubles to ``PeriodicDataPacket`` bytes, byte-identical to protobuf's serialization.

The native encoder writes them when the compiled extension is built and active, the NumPy one
otherwise (``MA_STREAMING_COLUMNAR=reference`` also picks the NumPy encoder: protobuf objects
are the reference for reading, not a writer anyone wants).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import numpy.typing as npt

from ..arrays import U64Array
from ..protos import open_data_pb2 as pb
from .envelope import envelope_head, wrap_packets
from .numpy.encode import encode_columns
from .parsers import native_encoder

__all__ = ["encode_periodic", "encode_periodic_batch", "encode_periodic_packets"]

_TYPE = "PeriodicData"


def _format(
    data_format: int | Sequence[str] | npt.ArrayLike, packets: int
) -> tuple[U64Array | None, bytes]:
    """Per-packet data-format ids, or the serialized data_format field of one explicit list."""
    if isinstance(data_format, (list, tuple)) and all(isinstance(p, str) for p in data_format):
        fmt = pb.SampleDataFormat()
        fmt.parameter_identifiers.parameter_identifiers.extend(data_format)
        return None, pb.PeriodicDataPacket(data_format=fmt).SerializeToString()
    ids = np.asarray(data_format, dtype=np.uint64)
    return np.ascontiguousarray(np.broadcast_to(ids, (packets,))), b""


def _encode(
    values: npt.ArrayLike,
    status: npt.ArrayLike,
    start_times_ns: npt.ArrayLike,
    interval_ns: npt.ArrayLike,
    data_format: int | Sequence[str] | npt.ArrayLike,
    envelope: tuple[str, U64Array | None] | None,
) -> list[bytes]:
    """Contents, or Packet envelopes of type PeriodicData for ``envelope`` = (session key,
    packet ids or None for none), of ``values[p, c, k]`` (see encode_periodic_batch)."""
    vals = np.asarray(values, dtype=np.float64)
    if vals.ndim != 3:
        raise ValueError(f"values must be (packets, columns, samples), got shape {vals.shape}")
    packets = vals.shape[0]
    if packets == 0:
        return []
    codes = np.asarray(status)
    # Along an axis of stride 0 (a broadcast view) every element is the first one.
    distinct = codes[tuple(slice(0, 1) if step == 0 else slice(None) for step in codes.strides)]
    if distinct.size and (distinct.min() < 0 or distinct.max() > 127):
        raise ValueError("status values must be DataStatus numbers in 0..127")
    # Broadcast after the check: a status given once is checked once, not once per sample.
    stat = np.broadcast_to(codes.astype(np.uint8, copy=False), vals.shape)
    starts = np.broadcast_to(np.asarray(start_times_ns, dtype=np.uint64), (packets,))
    intervals = np.broadcast_to(np.asarray(interval_ns, dtype=np.int64), (packets,))
    if intervals.size and (intervals.min() < 0 or intervals.max() > 0xFFFFFFFF):
        raise ValueError("interval_ns must fit in uint32")
    ids, fmt_bytes = _format(data_format, packets)
    header = (np.ascontiguousarray(starts), np.ascontiguousarray(intervals), ids, fmt_bytes)
    native = native_encoder()
    if native is not None:
        # The compiled encoder reads strided values and statuses in place (no transposing copy).
        if envelope is None:
            return native(vals, stat, *header, None, None)
        key, packet_ids = envelope
        return native(vals, stat, *header, envelope_head(_TYPE, key), packet_ids)
    contents = encode_columns(np.ascontiguousarray(vals), np.ascontiguousarray(stat), *header)
    if envelope is None:
        return contents
    return wrap_packets(contents, _TYPE, session_key=envelope[0], ids=envelope[1])


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
    return _encode(values, status, start_times_ns, interval_ns, data_format, None)


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
    ids = None
    if first_id is not None:
        packets = np.shape(values)[0] if np.ndim(values) == 3 else 0
        if first_id < 0 or first_id + packets > 1 << 64:
            raise ValueError(f"packet ids from {first_id} are not all uint64")
        ids = np.arange(packets, dtype=np.uint64) + np.uint64(first_id)
    return _encode(values, status, start_times_ns, interval_ns, data_format, (session_key, ids))

"""Sample arrays into PeriodicData and RowData packet contents, split to a size the broker accepts.

Float columns go through the vectorised columnar encoder; int32, bool and string columns through
protobuf messages (their lists are encoded differently on the wire and are rarely bulk data).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any, cast

import numpy as np
import numpy.typing as npt

from ..columnar import encode_periodic_batch, encode_periodic_packets, wrap_packets
from ..errors import ConfigurationError
from ..protos import open_data_pb2 as pb

__all__ = [
    "PACKET_OVERHEAD_BYTES",
    "as_status",
    "periodic_packets",
    "row_contents",
]

#: room left in each packet for its envelope (type, session key, id, essential flag)
PACKET_OVERHEAD_BYTES = 256
#: the most bytes one double sample takes on the wire: tag, length, value, status
_DOUBLE_SAMPLE_BYTES = 13
_STATUS_RANGE = (0, 3)
#: packets encoded at a time when writing: large enough that the per-call cost vanishes, small
#: enough that storing the first ones overlaps encoding the next
_CHUNK_BYTES = 4 << 20


def as_status(status: npt.ArrayLike | None, shape: tuple[int, ...]) -> npt.NDArray[np.uint8]:
    """``DataStatus`` codes broadcast to ``shape`` (a read-only view); ``None`` means every
    sample is VALID."""
    if status is None:
        return np.broadcast_to(np.uint8(pb.DATA_STATUS_VALID), shape)
    codes = np.asarray(status)
    if codes.dtype.kind not in "iu":
        raise ConfigurationError(f"status must hold integer DataStatus codes, got {codes.dtype}")
    if codes.size and (codes.min() < _STATUS_RANGE[0] or codes.max() > _STATUS_RANGE[1]):
        raise ConfigurationError(
            "status must hold DataStatus codes 0..3 (UNSPECIFIED, VALID, MISSING, ERROR), "
            f"got values from {codes.min()} to {codes.max()}"
        )
    try:
        return np.broadcast_to(codes.astype(np.uint8), shape)
    except ValueError as exc:
        raise ConfigurationError(
            f"status of shape {codes.shape} does not match values of shape {shape}"
        ) from exc


def _samples_per_packet(channels: int, max_bytes: int) -> int:
    room = max_bytes - PACKET_OVERHEAD_BYTES - 16 * channels
    per_sample = _DOUBLE_SAMPLE_BYTES * channels
    if room < per_sample:
        raise ConfigurationError(
            f"{channels} parameters do not fit one sample each in a packet of {max_bytes} bytes; "
            "write fewer parameters per call"
        )
    return room // per_sample


def _typed_column(values: npt.NDArray[Any], status: npt.NDArray[np.uint8]) -> pb.SampleColumn:
    column = pb.SampleColumn()
    kind = values.dtype.kind
    if kind == "b":
        column.bool_samples.samples.extend(
            pb.BoolSample(value=bool(v), status=cast(pb.DataStatus, int(s)))
            for v, s in zip(values, status, strict=True)
        )
    elif kind in "iu":
        column.int32_samples.samples.extend(
            pb.Int32Sample(value=int(v), status=cast(pb.DataStatus, int(s)))
            for v, s in zip(values, status, strict=True)
        )
    else:
        column.string_samples.samples.extend(
            pb.StringSample(value=str(v), status=cast(pb.DataStatus, int(s)))
            for v, s in zip(values, status, strict=True)
        )
    return column


def _checked_values(values: npt.ArrayLike) -> npt.NDArray[Any]:
    array = np.asarray(values)
    if array.dtype.kind in "iu" and array.size:
        low, high = np.iinfo(np.int32).min, np.iinfo(np.int32).max
        if array.min() < low or array.max() > high:
            raise ConfigurationError("integer samples must fit in int32 (the wire's integer list)")
    if array.dtype.kind not in "biufUSO":
        raise ConfigurationError(f"samples of dtype {array.dtype} cannot be written")
    return array


def _periodic_layout(
    values: npt.ArrayLike,
    status: npt.ArrayLike | None,
    interval_ns: int,
    max_bytes: int,
    samples_per_packet: int | None,
) -> tuple[npt.NDArray[Any], npt.NDArray[np.uint8], int]:
    """Checked ``values`` (parameters, samples), their statuses and the samples per packet."""
    array = _checked_values(values)
    if array.ndim != 2:
        raise ConfigurationError(f"values must be (parameters, samples), got shape {array.shape}")
    if not 0 < interval_ns <= 0xFFFFFFFF:
        raise ConfigurationError(f"interval_ns must be in 1..4294967295, got {interval_ns}")
    codes = as_status(status, array.shape)
    step = _samples_per_packet(array.shape[0], max_bytes)
    if samples_per_packet is not None:
        step = min(step, samples_per_packet)
    return array, codes, step


def _double_blocks(
    array: npt.NDArray[Any],
    codes: npt.NDArray[np.uint8],
    step: int,
    start_ns: int,
    interval_ns: int,
) -> Iterator[tuple[npt.NDArray[np.int64], npt.NDArray[np.float64], npt.NDArray[np.uint8]]]:
    """(start times, values, statuses) of the packets of a float ``array``, as (packets,
    parameters, samples) views of the arrays given (no copy for float64): the whole packets,
    then the rest in one packet."""
    doubles = array.astype(np.float64, copy=False)
    channels, samples = doubles.shape
    full = samples // step
    if full:
        shape = (channels, full, step)
        body = doubles[:, : full * step].reshape(shape).transpose(1, 0, 2)
        starts = start_ns + np.arange(full, dtype=np.int64) * step * interval_ns
        yield starts, body, codes[:, : full * step].reshape(shape).transpose(1, 0, 2)
    if samples % step:
        rest = np.array([start_ns + full * step * interval_ns], np.int64)
        yield rest, doubles[None, :, full * step :], codes[None, :, full * step :]


def _typed_contents(
    data_format_id: int,
    start_ns: int,
    interval_ns: int,
    array: npt.NDArray[Any],
    codes: npt.NDArray[np.uint8],
    step: int,
) -> Iterator[bytes]:
    """Packets of int32, bool or string columns, through protobuf messages."""
    channels, samples = array.shape
    for first in range(0, samples, step):
        packet = pb.PeriodicDataPacket(
            data_format=pb.SampleDataFormat(data_format_identifier=data_format_id),
            start_time=start_ns + first * interval_ns,
            interval=interval_ns,
        )
        for channel in range(channels):
            window = slice(first, first + step)
            packet.columns.append(_typed_column(array[channel, window], codes[channel, window]))
        yield packet.SerializeToString()


def periodic_packets(
    data_format_id: int,
    start_ns: int,
    interval_ns: int,
    values: npt.ArrayLike,
    status: npt.ArrayLike | None,
    max_bytes: int,
    samples_per_packet: int | None,
    *,
    session_key: str,
    first_id: int,
) -> Iterator[bytes]:
    """Serialized Packets (type PeriodicData, ``session_key``, ids counting up from ``first_id``)
    of PeriodicDataPackets of ``values[channel, sample]``, each under ``max_bytes`` and holding at
    most ``samples_per_packet`` samples per channel when given. The arguments are checked at once;
    doubles are then encoded straight into the envelopes a few megabytes at a time, so that
    the first packets can be stored while the next are encoded."""
    array, codes, step = _periodic_layout(
        values, status, interval_ns, max_bytes, samples_per_packet
    )
    if array.dtype.kind != "f":
        contents = list(_typed_contents(data_format_id, start_ns, interval_ns, array, codes, step))
        ids = range(first_id, first_id + len(contents))
        return iter(wrap_packets(contents, "PeriodicData", session_key=session_key, ids=ids))
    blocks = _double_blocks(array, codes, step, start_ns, interval_ns)
    return _encoded(blocks, interval_ns, data_format_id, session_key, first_id)


def _encoded(
    blocks: Iterator[tuple[npt.NDArray[np.int64], npt.NDArray[np.float64], npt.NDArray[np.uint8]]],
    interval_ns: int,
    data_format_id: int,
    session_key: str,
    first_id: int,
) -> Iterator[bytes]:
    next_id = first_id
    for starts, vals, stat in blocks:
        packet_bytes = vals.shape[1] * vals.shape[2] * _DOUBLE_SAMPLE_BYTES
        chunk = max(1, _CHUNK_BYTES // max(packet_bytes, 1))
        for first in range(0, starts.size, chunk):
            window = slice(first, first + chunk)
            packets = encode_periodic_packets(
                vals[window],
                stat[window],
                start_times_ns=starts[window],
                interval_ns=interval_ns,
                data_format=data_format_id,
                session_key=session_key,
                first_id=next_id,
            )
            next_id += len(packets)
            yield from packets


def row_contents(
    data_format_id: int,
    timestamps_ns: npt.NDArray[np.int64],
    values: npt.NDArray[np.float64],
    status: npt.NDArray[np.uint8],
    max_bytes: int,
) -> Iterator[bytes]:
    """Serialized RowDataPackets of double ``values[row, parameter]`` at ``timestamps_ns[row]``.

    A row of a RowDataPacket is encoded exactly as a column of a PeriodicDataPacket (both are the
    same oneof of sample lists), so the rows come from the vectorised periodic encoder.
    """
    rows, channels = values.shape
    step = _samples_per_packet(channels, max_bytes)
    data_format = pb.SampleDataFormat(data_format_identifier=data_format_id)
    for first in range(0, rows, step):
        window = slice(first, first + step)
        as_columns = encode_periodic_batch(
            values[None, window, :],
            status[None, window, :],
            start_times_ns=0,
            interval_ns=0,
            data_format=data_format_id,
        )[0]
        periodic = pb.PeriodicDataPacket.FromString(as_columns)
        packet = pb.RowDataPacket(data_format=data_format)
        packet.timestamps.extend(timestamps_ns[window].tolist())
        packet.rows.extend(pb.SampleRow.FromString(c.SerializeToString()) for c in periodic.columns)
        yield packet.SerializeToString()

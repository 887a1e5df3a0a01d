"""Markers and events to arrays (reference path only: they are few next to sample packets)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..arrays import F64Array, I64Array, ObjArray
from ..errors import PacketDecodeError
from ..protos import open_data_pb2 as pb
from ..protos.packets import parse_message
from ._batch import ContentsLike, as_content_batch

__all__ = ["EventArrays", "EventFormatKey", "MarkerArrays", "decode_events", "decode_markers"]


# EventDataFormat: a numeric data-format id, an explicit event identifier, or None (unset).
EventFormatKey = int | str | None

_NS_LIMIT = 1 << 63


def _time(value: int, packet: int, what: str) -> int:
    if value >= _NS_LIMIT:
        raise PacketDecodeError(packet, f"{what} {value} exceeds int64 ns")
    return value


@dataclass(frozen=True, eq=False)
class MarkerArrays:
    """One entry per ``MarkerPacket``; ``end_times_ns`` is 0 where the marker has no end."""

    timestamps_ns: I64Array
    end_times_ns: I64Array
    labels: ObjArray
    types: ObjArray
    descriptions: ObjArray
    sources: ObjArray
    values: I64Array

    def __len__(self) -> int:
        return int(self.timestamps_ns.size)


@dataclass(frozen=True, eq=False)
class EventArrays:
    """One entry per ``EventPacket``; the raw values of event ``i`` are
    ``values[value_offsets[i]:value_offsets[i + 1]]`` (see ``raw_values``)."""

    data_formats: tuple[EventFormatKey, ...]
    timestamps_ns: I64Array
    value_offsets: I64Array
    values: F64Array

    def __len__(self) -> int:
        return int(self.timestamps_ns.size)

    def raw_values(self, index: int) -> F64Array:
        return self.values[self.value_offsets[index] : self.value_offsets[index + 1]]


def decode_markers(contents: ContentsLike) -> MarkerArrays:
    """Decode ``MarkerPacket`` contents; raises ``PacketDecodeError`` naming a bad packet."""
    batch = as_content_batch(contents)
    markers = []
    for i in range(len(batch)):
        m = parse_message(pb.MarkerPacket, batch.message(i))
        if m is None:
            raise PacketDecodeError(i, "not a valid MarkerPacket")
        markers.append(m)
        _time(m.timestamp, i, "timestamp")
        _time(m.end_time, i, "end_time")

    def text(values: list[str]) -> ObjArray:
        out = np.empty(len(values), dtype=object)
        out[:] = values
        return out

    return MarkerArrays(
        timestamps_ns=np.array([m.timestamp for m in markers], dtype=np.int64),
        end_times_ns=np.array([m.end_time for m in markers], dtype=np.int64),
        labels=text([m.label for m in markers]),
        types=text([m.type for m in markers]),
        descriptions=text([m.description for m in markers]),
        sources=text([m.source for m in markers]),
        values=np.array([m.value for m in markers], dtype=np.int64),
    )


def decode_events(contents: ContentsLike) -> EventArrays:
    """Decode ``EventPacket`` contents; raises ``PacketDecodeError`` naming a bad packet."""
    batch = as_content_batch(contents)
    formats: list[EventFormatKey] = []
    times: list[int] = []
    counts: list[int] = []
    values: list[float] = []
    for i in range(len(batch)):
        e = parse_message(pb.EventPacket, batch.message(i))
        if e is None:
            raise PacketDecodeError(i, "not a valid EventPacket")
        which = e.data_format.WhichOneof("format")
        if which == "data_format_identifier":
            formats.append(e.data_format.data_format_identifier)
        elif which == "event_identifier":
            formats.append(e.data_format.event_identifier)
        else:
            formats.append(None)
        times.append(_time(e.timestamp, i, "timestamp"))
        counts.append(len(e.raw_values))
        values.extend(e.raw_values)
    offsets = np.zeros(len(counts) + 1, np.int64)
    np.cumsum(counts, out=offsets[1:])
    return EventArrays(
        tuple(formats),
        np.array(times, dtype=np.int64),
        offsets,
        np.array(values, dtype=np.float64),
    )

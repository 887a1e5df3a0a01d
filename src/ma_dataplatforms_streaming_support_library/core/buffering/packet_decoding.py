"""Decoding data packets for the sample reader: sample blocks, and the optional extra items."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

from ...arrays import I8Array, I64Array
from ...contracts.buffering.can_data import CanData
from ...contracts.buffering.error_data import ErrorData
from ...contracts.buffering.event_data import EventData
from ...contracts.buffering.marker_data import MarkerData
from ...contracts.data_format_management.data_format_info_type import DataFormatInfoType
from ...protos import open_data_pb2
from ...protos.packets import PacketType

__all__ = [
    "DecodedSamples",
    "FormatResolver",
    "SampleDecoder",
    "decode_extra",
    "numeric_rows",
]

#: ``(data_source, kind, data_format_id) -> identifiers`` or ``None`` when the id is unknown.
FormatResolver = Callable[[str, DataFormatInfoType, int], "list[str] | None"]


@dataclass(frozen=True, slots=True)
class DecodedSamples:
    """One data packet as a parameters x time block (the shape of the columnar codecs).

    ``data_format`` is the packet's data format id, its inline parameter list, or ``None``.
    ``values`` is float64, or object when the packet has a string column.
    """

    data_format: int | tuple[str, ...] | None
    timestamps: I64Array
    values: npt.NDArray[Any]
    status: I8Array


#: ``(packet_type, content) -> blocks``: decodes the content of a sample packet.
SampleDecoder = Callable[[str, bytes], "list[DecodedSamples]"]


def numeric_rows(values: npt.NDArray[Any]) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.intp]]:
    """The float64 rows of a decoded block and their positions; string rows are left out."""
    if values.dtype == np.float64:
        return values, np.arange(values.shape[0], dtype=np.intp)
    rows: list[npt.NDArray[np.float64]] = []
    kept: list[int] = []
    for row in range(values.shape[0]):
        try:
            rows.append(values[row].astype(np.float64))
        except (TypeError, ValueError):
            continue
        kept.append(row)
    width = values.shape[1] if values.ndim == 2 else 0
    stacked = np.vstack(rows) if rows else np.empty((0, width), dtype=np.float64)
    return stacked, np.asarray(kept, dtype=np.intp)


def decode_extra(
    packet_type: PacketType,
    content: bytes,
    data_source: str,
    resolver: FormatResolver | None,
) -> tuple[int, str, object] | None:
    """``(timestamp, identifier, value)`` of a Marker/Event/Error/RawCANData packet, else None.

    Identifiers: marker → its label, event → its event identifier, error → its
    error identifier, CAN frame → ``"CAN:<bus>:<can_id>"``.
    """
    if packet_type is PacketType.MARKER:
        marker = open_data_pb2.MarkerPacket.FromString(content)
        value: object = MarkerData(
            marker.timestamp,
            marker.value,
            marker.label,
            marker.end_time,
            marker.type,
            marker.description,
            marker.source,
        )
        return marker.timestamp, marker.label, value
    if packet_type is PacketType.EVENT:
        event = open_data_pb2.EventPacket.FromString(content)
        data_format_id = 0
        if event.data_format.WhichOneof("format") == "data_format_identifier":
            data_format_id = event.data_format.data_format_identifier
            names = (
                resolver(data_source, DataFormatInfoType.EVENT, data_format_id)
                if resolver
                else None
            )
            identifier = names[0] if names else str(data_format_id)
        else:
            identifier = event.data_format.event_identifier
        value = EventData(event.timestamp, identifier, data_format_id, list(event.raw_values))
        return event.timestamp, identifier, value
    if packet_type is PacketType.ERROR:
        error = open_data_pb2.ErrorPacket.FromString(content)
        value = ErrorData(
            error.timestamp,
            error.error_identifier,
            error.application_name,
            error.group,
            error.name,
            error.description,
            int(error.type),
            int(error.status),
        )
        return error.timestamp, error.error_identifier, value
    if packet_type is PacketType.RAW_CAN_DATA:
        frame = open_data_pb2.RawCANDataPacket.FromString(content)
        value = CanData(
            frame.timestamp, frame.bus, frame.can_id, bytes(frame.payload), int(frame.type)
        )
        return frame.timestamp, f"CAN:{frame.bus}:{frame.can_id}", value
    return None

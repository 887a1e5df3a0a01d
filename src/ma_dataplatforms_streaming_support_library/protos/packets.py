"""Packet types and the one way to parse packet bytes.

``Packet.type`` names the Open Data message inside ``Packet.content``: the message name with its
trailing ``Packet`` removed (``PeriodicDataPacket`` → ``"PeriodicData"``), compared exactly.
"""

from __future__ import annotations

import enum
from typing import TypeVar

from google.protobuf.message import DecodeError, Message

from . import open_data_pb2 as pb

__all__ = [
    "CONTENT_TYPES",
    "DecodeError",
    "PacketType",
    "parse_content",
    "parse_message",
    "parse_packet",
]

M = TypeVar("M", bound=Message)


class PacketType(str, enum.Enum):
    """Every ``Packet.type`` string a packet can carry; the value is the wire string."""

    NEW_SESSION = "NewSession"
    END_OF_SESSION = "EndOfSession"
    SESSION_INFO = "SessionInfo"
    COVERAGE_CURSOR_INFO = "CoverageCursorInfo"
    METADATA = "Metadata"
    CONFIGURATION = "Configuration"
    DATA_FORMAT_CONFIGURATION = "DataFormatConfiguration"
    DATA_FORMAT_DEFINITION = "DataFormatDefinition"
    EVENT = "Event"
    MARKER = "Marker"
    PERIODIC_DATA = "PeriodicData"
    ROW_DATA = "RowData"
    SYNCHRO_DATA = "SynchroData"
    RAW_CAN_DATA = "RawCANData"
    AXIS_DATA = "AxisData"
    MAP_DATA = "MapData"
    ERROR = "Error"
    STREAM_STARTED = "StreamStarted"
    STREAM_STOPPED = "StreamStopped"
    SYSTEM_STATUS = "SystemStatus"

    @classmethod
    def of(cls, type_name: str) -> PacketType | None:
        """The packet type a ``Packet.type`` string names, reading spelling variants as their type.

        ``"EventData"``/``"MarkerData"`` (spellings some writer documentation shows) read as
        events/markers; ``"SystemStatusMessage"`` as ``SYSTEM_STATUS``. Unknown strings: None.
        """
        return _BY_NAME.get(type_name)

    @property
    def is_sample_data(self) -> bool:
        """Periodic, row or synchro data: packets whose content is sample lists."""
        return self in _SAMPLE_DATA


_BY_NAME: dict[str, PacketType] = {t.value: t for t in PacketType}
_BY_NAME.update(
    {
        "EventData": PacketType.EVENT,
        "MarkerData": PacketType.MARKER,
        "SystemStatusMessage": PacketType.SYSTEM_STATUS,
    }
)
_SAMPLE_DATA = frozenset({PacketType.PERIODIC_DATA, PacketType.ROW_DATA, PacketType.SYNCHRO_DATA})

CONTENT_TYPES: dict[PacketType, type[Message]] = {
    PacketType.NEW_SESSION: pb.NewSessionPacket,
    PacketType.END_OF_SESSION: pb.EndOfSessionPacket,
    PacketType.SESSION_INFO: pb.SessionInfoPacket,
    PacketType.COVERAGE_CURSOR_INFO: pb.CoverageCursorInfoPacket,
    PacketType.METADATA: pb.MetadataPacket,
    PacketType.CONFIGURATION: pb.ConfigurationPacket,
    PacketType.DATA_FORMAT_CONFIGURATION: pb.DataFormatConfigurationPacket,
    PacketType.DATA_FORMAT_DEFINITION: pb.DataFormatDefinitionPacket,
    PacketType.EVENT: pb.EventPacket,
    PacketType.MARKER: pb.MarkerPacket,
    PacketType.PERIODIC_DATA: pb.PeriodicDataPacket,
    PacketType.ROW_DATA: pb.RowDataPacket,
    PacketType.SYNCHRO_DATA: pb.SynchroDataPacket,
    PacketType.RAW_CAN_DATA: pb.RawCANDataPacket,
    PacketType.AXIS_DATA: pb.AxisDataPacket,
    PacketType.MAP_DATA: pb.MapDataPacket,
    PacketType.ERROR: pb.ErrorPacket,
    PacketType.STREAM_STARTED: pb.StreamStartedPacket,
    PacketType.STREAM_STOPPED: pb.StreamStoppedPacket,
    PacketType.SYSTEM_STATUS: pb.SystemStatusMessage,
}


def parse_message(message_type: type[M], data: bytes) -> M | None:
    """``data`` parsed as ``message_type``, or None when the bytes are not a valid message."""
    try:
        return message_type.FromString(data)
    except DecodeError:
        return None


def parse_packet(data: bytes) -> pb.Packet | None:
    """A record value parsed as a ``Packet`` envelope, or None when the bytes are not one."""
    return parse_message(pb.Packet, data)


def parse_content(packet: pb.Packet) -> Message | None:
    """The message inside ``packet.content``, by its type; None for an unknown type or bad bytes."""
    packet_type = PacketType.of(packet.type)
    if packet_type is None:
        return None
    return parse_message(CONTENT_TYPES[packet_type], packet.content)

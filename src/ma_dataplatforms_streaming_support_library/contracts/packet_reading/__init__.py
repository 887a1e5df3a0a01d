"""Packet reading contracts."""

from __future__ import annotations

from .coverage_cursor_info import CoverageCursorInfo
from .i_handler import IHandler
from .i_packet_reader_service import IPacketReaderService
from .i_packet_reading_module_api import IPacketReadingModuleApi
from .packet_reading_configuration import PacketReadingConfiguration
from .packet_reading_type import PacketReadingType
from .received_packet_dto import ReceivedPacketDto
from .stream_info import StreamInfo

__all__ = [
    "CoverageCursorInfo",
    "IHandler",
    "IPacketReaderService",
    "IPacketReadingModuleApi",
    "PacketReadingConfiguration",
    "PacketReadingType",
    "ReceivedPacketDto",
    "StreamInfo",
]

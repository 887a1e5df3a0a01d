"""Packet writing contracts."""

from __future__ import annotations

from .i_packet_writer_service import IPacketWriterService
from .i_packet_writing_module_api import IPacketWritingModuleApi
from .info_type import InfoType
from .packet_bytes import PacketBytes

__all__ = [
    "IPacketWriterService",
    "IPacketWritingModuleApi",
    "InfoType",
    "PacketBytes",
]

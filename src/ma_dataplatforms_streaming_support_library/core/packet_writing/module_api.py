"""PacketWritingModuleApi: creates packet writer services."""

from __future__ import annotations

from ...contracts.packet_writing.i_packet_writer_service import IPacketWriterService
from ...contracts.packet_writing.i_packet_writing_module_api import IPacketWritingModuleApi
from ...contracts.shared.api_result import ApiResult
from .. import remote
from ..library.module_api import ModuleApiBase
from .packet_writer_service import PacketWriterService

__all__ = ["PacketWritingModuleApi"]


class PacketWritingModuleApi(ModuleApiBase, IPacketWritingModuleApi):
    """Creates packet writer services on the library's context."""

    module_name = "packet writing api"

    def create_service(self) -> ApiResult[IPacketWriterService]:
        return self._create(PacketWriterService, remote.writer_service)  # type: ignore[return-value]

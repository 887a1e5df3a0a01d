"""IPacketWriterService: writes data packets to streams and info packets to SessionInfo."""

from __future__ import annotations

import abc

from ...protos import open_data_pb2
from ..shared.api_result import ApiResult
from ..shared.i_service_model import IServiceModel
from .info_type import InfoType
from .packet_bytes import PacketBytes

__all__ = ["IPacketWriterService"]


class IPacketWriterService(IServiceModel):
    """Writes packets (data, info) of sessions to their data source's topics."""

    @abc.abstractmethod
    def write_data(
        self,
        data_source: str,
        stream: str,
        session_key: str,
        packet_bytes: PacketBytes | open_data_pb2.Packet,
    ) -> ApiResult[bool]: ...

    @abc.abstractmethod
    def write_info(
        self,
        packet_bytes: PacketBytes | open_data_pb2.Packet,
        info_type: InfoType = InfoType.SESSION_INFO,
    ) -> ApiResult[bool]: ...

    @abc.abstractmethod
    def flush(self) -> ApiResult[bool]: ...

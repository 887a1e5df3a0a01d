"""IPacketReadingModuleApi: creates packet reader services."""

from __future__ import annotations

import abc

from ..shared.api_result import ApiResult
from .i_packet_reader_service import IPacketReaderService
from .packet_reading_configuration import PacketReadingConfiguration

__all__ = ["IPacketReadingModuleApi"]


class IPacketReadingModuleApi(abc.ABC):
    """Creates packet reader services from a ``PacketReadingConfiguration``."""

    @abc.abstractmethod
    def create_service(
        self,
        data_source: str | PacketReadingConfiguration | None = None,
        session_key: str | None = None,
    ) -> ApiResult[IPacketReaderService]: ...

    @abc.abstractmethod
    def create_service_with_config(
        self, config: PacketReadingConfiguration
    ) -> ApiResult[IPacketReaderService]: ...

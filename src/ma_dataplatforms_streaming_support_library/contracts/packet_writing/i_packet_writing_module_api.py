"""IPacketWritingModuleApi: creates packet writer services."""

from __future__ import annotations

import abc

from ..shared.api_result import ApiResult
from .i_packet_writer_service import IPacketWriterService

__all__ = ["IPacketWritingModuleApi"]


class IPacketWritingModuleApi(abc.ABC):
    """Creates packet writer services."""

    @abc.abstractmethod
    def create_service(self) -> ApiResult[IPacketWriterService]: ...

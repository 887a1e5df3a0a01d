"""IDataFormatManagerModuleApi: creates data format management services."""

from __future__ import annotations

import abc

from ..shared.api_result import ApiResult
from .i_data_format_management_service import IDataFormatManagementService

__all__ = ["IDataFormatManagerModuleApi"]


class IDataFormatManagerModuleApi(abc.ABC):
    """Creates data format management services."""

    @abc.abstractmethod
    def create_service(self) -> ApiResult[IDataFormatManagementService]: ...

"""DataFormatManagerModuleApi: creates data format management services."""

from __future__ import annotations

from ...contracts.data_format_management.i_data_format_management_service import (
    IDataFormatManagementService,
)
from ...contracts.data_format_management.i_data_format_manager_module_api import (
    IDataFormatManagerModuleApi,
)
from ...contracts.shared.api_result import ApiResult
from .. import remote
from ..library.module_api import ModuleApiBase
from .data_format_management_service import DataFormatManagementService

__all__ = ["DataFormatManagerModuleApi"]


class DataFormatManagerModuleApi(ModuleApiBase, IDataFormatManagerModuleApi):
    """Creates data format management services on the library's context."""

    module_name = "data format manager api"

    def create_service(self) -> ApiResult[IDataFormatManagementService]:
        return self._create(DataFormatManagementService, remote.data_format_service)  # type: ignore[return-value]

"""DataReadingModuleApi: creates data reader (interpolation) services bound to the library."""

from __future__ import annotations

from ...contracts.interpolation.i_data_reader_service import IDataReaderService
from ...contracts.interpolation.i_data_reading_module_api import IDataReadingModuleApi
from ...contracts.shared.api_result import ApiResult
from ..library.module_api import ModuleApiBase
from .data_reader_service import DataReaderService

__all__ = ["DataReadingModuleApi"]


class DataReadingModuleApi(ModuleApiBase, IDataReadingModuleApi):
    """Creates data reader services (interpolation)."""

    module_name = "data reading api"

    def create_service(self) -> ApiResult[IDataReaderService]:
        """A new data reader; it is configured by its subscriptions."""
        return self._create(lambda _: DataReaderService(), lambda _: DataReaderService())  # type: ignore[return-value]

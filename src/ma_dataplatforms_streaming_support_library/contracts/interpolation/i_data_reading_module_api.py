"""IDataReadingModuleApi: creates data reader (interpolation) services."""

from __future__ import annotations

import abc

from ..shared.api_result import ApiResult
from .i_data_reader_service import IDataReaderService

__all__ = ["IDataReadingModuleApi"]


class IDataReadingModuleApi(abc.ABC):
    """Creates data reader services (interpolation)."""

    @abc.abstractmethod
    def create_service(self) -> ApiResult[IDataReaderService]:
        """A new, independent data reader; it is configured by its subscriptions."""

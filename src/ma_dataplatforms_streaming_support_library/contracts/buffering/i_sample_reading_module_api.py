"""ISampleReadingModuleApi: creates sample reader (buffering) services."""

from __future__ import annotations

import abc

from ..shared.api_result import ApiResult
from .buffering_configuration import BufferingConfiguration
from .i_sample_reader_service import ISampleReaderService

__all__ = ["ISampleReadingModuleApi"]


class ISampleReadingModuleApi(abc.ABC):
    """Creates sample reader services (buffering): ``create_service(buffering_configuration)``."""

    @abc.abstractmethod
    def create_service(
        self, buffering_configuration: BufferingConfiguration
    ) -> ApiResult[ISampleReaderService]:
        """A new, independent sample reader; ``success=False`` naming the bad configuration."""

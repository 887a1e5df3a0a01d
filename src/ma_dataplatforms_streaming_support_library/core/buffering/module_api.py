"""SampleReadingModuleApi: creates sample reader (buffering) services bound to the library."""

from __future__ import annotations

import logging

from ...contracts.buffering.buffering_configuration import BufferingConfiguration
from ...contracts.buffering.i_sample_reader_service import ISampleReaderService
from ...contracts.buffering.i_sample_reading_module_api import ISampleReadingModuleApi
from ...contracts.data_format_management.data_format_info_type import DataFormatInfoType
from ...contracts.shared.api_result import ApiResult
from ...errors import TransportError
from .. import remote
from ..library.context import LibraryContext
from ..library.module_api import ModuleApiBase
from .columnar_decoding import decode_sample_packet
from .packet_decoding import FormatResolver
from .sample_reader_service import SampleReaderService

__all__ = ["SampleReadingModuleApi", "catalog_resolver"]

logger = logging.getLogger(__name__)


def catalog_resolver(context: LibraryContext) -> FormatResolver:
    """Data format ids resolved through the library's catalog; an unknown id makes the catalog
    catch up with its data source once (bounded by ``timeout_seconds``), not on every packet."""
    catalog = context.data_formats
    caught_up: set[tuple[str, DataFormatInfoType, int]] = set()

    def resolve(
        data_source: str, kind: DataFormatInfoType, data_format_id: int
    ) -> list[str] | None:
        names = catalog.find_by_id(data_source, kind, data_format_id)
        if names is None and (data_source, kind, data_format_id) not in caught_up:
            caught_up.add((data_source, kind, data_format_id))
            try:
                catalog.catch_up(data_source)
            except TransportError as exc:
                logger.error(
                    "data source %r: reading its data formats failed: %s", data_source, exc
                )
                return None
            names = catalog.find_by_id(data_source, kind, data_format_id)
        return names

    return resolve


class SampleReadingModuleApi(ModuleApiBase, ISampleReadingModuleApi):
    """Creates sample reader services (buffering) on the library's context."""

    module_name = "sample reading api"

    def create_service(
        self, buffering_configuration: BufferingConfiguration
    ) -> ApiResult[ISampleReaderService]:
        """A new sample reader; ``success=False`` naming the argument for a bad configuration."""
        if not isinstance(buffering_configuration, BufferingConfiguration):
            return ApiResult.fail(
                f"{self.module_name}.create_service: buffering_configuration must be a "
                f"BufferingConfiguration, got {type(buffering_configuration).__name__}"
            )
        return self._create(  # type: ignore[return-value]
            lambda context: SampleReaderService(
                buffering_configuration, decode_sample_packet, catalog_resolver(context)
            ),
            lambda context: SampleReaderService(
                buffering_configuration, decode_sample_packet, remote.format_resolver(context)
            ),
        )

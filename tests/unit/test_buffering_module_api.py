"""Sample/data reading module APIs: service creation results and data format resolution."""

from __future__ import annotations

from typing import Any

from ma_dataplatforms_streaming_support_library.contracts.buffering import BufferingConfiguration
from ma_dataplatforms_streaming_support_library.contracts.data_format_management.data_format_info_type import (
    DataFormatInfoType,
)
from ma_dataplatforms_streaming_support_library.core.buffering.module_api import (
    SampleReadingModuleApi,
    catalog_resolver,
)
from ma_dataplatforms_streaming_support_library.core.buffering.sample_reader_service import (
    SampleReaderService,
)
from ma_dataplatforms_streaming_support_library.core.interpolation.data_reader_service import (
    DataReaderService,
)
from ma_dataplatforms_streaming_support_library.core.interpolation.module_api import (
    DataReadingModuleApi,
)
from ma_dataplatforms_streaming_support_library.errors import TransportError


class Catalog:
    """The two catalog calls the resolver makes; the format appears after a catch-up."""

    def __init__(self, fail: bool = False) -> None:
        self.known: dict[tuple[str, DataFormatInfoType, int], list[str]] = {}
        self.catch_ups: list[str] = []
        self.fail = fail

    def find_by_id(
        self, data_source: str, kind: DataFormatInfoType, data_format_id: int
    ) -> list[str] | None:
        return self.known.get((data_source, kind, data_format_id))

    def catch_up(self, data_source: str) -> None:
        self.catch_ups.append(data_source)
        if self.fail:
            raise TransportError("store unreachable")
        self.known[(data_source, DataFormatInfoType.PARAMETERS, 7)] = ["a", "b"]


class Library:
    def __init__(self, initialised: bool = True) -> None:
        self.context: Any = (
            type("Context", (), {"data_formats": Catalog()})() if initialised else None
        )
        self.services: list[object] = []

    def register(self, service: object) -> None:
        self.services.append(service)


def test_create_sample_reader() -> None:
    library = Library()
    result = SampleReadingModuleApi(library).create_service(BufferingConfiguration())  # type: ignore[arg-type]
    assert result.success and isinstance(result.data, SampleReaderService)
    assert library.services == [result.data]


def test_bad_configuration_is_a_failed_result_naming_the_argument() -> None:
    api = SampleReadingModuleApi(Library())  # type: ignore[arg-type]
    for configuration, name in [
        (BufferingConfiguration(None, 0), "buffering_window_length"),
        (BufferingConfiguration(None, 3000, 0), "sliding_window_percentage"),
        (BufferingConfiguration(None, 3000, 101), "sliding_window_percentage"),
        (BufferingConfiguration("abc"), "subscribed_parameters"),  # type: ignore[arg-type]
    ]:
        result = api.create_service(configuration)
        assert not result.success and result.data is None
        assert name in result.error_message
    result = api.create_service({"buffering_window_length": 3000})  # type: ignore[arg-type]
    assert not result.success and "BufferingConfiguration" in result.error_message


def test_library_not_initialised() -> None:
    result = SampleReadingModuleApi(Library(initialised=False)).create_service(
        BufferingConfiguration()
    )  # type: ignore[arg-type]
    assert not result.success and "not initialised" in result.error_message
    result = DataReadingModuleApi(Library(initialised=False)).create_service()  # type: ignore[arg-type]
    assert not result.success


def test_create_data_reader() -> None:
    library = Library()
    result = DataReadingModuleApi(library).create_service()  # type: ignore[arg-type]
    assert result.success and isinstance(result.data, DataReaderService)


def test_resolver_catches_up_once_per_unknown_id() -> None:
    library = Library()
    resolve = catalog_resolver(library.context)
    assert resolve("Default", DataFormatInfoType.PARAMETERS, 7) == ["a", "b"]
    assert resolve("Default", DataFormatInfoType.PARAMETERS, 7) == ["a", "b"]
    assert resolve("Default", DataFormatInfoType.PARAMETERS, 8) is None
    assert resolve("Default", DataFormatInfoType.PARAMETERS, 8) is None
    assert library.context.data_formats.catch_ups == ["Default", "Default"]


def test_resolver_survives_a_store_failure() -> None:
    library = Library()
    library.context.data_formats.fail = True
    resolve = catalog_resolver(library.context)
    assert resolve("Default", DataFormatInfoType.PARAMETERS, 7) is None

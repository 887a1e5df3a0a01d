"""IDataFormatManagementService: data format ids for parameter lists and events, both ways."""

from __future__ import annotations

import abc

from ..shared.api_result import ApiResult
from ..shared.event import Event
from ..shared.i_service_model import IServiceModel
from .data_format_info import DataFormatInfo
from .event_data_format_info import EventDataFormatInfo
from .parameter_data_format_info import ParameterDataFormatInfo

__all__ = ["IDataFormatManagementService"]


class IDataFormatManagementService(IServiceModel):
    """Data format ids of parameter lists and events on a data source: look up, define, list."""

    data_format_info_updated: Event[DataFormatInfo]

    @abc.abstractmethod
    def get_parameter_data_format_id(
        self, data_source: str, parameter_identifiers: list[str]
    ) -> ApiResult[ParameterDataFormatInfo]: ...

    @abc.abstractmethod
    def get_parameters_list(
        self, data_source: str, data_format_id: int
    ) -> ApiResult[ParameterDataFormatInfo]: ...

    @abc.abstractmethod
    def get_event_data_format_id(
        self, data_source: str, event_name: str
    ) -> ApiResult[EventDataFormatInfo]: ...

    @abc.abstractmethod
    def get_event(
        self, data_source: str, data_format_id: int
    ) -> ApiResult[EventDataFormatInfo]: ...

    @abc.abstractmethod
    def get_data_source_data_format_info(
        self, data_source: str
    ) -> ApiResult[list[DataFormatInfo]]: ...

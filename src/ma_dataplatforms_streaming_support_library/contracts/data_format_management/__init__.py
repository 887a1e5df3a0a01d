"""Data format management contracts."""

from __future__ import annotations

from .data_format_info import DataFormatInfo
from .data_format_info_type import DataFormatInfoType
from .event_data_format_info import EventDataFormatInfo
from .i_data_format_management_service import IDataFormatManagementService
from .i_data_format_manager_module_api import IDataFormatManagerModuleApi
from .parameter_data_format_info import ParameterDataFormatInfo

__all__ = [
    "DataFormatInfo",
    "DataFormatInfoType",
    "EventDataFormatInfo",
    "IDataFormatManagementService",
    "IDataFormatManagerModuleApi",
    "ParameterDataFormatInfo",
]

"""Buffering (sample reader) contracts: configuration, delivered data and service interfaces."""

from __future__ import annotations

from .buffering_configuration import BufferingConfiguration
from .can_data import CanData
from .end_sample_data import EndSampleData
from .end_timestamp_data import EndTimestampData
from .error_data import ErrorData
from .event_data import EventData
from .generic_value import GenericValue
from .i_sample_reader_service import ISampleReaderService
from .i_sample_reading_module_api import ISampleReadingModuleApi
from .marker_data import MarkerData
from .merge_strategy import MergeStrategy
from .sample_data import SampleData
from .sample_value import SampleValue
from .start_sample_data import StartSampleData
from .start_timestamp_data import StartTimestampData
from .timestamp_column import TimestampColumn
from .timestamp_data import TimestampData
from .timestamp_value import TimestampValue
from .value_status import ValueStatus

__all__ = [
    "BufferingConfiguration",
    "CanData",
    "EndSampleData",
    "EndTimestampData",
    "ErrorData",
    "EventData",
    "GenericValue",
    "ISampleReaderService",
    "ISampleReadingModuleApi",
    "MarkerData",
    "MergeStrategy",
    "SampleData",
    "SampleValue",
    "StartSampleData",
    "StartTimestampData",
    "TimestampColumn",
    "TimestampData",
    "TimestampValue",
    "ValueStatus",
]

"""Interpolation (data reader) contracts: results, processors and service interfaces."""

from __future__ import annotations

from .batch_result import BatchResult
from .data_point import DataPoint
from .default_result import DefaultResult
from .fill_mode import FillMode
from .i_batch_result_handler import IBatchResultHandler
from .i_data_reader_service import IDataReaderService
from .i_data_reading_module_api import IDataReadingModuleApi
from .i_process_result import IProcessResult
from .i_subscription_processor import ISubscriptionProcessor
from .process_context import ProcessContext
from .process_result import ProcessResult

__all__ = [
    "BatchResult",
    "DataPoint",
    "DefaultResult",
    "FillMode",
    "IBatchResultHandler",
    "IDataReaderService",
    "IDataReadingModuleApi",
    "IProcessResult",
    "ISubscriptionProcessor",
    "ProcessContext",
    "ProcessResult",
]

"""Shared contracts: configuration, ApiResult, IHandler, events, service model."""

from __future__ import annotations

from .api_result import ApiResult
from .event import Event
from .i_handler import IHandler
from .i_service_model import IServiceModel
from .i_support_lib_api import ISupportLibApi
from .i_support_lib_api_factory import ISupportLibApiFactory
from .partition_mapping import PartitionMapping
from .retry_mode import RetryMode
from .retry_policy import RetryPolicy
from .stream_api_configuration import StreamingApiConfiguration
from .stream_creation_strategy import StreamCreationStrategy

__all__ = [
    "ApiResult",
    "Event",
    "IHandler",
    "IServiceModel",
    "ISupportLibApi",
    "ISupportLibApiFactory",
    "PartitionMapping",
    "RetryMode",
    "RetryPolicy",
    "StreamCreationStrategy",
    "StreamingApiConfiguration",
]

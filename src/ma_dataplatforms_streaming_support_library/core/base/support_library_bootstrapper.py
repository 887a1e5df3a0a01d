"""SupportLibraryBootstrapper: records configuration and logger; the first call of every program."""

from __future__ import annotations

from ...contracts.shared.i_support_lib_api_factory import ISupportLibApiFactory
from ...contracts.shared.retry_policy import RetryPolicy
from ...contracts.shared.stream_api_configuration import StreamingApiConfiguration
from ..library.support_lib_api import SupportLibApi
from .logger import ILogger, Logger

__all__ = ["SupportLibApiFactory", "SupportLibraryBootstrapper"]


class SupportLibApiFactory(ISupportLibApiFactory):
    """Creates the support library API for one configuration and logger (from ``bootstrap``)."""

    def __init__(self, configuration: StreamingApiConfiguration, logger: ILogger) -> None:
        self._configuration = configuration
        self._logger = logger

    def create(self) -> SupportLibApi:
        return SupportLibApi(self._configuration, self._logger)


class SupportLibraryBootstrapper:
    """Never instantiated: call ``SupportLibraryBootstrapper.bootstrap(configuration, logger)``."""

    @staticmethod
    def bootstrap(
        streaming_api_configuration: StreamingApiConfiguration,
        logger: ILogger | None = None,
        retry_policy: RetryPolicy | None = None,
    ) -> SupportLibApiFactory:
        if not isinstance(streaming_api_configuration, StreamingApiConfiguration):
            raise TypeError(
                "bootstrap: streaming_api_configuration must be a StreamingApiConfiguration, "
                f"got {type(streaming_api_configuration).__name__}"
            )
        if logger is not None and not isinstance(logger, ILogger):
            raise TypeError(f"bootstrap: logger must be an ILogger, got {type(logger).__name__}")
        if retry_policy is not None:
            if not isinstance(retry_policy, RetryPolicy):
                raise TypeError(
                    f"bootstrap: retry_policy must be a RetryPolicy, got {type(retry_policy).__name__}"
                )
            streaming_api_configuration.retry_policy = retry_policy
        return SupportLibApiFactory(streaming_api_configuration, logger or Logger())

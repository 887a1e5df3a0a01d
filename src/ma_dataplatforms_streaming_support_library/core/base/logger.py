"""Logger / ILogger: the official logging interface, with a default that writes through stdlib logging."""

from __future__ import annotations

import abc
import logging
import sys

__all__ = ["ILogger", "Logger", "StdlibLogger"]

APPLICATION_LOGGER_NAME = "ma_dataplatforms_streaming_support_library.application"


class ILogger(abc.ABC):
    """Implement all four methods to receive the library's messages in your own logging system."""

    @abc.abstractmethod
    def debug(self, message: str) -> None: ...

    @abc.abstractmethod
    def info(self, message: str) -> None: ...

    @abc.abstractmethod
    def warning(self, message: str) -> None: ...

    @abc.abstractmethod
    def error(self, message: str) -> None: ...


class StdlibLogger(ILogger):
    """Forwards to a stdlib ``logging.Logger``."""

    def __init__(self, logger: logging.Logger) -> None:
        self._logger = logger

    def debug(self, message: str) -> None:
        self._logger.debug(message)

    def info(self, message: str) -> None:
        self._logger.info(message)

    def warning(self, message: str) -> None:
        self._logger.warning(message)

    def error(self, message: str) -> None:
        self._logger.error(message)


class Logger(StdlibLogger):
    """The default logger of the official samples: console output through stdlib ``logging``.

    It logs to the ``ma_dataplatforms_streaming_support_library.application`` logger. When the
    application has not configured logging (no root handlers), it adds a console handler at
    ``level`` so that, as with the official package, messages appear without any setup.
    """

    def __init__(self, level: int = logging.INFO) -> None:
        logger = logging.getLogger(APPLICATION_LOGGER_NAME)
        if not logging.getLogger().handlers and not logger.handlers:
            handler = logging.StreamHandler(sys.stdout)
            handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(message)s"))
            logger.addHandler(handler)
            logger.setLevel(level)
            logger.propagate = False
        super().__init__(logger)

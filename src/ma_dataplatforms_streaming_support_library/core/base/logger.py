"""Logger / ILogger: the official logging interface, and the default console logger.

Every record of the library goes to stdlib ``logging`` under the package logger
``ma_dataplatforms_streaming_support_library``. An ``ILogger`` given to
``SupportLibraryBootstrapper.bootstrap`` also receives each of those records, at the record's
level, while its support library is initialised (see ``log_forwarding``).
"""

from __future__ import annotations

import abc
import logging
import sys

__all__ = ["ILogger", "Logger", "StdlibLogger"]

PACKAGE_LOGGER_NAME = "ma_dataplatforms_streaming_support_library"
APPLICATION_LOGGER_NAME = f"{PACKAGE_LOGGER_NAME}.application"
CONSOLE_HANDLER_NAME = "ma-streaming-console"
FORWARDING_HANDLER_NAME = "ma-streaming-ilogger-forwarding"


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
    """An ``ILogger`` that writes to a stdlib ``logging.Logger``.

    For code inside the package that bootstraps a support library: the library's records reach
    stdlib logging already, so they are never forwarded to a ``StdlibLogger`` (no duplicates).
    """

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
    """The default logger of the official samples: the library's records on the console (stderr).

    Messages given to its methods go to the ``ma_dataplatforms_streaming_support_library.application``
    logger. When the application has not configured logging (no root handlers), it prints every
    record of the library at ``level`` or above to stderr, as the official package shows them
    without any setup; otherwise the records reach the application's own handlers through stdlib
    logging and this logger adds nothing.
    """

    def __init__(self, level: int = logging.INFO) -> None:
        super().__init__(logging.getLogger(APPLICATION_LOGGER_NAME))
        package = logging.getLogger(PACKAGE_LOGGER_NAME)
        # The forwarding handler of a support library is not output the application configured.
        configured = [h for h in package.handlers if h.get_name() != FORWARDING_HANDLER_NAME]
        if logging.getLogger().handlers or configured:
            return
        handler = logging.StreamHandler(sys.stderr)
        handler.set_name(CONSOLE_HANDLER_NAME)
        handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(message)s"))
        package.addHandler(handler)
        package.setLevel(level)
        package.propagate = False

"""One stdlib handler that gives every record of the library to the ILoggers of live support libraries.

While at least one support library with a user ``ILogger`` is initialised, a handler sits on the
package logger ``ma_dataplatforms_streaming_support_library`` and hands each record to every such
``ILogger`` once (two libraries sharing one ``ILogger`` do not double it), calling the method of
the record's level (CRITICAL → ``error``). The record's text is its message, followed by the
traceback when one was logged.

So that an ``ILogger`` also gets DEBUG and INFO records, the package logger is opened to DEBUG while
forwarding, provided the application has set neither a level nor handlers on it. It then stops
propagating, and the handler passes each record on to the root logger's handlers only when the
record would have reached them anyway (its level at or above the effective level the logger that
made it had before). When the root logger has no handlers, stdlib's last-resort stderr output is
not used: the ``ILogger`` is where the application asked the library's messages to go.

Records are not forwarded when they come from the default ``Logger``'s own application logger, or
when an ``ILogger`` logs into the package's loggers while it is being called (no loops).
"""

from __future__ import annotations

import logging
import threading

from .logger import (
    APPLICATION_LOGGER_NAME,
    FORWARDING_HANDLER_NAME,
    PACKAGE_LOGGER_NAME,
    ILogger,
)

__all__ = ["attach_ilogger", "detach_ilogger"]


def _method_name(levelno: int) -> str:
    if levelno >= logging.ERROR:
        return "error"
    if levelno >= logging.WARNING:
        return "warning"
    if levelno >= logging.INFO:
        return "info"
    return "debug"


def _natural_level(logger_name: str) -> int:
    """The level ``logger_name`` would be enabled at if the package logger had no level set."""
    logger: logging.Logger | None = logging.getLogger(logger_name)
    while logger is not None and logger.name != PACKAGE_LOGGER_NAME:
        if logger.level:
            return logger.level
        logger = logger.parent
    return logging.getLogger().getEffectiveLevel()


class _ForwardingHandler(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.NOTSET)
        self.set_name(FORWARDING_HANDLER_NAME)
        self.setFormatter(logging.Formatter("%(message)s"))
        #: replaced, never mutated, so emit() reads it without a lock
        self.targets: tuple[ILogger, ...] = ()
        #: set while the package logger was opened to DEBUG and stopped propagating
        self.passes_to_root = False
        self._calling = threading.local()

    def handle(self, record: logging.LogRecord) -> bool:
        # No handler lock: a slow ILogger must not serialise every thread's logging, and an
        # ILogger that waits on another library thread must not deadlock with it.
        self.emit(record)
        return True

    def emit(self, record: logging.LogRecord) -> None:
        if record.name != APPLICATION_LOGGER_NAME and not getattr(self._calling, "active", False):
            self._forward(record)
        if self.passes_to_root and record.levelno >= _natural_level(record.name):
            root = logging.getLogger()
            if root.handlers:
                root.handle(record)

    def _forward(self, record: logging.LogRecord) -> None:
        targets = self.targets
        if not targets:
            return
        message = self.format(record)
        method = _method_name(record.levelno)
        self._calling.active = True
        try:
            for target in targets:
                try:
                    getattr(target, method)(message)
                except Exception:
                    self.handleError(record)
        finally:
            self._calling.active = False


_lock = threading.Lock()
_users: dict[int, tuple[ILogger, int]] = {}
_handler: _ForwardingHandler | None = None
#: the package logger's level and propagate flag before forwarding opened it
_saved: tuple[int, bool] | None = None


def attach_ilogger(ilogger: ILogger) -> None:
    """Start giving the library's records to ``ilogger`` (counted: detach as often as attached)."""
    global _handler, _saved
    with _lock:
        _, count = _users.get(id(ilogger), (ilogger, 0))
        _users[id(ilogger)] = (ilogger, count + 1)
        if _handler is None:
            _handler = _ForwardingHandler()
            package = logging.getLogger(PACKAGE_LOGGER_NAME)
            if package.level == logging.NOTSET and not package.handlers:
                _saved = (package.level, package.propagate)
                package.setLevel(logging.DEBUG)
                package.propagate = False
                _handler.passes_to_root = True
            package.addHandler(_handler)
        _handler.targets = tuple(target for target, _ in _users.values())


def detach_ilogger(ilogger: ILogger) -> None:
    """Undo one ``attach_ilogger(ilogger)``; the last detach removes the handler."""
    global _handler, _saved
    with _lock:
        entry = _users.get(id(ilogger))
        if entry is None or _handler is None:
            return
        if entry[1] > 1:
            _users[id(ilogger)] = (ilogger, entry[1] - 1)
        else:
            del _users[id(ilogger)]
        _handler.targets = tuple(target for target, _ in _users.values())
        if _users:
            return
        package = logging.getLogger(PACKAGE_LOGGER_NAME)
        package.removeHandler(_handler)
        # Restored only if nobody changed them meanwhile (e.g. a default Logger set up the console).
        if _saved is not None and package.level == logging.DEBUG and not package.propagate:
            package.setLevel(_saved[0])
            package.propagate = _saved[1]
        _handler, _saved = None, None

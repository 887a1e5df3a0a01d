"""The library's exception tree: one base class, so callers can catch everything we raise.

::

    StreamingError
    ├── ConfigurationError        a configuration value is invalid (ValueError too)
    ├── TransportError            a broker or store operation failed (code, retriable)
    ├── PacketDecodeError         packet bytes could not be decoded (ValueError too)
    ├── SessionNotFoundError      no such session in the store (LookupError too)
    ├── StoreNotFoundError        no embedded store file at the path read (FileNotFoundError too)
    ├── SessionCopyError          a session cannot be copied
    ├── ReaderTimeoutError        a reader stream saw no packet within its timeout (TimeoutError too)
    ├── MissingDependencyError    an optional extra is not installed (ImportError too)
    └── CliError                  a command-line error, printed without a traceback
"""

from __future__ import annotations

__all__ = [
    "EXIT_UNAVAILABLE",
    "EXIT_USAGE",
    "CliError",
    "ConfigurationError",
    "MissingDependencyError",
    "PacketDecodeError",
    "ReaderTimeoutError",
    "SessionCopyError",
    "SessionNotFoundError",
    "StoreNotFoundError",
    "StreamingError",
    "TransportError",
]

EXIT_USAGE = 2
EXIT_UNAVAILABLE = 3


class StreamingError(Exception):
    """Base class of every exception raised by this library."""


class ConfigurationError(StreamingError, ValueError):
    """A configuration value is invalid; the message names the argument and why."""


class TransportError(StreamingError):
    """A broker or store operation failed.

    ``code`` keeps the broker's error name where there is one; ``retriable`` says whether trying the
    same operation again can help.
    """

    def __init__(self, message: str, *, code: str = "", retriable: bool = False) -> None:
        super().__init__(message)
        self.code = code
        self.retriable = retriable


class PacketDecodeError(StreamingError, ValueError):
    """A packet could not be decoded: malformed bytes, or content our arrays cannot represent."""

    def __init__(self, packet_index: int, reason: str) -> None:
        super().__init__(f"packet {packet_index}: {reason}")
        self.packet_index = packet_index
        self.reason = reason


class SessionNotFoundError(StreamingError, LookupError):
    """The session key is not in the store (or belongs to another data source)."""


class StoreNotFoundError(StreamingError, FileNotFoundError):
    """An embedded store to read from does not exist; reading never creates one."""

    def __init__(self, path: str) -> None:
        super().__init__(
            f"no store at {path}; write a session there first, or name another store "
            "(embedded:PATH or host:port)"
        )
        self.path = path


class SessionCopyError(StreamingError):
    """A session cannot be copied (for instance, the target already has it)."""


class ReaderTimeoutError(StreamingError, TimeoutError):
    """A packet reader's stream saw no packet for ``timeout_seconds`` (``raise_exception_on_timeout``).

    A ``TimeoutError`` too, so code written for the official API (``except TimeoutError``) catches it.
    """


class MissingDependencyError(StreamingError, ImportError):
    """An optional dependency is not installed; the message gives the ``pip install`` command."""

    def __init__(self, module: str, extra: str, purpose: str) -> None:
        super().__init__(
            f'{purpose} needs {module}, which is not installed: pip install "ma-streaming[{extra}]"'
        )
        self.module = module
        self.extra = extra


class CliError(StreamingError):
    """A user-facing command-line error: printed without a traceback; exits with ``exit_code``."""

    def __init__(self, message: str, exit_code: int = EXIT_USAGE) -> None:
        super().__init__(message)
        self.exit_code = exit_code

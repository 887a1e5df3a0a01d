"""ma-streaming: the Python Streaming Support Library for Motion Applied Open Data telemetry.

The official API lives at its own import paths (``contracts.…``, ``core.base.…``). This top level
adds the Pythonic entry points (``read_session``, …) and the exception tree, loaded lazily so that
importing a contract does not pull in NumPy and the services.
"""

from __future__ import annotations

import importlib
import types
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .errors import (
        ConfigurationError,
        MissingDependencyError,
        PacketDecodeError,
        ReaderTimeoutError,
        SessionCopyError,
        SessionNotFoundError,
        StoreNotFoundError,
        StreamingError,
        TransportError,
    )
    from .sessions import (
        Parameter,
        ParameterSeries,
        SessionData,
        SessionStore,
        SessionWriter,
        list_sessions,
        open_session_writer,
        read_session,
        write_session,
    )

__version__ = "0.1.0"

_LAZY = {
    "ParameterSeries": ".sessions",
    "SessionData": ".sessions",
    "read_session": ".sessions",
    "list_sessions": ".sessions",
    "SessionStore": ".sessions",
    "SessionWriter": ".sessions",
    "Parameter": ".sessions",
    "open_session_writer": ".sessions",
    "write_session": ".sessions",
    "ConfigurationError": ".errors",
    "MissingDependencyError": ".errors",
    "PacketDecodeError": ".errors",
    "ReaderTimeoutError": ".errors",
    "SessionCopyError": ".errors",
    "SessionNotFoundError": ".errors",
    "StoreNotFoundError": ".errors",
    "StreamingError": ".errors",
    "TransportError": ".errors",
}

__all__ = [
    "ConfigurationError",
    "MissingDependencyError",
    "PacketDecodeError",
    "Parameter",
    "ParameterSeries",
    "ReaderTimeoutError",
    "SessionCopyError",
    "SessionData",
    "SessionNotFoundError",
    "SessionStore",
    "SessionWriter",
    "StoreNotFoundError",
    "StreamingError",
    "TransportError",
    "__version__",
    "list_sessions",
    "open_session_writer",
    "read_session",
    "write_session",
]


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(module, __name__), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    loaded = {name for name, value in globals().items() if isinstance(value, types.ModuleType)}
    return sorted({*__all__, *loaded} - {"importlib", "types"})

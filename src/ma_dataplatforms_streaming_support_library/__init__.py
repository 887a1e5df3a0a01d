"""ma-streaming: the pure-Python Streaming Support Library for Motion Applied Open Data telemetry.

The official API lives at its own import paths (``contracts.…``, ``core.base.…``). This top level
adds one Pythonic entry point, ``read_session``, loaded lazily so that importing a contract does
not pull in NumPy and the services.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .session_data import ParameterSeries, SessionData, SessionNotFoundError, read_session

__version__ = "0.1.0"

__all__ = ["ParameterSeries", "SessionData", "SessionNotFoundError", "__version__", "read_session"]

_LAZY = frozenset({"ParameterSeries", "SessionData", "SessionNotFoundError", "read_session"})


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        from . import session_data

        return getattr(session_data, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")

"""Sessions as whole objects: read into NumPy/pandas, list, export, copy, resample.

Functions here take a ``broker_list`` (or a ``StreamingApiConfiguration``), never the internal
library context; the CLI, the Stream API server and notebooks all call them.
"""

from .copy import CopyReport
from .listing import SessionSummary
from .store import SessionStore, copy_session, list_sessions, read_session, resample_session
from .types import CorruptRecord, EventRecord, MarkerRecord, ParameterSeries, SessionData

__all__ = [
    "CopyReport",
    "CorruptRecord",
    "EventRecord",
    "MarkerRecord",
    "ParameterSeries",
    "SessionData",
    "SessionStore",
    "SessionSummary",
    "copy_session",
    "list_sessions",
    "read_session",
    "resample_session",
]

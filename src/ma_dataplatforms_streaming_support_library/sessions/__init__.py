"""Sessions as whole objects: read into NumPy/pandas, list, export, copy, resample.

Functions here take a ``broker_list`` (or a ``StreamingApiConfiguration``), never the internal
library context; the CLI, the Stream API server and notebooks all call them.
"""

from .copy import CopyReport
from .listing import SessionSummary
from .parameters import Parameter
from .store import SessionStore, copy_session, list_sessions, read_session, resample_session
from .types import CorruptRecord, EventRecord, MarkerRecord, ParameterSeries, SessionData
from .write import SessionWriter, open_session_writer, write_session

__all__ = [
    "CopyReport",
    "CorruptRecord",
    "EventRecord",
    "MarkerRecord",
    "Parameter",
    "ParameterSeries",
    "SessionData",
    "SessionStore",
    "SessionSummary",
    "SessionWriter",
    "copy_session",
    "list_sessions",
    "open_session_writer",
    "read_session",
    "resample_session",
    "write_session",
]

"""Sessions as whole objects: read into NumPy/pandas, scan, export, copy, resample, list.

Functions here take a ``broker_list`` (or a ``StreamingApiConfiguration``), never the internal
library context; the CLI, the Stream API server and notebooks all call them.
"""

from .read import read_session
from .types import CorruptRecord, EventRecord, MarkerRecord, ParameterSeries, SessionData

__all__ = [
    "CorruptRecord",
    "EventRecord",
    "MarkerRecord",
    "ParameterSeries",
    "SessionData",
    "read_session",
]

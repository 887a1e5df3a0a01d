"""StartTimestampData: the first item a TimestampData handler receives for a session."""

from __future__ import annotations

from .timestamp_data import TimestampData

__all__ = ["StartTimestampData"]


class StartTimestampData(TimestampData):
    """Marks the start of a session's merged data; carries no columns."""

    __slots__ = ()

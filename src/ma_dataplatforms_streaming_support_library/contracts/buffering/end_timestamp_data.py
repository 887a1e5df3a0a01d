"""EndTimestampData: the last item a TimestampData handler receives for a session."""

from __future__ import annotations

from .timestamp_data import TimestampData

__all__ = ["EndTimestampData"]


class EndTimestampData(TimestampData):
    """Marks the end of a session's merged data; carries no columns."""

    __slots__ = ()

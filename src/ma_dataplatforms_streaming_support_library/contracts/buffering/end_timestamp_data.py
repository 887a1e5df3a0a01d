"""EndTimestampData: the last item a TimestampData handler receives for a session."""

from __future__ import annotations

import logging

from .timestamp_data import TimestampData

__all__ = ["EndTimestampData"]

logger = logging.getLogger(__name__)


class EndTimestampData(TimestampData):
    """Marks the end of a session's merged data; carries no columns."""

    __slots__ = ()

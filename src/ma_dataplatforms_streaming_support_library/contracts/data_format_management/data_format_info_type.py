"""DataFormatInfoType: whether a data format lists parameters or names one event."""

from __future__ import annotations

import enum

__all__ = ["DataFormatInfoType"]


class DataFormatInfoType(enum.IntEnum):
    """What a data format describes: parameters (samples) or an event."""

    PARAMETERS = 1
    EVENT = 2

"""DataFormatInfoType: whether a data format lists parameters or names one event."""

from __future__ import annotations

import enum

__all__ = ["DataFormatInfoType"]


class DataFormatInfoType(enum.IntEnum):
    PARAMETERS = 1
    EVENT = 2

"""ValueStatus: the status of one sample value (mirrors the protobuf ``DataStatus``)."""

from __future__ import annotations

import enum

__all__ = ["ValueStatus"]


class ValueStatus(enum.IntEnum):
    """The status of one sample, as the Open Data ``DataStatus`` codes."""

    UNSPECIFIED = 0
    VALID = 1
    MISSING = 2
    ERROR = 3

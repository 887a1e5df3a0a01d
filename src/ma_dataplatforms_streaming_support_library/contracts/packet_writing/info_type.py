"""InfoType: the kind of an info packet written with ``write_info``."""

from __future__ import annotations

import enum

__all__ = ["InfoType"]


class InfoType(enum.IntEnum):
    """The kind of information packet a writer sends (session info, system status, ...)."""

    UNSPECIFIED = 0
    SESSION_INFO = 1
    SYSTEM_STATUS = 2

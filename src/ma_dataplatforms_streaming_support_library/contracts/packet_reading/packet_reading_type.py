"""PacketReadingType: follow sessions live or read finished ones from the start."""

from __future__ import annotations

import enum

__all__ = ["PacketReadingType"]


class PacketReadingType(enum.IntEnum):
    """LIVE follows sessions as they are written; HISTORIC reads stored sessions to their end."""

    LIVE = 0
    HISTORIC = 1
    BOTH = 2

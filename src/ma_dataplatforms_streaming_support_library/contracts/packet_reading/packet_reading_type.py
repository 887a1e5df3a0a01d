"""PacketReadingType: follow sessions live or read finished ones from the start."""

from __future__ import annotations

import enum

__all__ = ["PacketReadingType"]


class PacketReadingType(enum.IntEnum):
    LIVE = 0
    HISTORIC = 1
    BOTH = 2

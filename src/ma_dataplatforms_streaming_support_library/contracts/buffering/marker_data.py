"""MarkerData: a session marker carried in the merged output when markers are included."""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["MarkerData"]


@dataclass(frozen=True, slots=True)
class MarkerData:
    """Mirrors ``MarkerPacket``; ``end_time`` 0 means the marker has no end time."""

    timestamp: int
    value: int = 0
    label: str = ""
    end_time: int = 0
    type: str = ""
    description: str = ""
    source: str = ""

"""EventData: an event occurrence carried in the merged output when events are included."""

from __future__ import annotations

from dataclasses import dataclass, field

__all__ = ["EventData"]


@dataclass(frozen=True, slots=True)
class EventData:
    """Mirrors ``EventPacket``: the event identifier (resolved from the data format when given by
    id), the data format id (0 when the packet named the event inline) and the raw values."""

    timestamp: int
    identifier: str = ""
    data_format_id: int = 0
    raw_values: list[float] = field(default_factory=list)

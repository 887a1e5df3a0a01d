"""EventDataFormatInfo: an event data format id and its event name."""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["EventDataFormatInfo"]


@dataclass(slots=True)
class EventDataFormatInfo:
    data_source: str
    data_format_id: int
    event_name: str

"""StreamInfo: a stream of a session being read."""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["StreamInfo"]


@dataclass(frozen=True, slots=True)
class StreamInfo:
    data_source: str
    session_key: str
    stream: str

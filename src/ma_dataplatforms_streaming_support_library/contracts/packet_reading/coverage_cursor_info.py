"""CoverageCursorInfo: all data of a session up to this time (ns since the Unix epoch) has arrived."""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["CoverageCursorInfo"]


@dataclass(frozen=True, slots=True)
class CoverageCursorInfo:
    data_source: str
    session_key: str
    coverage_cursor_time: int

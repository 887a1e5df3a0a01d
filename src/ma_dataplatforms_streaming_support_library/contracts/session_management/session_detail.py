"""SessionDetail: one key/value item of a session's details."""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["SessionDetail"]


@dataclass(frozen=True, slots=True)
class SessionDetail:
    key: str
    value: str

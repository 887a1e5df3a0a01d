"""SessionAssociationInfo: a main session and a session newly associated with it."""

from __future__ import annotations

from dataclasses import dataclass

from .session_info import SessionInfo

__all__ = ["SessionAssociationInfo"]


@dataclass(slots=True)
class SessionAssociationInfo:
    main_session_info: SessionInfo
    associate_session_info: SessionInfo | None
    group: str = ""

"""SessionInfo: the current record of a session (identity, metadata, live or historical)."""

from __future__ import annotations

import datetime
from dataclasses import dataclass, field

__all__ = ["SessionInfo"]


@dataclass(slots=True)
class SessionInfo:
    session_key: str
    data_source: str
    identifier: str = ""
    type: str = "Session"
    version: int = 1
    historical: bool = False
    utc_offset: datetime.timedelta = field(default_factory=datetime.timedelta)
    details: dict[str, str] = field(default_factory=dict)
    associate_session_keys: list[str] = field(default_factory=list)

    def copy(self) -> SessionInfo:
        return SessionInfo(
            self.session_key,
            self.data_source,
            self.identifier,
            self.type,
            self.version,
            self.historical,
            self.utc_offset,
            dict(self.details),
            list(self.associate_session_keys),
        )

"""SessionCreationInfo: what a new session is created with."""

from __future__ import annotations

import datetime
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from .session_detail import SessionDetail

__all__ = ["SessionCreationInfo", "details_to_dict"]


def details_to_dict(details: Any, argument: str = "details") -> dict[str, str]:
    """Normalise details given as a mapping, SessionDetail items or (key, value) pairs.

    A later duplicate key wins. Raises ``TypeError`` naming ``argument`` for anything else.
    """
    if details is None:
        return {}
    if isinstance(details, Mapping):
        pairs: Iterable[Any] = details.items()
    elif isinstance(details, (str, bytes)):
        raise TypeError(f"{argument} must be a list of SessionDetail or a dict, got a string")
    else:
        pairs = details
    result: dict[str, str] = {}
    for item in pairs:
        if isinstance(item, SessionDetail):
            key, value = item.key, item.value
        elif isinstance(item, tuple) and len(item) == 2:
            key, value = item
        else:
            raise TypeError(
                f"{argument}: {item!r} is neither a SessionDetail nor a (key, value) pair"
            )
        if not isinstance(key, str) or not isinstance(value, str):
            raise TypeError(f"{argument}: key and value must be str, got {key!r}: {value!r}")
        result[key] = value
    return result


def _local_utc_offset() -> datetime.timedelta:
    return datetime.datetime.now().astimezone().utcoffset() or datetime.timedelta()


@dataclass(frozen=True, slots=True)
class SessionCreationInfo:
    data_source: str = "Default"
    identifier: str = ""
    type: str = "Session"
    version: int = 1
    utc_offset: datetime.timedelta | None = None
    details: Any = None
    associate_session_keys: list[str] | None = None

    @property
    def effective_utc_offset(self) -> datetime.timedelta:
        return self.utc_offset if self.utc_offset is not None else _local_utc_offset()

    @property
    def details_dict(self) -> dict[str, str]:
        return details_to_dict(self.details)

    @property
    def associate_keys(self) -> list[str]:
        return list(self.associate_session_keys or [])

    def __post_init__(self) -> None:
        details_to_dict(self.details)

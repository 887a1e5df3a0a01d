"""Ending sessions whose writer is gone: one by key, or every live one silent for a while."""

from __future__ import annotations

from ..contracts.session_management.session_info import SessionInfo
from ..core.library.context import LibraryContext
from ..core.session_management.session_management_service import SessionManagementService
from ..errors import SessionNotFoundError
from .listing import SessionSummary

__all__ = ["end_in", "stale"]


def end_in(context: LibraryContext, session_key: str) -> SessionInfo:
    """Write the EndOfSession of a live session (as its writer would have), on an open context.

    The offsets it records are the ends of the data source's partitions now, laid out by the
    context's stream creation strategy. Raises ``SessionNotFoundError`` for an unknown key and
    ``ValueError`` for a session that has already ended (nothing is written then).
    """
    context.sessions.catch_up()
    record = context.sessions.get(session_key)
    if record is None:
        raise SessionNotFoundError(
            f"session {session_key} not found in {context.transport.location}"
        )
    service = SessionManagementService(context)
    service.initialise()
    service.start()
    try:
        result = service.end_session(record.info.data_source, session_key)
    finally:
        service.stop()
    if not result.success or result.data is None:
        raise ValueError(result.error_message)
    return result.data


def stale(summaries: list[SessionSummary], after_s: float, now_ms: int) -> list[SessionSummary]:
    """The live sessions whose latest record is more than ``after_s`` seconds before ``now_ms``
    (summaries listed with ``count_packets=True`` know each session's latest record)."""
    limit_ms = now_ms - after_s * 1000.0
    return [
        s
        for s in summaries
        if s.is_live and s.last_activity_ms is not None and s.last_activity_ms < limit_ms
    ]

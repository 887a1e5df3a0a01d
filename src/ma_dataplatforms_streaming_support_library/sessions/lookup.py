"""Naming a session the way people do: its key, a unique key prefix, its identifier, or ``latest``."""

from __future__ import annotations

from ..core.library.context import LibraryContext
from ..errors import SessionNotFoundError
from .listing import SessionSummary, list_in

__all__ = ["LATEST", "matching_sessions", "resolve_session_key"]

#: the word that names the session started last
LATEST = "latest"
#: candidates listed in the error for an ambiguous name
_MAX_CANDIDATES = 10


def matching_sessions(summaries: list[SessionSummary], text: str) -> list[SessionSummary]:
    """The sessions ``text`` names, in ``summaries`` order (oldest first): ``latest`` names the
    last one; otherwise every session whose key starts with ``text`` (case-insensitive) or whose
    identifier equals ``text``."""
    if text == LATEST:
        return summaries[-1:]
    prefix = text.lower()
    return [s for s in summaries if s.session_key.startswith(prefix) or s.info.identifier == text]


def resolve_session_key(context: LibraryContext, text: str, data_source: str | None = None) -> str:
    """The one session key ``text`` names on the context's store (see ``matching_sessions``).

    Raises ``SessionNotFoundError`` when no session matches, or several do (listing them).
    """
    text = text.strip()
    context.sessions.catch_up()
    exact = context.sessions.get(text)
    if exact is not None and (data_source is None or exact.info.data_source == data_source):
        return text
    location = context.transport.location
    found = matching_sessions(list_in(context, data_source=data_source), text) if text else []
    if len(found) == 1:
        return found[0].session_key
    where = "" if data_source is None else f" of data source {data_source!r}"
    if not found:
        raise SessionNotFoundError(f"session {text} not found{where} in {location}")
    listed = "; ".join(
        f"{s.session_key} ({s.info.identifier or 'no identifier'})"
        for s in found[-_MAX_CANDIDATES:]
    )
    more = "" if len(found) <= _MAX_CANDIDATES else f" (the last {_MAX_CANDIDATES} shown)"
    raise SessionNotFoundError(
        f"{text!r} names {len(found)} sessions{where} in {location}{more}: {listed}; "
        "give more of the key"
    )

"""Argument checks shared by the services: each returns an error message naming the argument, or ''."""

from __future__ import annotations

from ...layout import name_error

__all__ = ["data_source_error", "session_key_error", "text_error"]


def text_error(value: object, argument: str, *, allow_empty: bool = True) -> str:
    if value is None:
        return f"{argument} must be a str, got None"
    if not isinstance(value, str):
        return f"{argument} must be a str, got {type(value).__name__}"
    if not allow_empty and not value:
        return f"{argument} must not be empty"
    return ""


def data_source_error(data_source: object, stream: object = "") -> str:
    """Type checks, then the Kafka topic-name rules for the data source and stream."""
    error = text_error(data_source, "data_source", allow_empty=False) or text_error(
        stream, "stream"
    )
    if error:
        return error
    assert isinstance(data_source, str) and isinstance(stream, str)
    return name_error(data_source, stream)


def session_key_error(session_key: object) -> str:
    return text_error(session_key, "session_key", allow_empty=False)

"""Argument checks of the session functions: each raises ``ConfigurationError`` naming the argument."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from ..contracts.shared.stream_api_configuration import parse_partition_mappings
from ..core.base.validation import (
    MAX_KEY_CHARS,
    data_source_error,
    details_error,
    items_error,
    text_error,
)
from ..errors import ConfigurationError
from ..redaction import shown

__all__ = [
    "check_progress",
    "check_read_arguments",
    "check_session_arguments",
    "check_session_key",
    "parameter_identifiers",
]


def _raise_if(error: str) -> None:
    if error:
        raise ConfigurationError(error)


def check_session_key(session_key: object, argument: str = "session_key") -> None:
    _raise_if(text_error(session_key, argument, allow_empty=False, max_chars=MAX_KEY_CHARS))


def check_progress(progress: object) -> None:
    """``progress`` is None or a callable taking (done, total)."""
    if progress is not None and not callable(progress):
        raise ConfigurationError(
            f"progress must be a callable progress(done, total) or None, got {shown(progress)}"
        )


def _check_streams(streams: object) -> None:
    if streams is None:
        return
    if isinstance(streams, (str, bytes)) or not isinstance(streams, Sequence):
        raise ConfigurationError(
            f"streams must be a list of stream names ('' is the main stream) or None, "
            f"got {shown(streams)}"
        )
    _raise_if(items_error(len(streams), "streams"))
    for stream in streams:
        _raise_if(text_error(stream, "streams item"))


def check_read_arguments(
    session_key: object,
    data_source: object,
    streams: object,
    partition_mappings: Mapping[str, int] | None,
    progress: object,
) -> dict[str, int]:
    """Check ``read_session``'s arguments before anything is read; the partition mappings."""
    check_session_key(session_key)
    if data_source is not None:
        _raise_if(data_source_error(data_source))
    _check_streams(streams)
    check_progress(progress)
    try:
        return parse_partition_mappings(partition_mappings)
    except (TypeError, ValueError) as exc:
        raise ConfigurationError(str(exc)) from None


def check_session_arguments(data_source: object, identifier: object, details: object) -> None:
    """What a new session is created with: a data source, an identifier and details."""
    _raise_if(
        data_source_error(data_source)
        or text_error(identifier, "identifier")
        or details_error(details)
    )


def parameter_identifiers(parameters: str | Sequence[str]) -> list[str]:
    """One identifier or a list of them, as a list; ``ConfigurationError`` for an empty list,
    a non-string or empty identifier, or one named twice."""
    try:
        identifiers = [parameters] if isinstance(parameters, str) else list(parameters)
    except TypeError:
        identifiers = []
    if not identifiers or not all(isinstance(i, str) and i for i in identifiers):
        raise ConfigurationError(
            f"parameters must be an identifier or a non-empty list of them, got {shown(parameters)}"
        )
    if len(set(identifiers)) != len(identifiers):
        raise ConfigurationError(f"parameters {identifiers} name a parameter twice")
    return identifiers

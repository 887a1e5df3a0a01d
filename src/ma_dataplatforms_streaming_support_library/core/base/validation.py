"""Argument checks shared by the services: each returns an error message naming the argument, or ''.

Every size a user controls is bounded here, so that no argument can make the library build a huge
message, topic or record:

* session keys: at most ``MAX_KEY_CHARS`` (256) characters (the Stream API's are 36-character
  UUIDs);
* identifiers, types, parameter and event identifiers, detail keys: at most ``MAX_NAME_CHARS``
  (1,024) characters;
* detail values: at most ``MAX_VALUE_CHARS`` (65,536) characters, and at most ``MAX_ITEMS``
  (10,000) details, associate keys or parameter identifiers in one call.

Text must also be encodable as UTF-8 (a lone surrogate is not), because every string is written
to the log as UTF-8 protobuf. Messages quote arguments through ``redaction.shown``.
"""

from __future__ import annotations

from typing import Any

from ...contracts.session_management.session_creation_info import details_to_dict
from ...layout import name_error
from ...redaction import shown

__all__ = [
    "MAX_ITEMS",
    "MAX_KEY_CHARS",
    "MAX_NAME_CHARS",
    "MAX_VALUE_CHARS",
    "data_source_error",
    "details_error",
    "items_error",
    "session_key_error",
    "text_error",
]

MAX_KEY_CHARS = 256
MAX_NAME_CHARS = 1024
MAX_VALUE_CHARS = 65_536
MAX_ITEMS = 10_000


def text_error(
    value: object, argument: str, *, allow_empty: bool = True, max_chars: int = MAX_NAME_CHARS
) -> str:
    """Why ``value`` is not a usable str argument (type, emptiness, length, UTF-8), or ``""``."""
    if value is None:
        return f"{argument} must be a str, got None"
    if not isinstance(value, str):
        return f"{argument} must be a str, got {type(value).__name__}"
    if not allow_empty and not value:
        return f"{argument} must not be empty"
    if len(value) > max_chars:
        return (
            f"{argument} {shown(value)} is too long: at most {max_chars} characters, "
            f"got {len(value)}"
        )
    try:
        value.encode("utf-8")
    except UnicodeEncodeError as exc:
        return (
            f"{argument} {shown(value)} is not valid text: a lone surrogate at position "
            f"{exc.start} cannot be encoded as UTF-8"
        )
    return ""


def items_error(count: int, argument: str, max_items: int = MAX_ITEMS) -> str:
    """Why ``count`` items are too many for ``argument``, or ``""``."""
    if count > max_items:
        return f"{argument} holds {count} items; at most {max_items} are allowed"
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
    return text_error(session_key, "session_key", allow_empty=False, max_chars=MAX_KEY_CHARS)


def details_error(details: Any, argument: str = "details") -> str:
    """Why ``details`` cannot be a session's details (type, count, sizes), or ``""``."""
    try:
        normalised = details_to_dict(details, argument)
    except TypeError as exc:
        return str(exc)
    error = items_error(len(normalised), argument)
    for key, value in normalised.items():
        error = (
            error
            or text_error(key, f"{argument} key", allow_empty=False)
            or text_error(value, f"{argument} value of {shown(key)}", max_chars=MAX_VALUE_CHARS)
        )
    return error

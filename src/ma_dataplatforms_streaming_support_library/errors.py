"""The library's exception hierarchy: one base class, so callers can catch everything we raise."""

from __future__ import annotations

__all__ = ["StreamingError"]


class StreamingError(Exception):
    """Base class of every exception raised by this library."""

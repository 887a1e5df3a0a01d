"""IHandler, re-exported here for the import path the official reader README uses."""

from __future__ import annotations

from ..shared.i_handler import IHandler

__all__ = ["IHandler"]

"""The ``ma-streaming`` command line: list, inspect, follow, export and plot telemetry sessions."""

from __future__ import annotations

__all__ = ["common", "export", "main", "sessions", "tail"]

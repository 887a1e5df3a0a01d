"""ma-streaming: the pure-Python Streaming Support Library for Motion Applied Open Data telemetry."""

from __future__ import annotations

__version__ = "0.1.0"

__all__ = ["__version__"]

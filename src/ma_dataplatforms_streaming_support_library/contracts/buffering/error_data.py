"""ErrorData: an error record carried in the merged output when errors are included."""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["ErrorData"]


@dataclass(frozen=True, slots=True)
class ErrorData:
    """Mirrors ``ErrorPacket``; ``type`` and ``status`` are the protobuf enum numbers."""

    timestamp: int
    error_identifier: str = ""
    application_name: str = ""
    group: str = ""
    name: str = ""
    description: str = ""
    type: int = 0
    status: int = 0

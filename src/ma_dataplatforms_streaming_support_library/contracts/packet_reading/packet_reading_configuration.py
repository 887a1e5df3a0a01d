"""PacketReadingConfiguration: which sessions and streams a reader reads, and its timeouts."""

from __future__ import annotations

import math
from dataclasses import dataclass, field

from .packet_reading_type import PacketReadingType

__all__ = ["PacketReadingConfiguration"]


@dataclass(slots=True)
class PacketReadingConfiguration:
    """Python argument order of the official package (it differs from C#).

    ``session_key=""`` chooses sessions by ``session_identifier_pattern`` (a case-sensitive glob;
    ``""`` or ``"*"`` match all). ``streams=[]`` means every stream, main stream included.
    ``timeout_seconds`` is the idle time after which a stream counts as complete.
    """

    session_key: str = ""
    timeout_seconds: float = 30
    raise_exception_on_timeout: bool = False
    data_source: str = "Default"
    session_identifier_pattern: str = "*"
    reading_type: PacketReadingType = PacketReadingType.LIVE
    streams: list[str] = field(default_factory=list)
    exclude_main_stream: bool = False

    def validate(self) -> str:
        """An error message naming the first bad field, or ``""`` when the configuration is usable."""
        if self.session_key is None or not isinstance(self.session_key, str):
            return f"session_key must be a str, got {self.session_key!r}"
        timeout = self.timeout_seconds
        if (
            isinstance(timeout, bool)
            or not isinstance(timeout, (int, float))
            or not math.isfinite(timeout)
            or timeout <= 0
        ):
            return f"timeout_seconds must be a positive number, got {timeout!r}"
        if not isinstance(self.data_source, str) or not self.data_source:
            return f"data_source must be a non-empty str, got {self.data_source!r}"
        if not isinstance(self.session_identifier_pattern, str):
            return (
                f"session_identifier_pattern must be a str, got {self.session_identifier_pattern!r}"
            )
        try:
            PacketReadingType(self.reading_type)
        except ValueError:
            return f"reading_type must be a PacketReadingType, got {self.reading_type!r}"
        if self.streams is None or isinstance(self.streams, str):
            return f"streams must be a list of str, got {self.streams!r}"
        if not all(isinstance(stream, str) for stream in self.streams):
            return f"streams must be a list of str, got {self.streams!r}"
        return ""

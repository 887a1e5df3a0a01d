"""TimestampColumn: the values of every parameter that has a sample at one timestamp."""

from __future__ import annotations

from dataclasses import dataclass, field

from .sample_value import SampleValue

__all__ = ["TimestampColumn"]


@dataclass(slots=True)
class TimestampColumn:
    timestamp: int
    sample_values: list[SampleValue] = field(default_factory=list)

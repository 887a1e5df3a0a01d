"""DataPoint: one sample handed to a custom subscription processor."""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["DataPoint"]


@dataclass(frozen=True, slots=True)
class DataPoint:
    parameter_identifier: str
    timestamp_nanoseconds: int
    value: float

"""ProcessContext: one parameter's samples in one grid cell, as given to a processor."""

from __future__ import annotations

from dataclasses import dataclass, field

from .data_point import DataPoint

__all__ = ["ProcessContext"]


@dataclass(slots=True)
class ProcessContext:
    """``interval_data_points`` are the VALID, non-NaN samples of the cell in time order."""

    parameter_id: str
    interval_start_time_nano: int
    interval_end_time_nano: int
    interval_data_points: list[DataPoint] = field(default_factory=list)

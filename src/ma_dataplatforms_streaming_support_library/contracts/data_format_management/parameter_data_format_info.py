"""ParameterDataFormatInfo: a parameter data format id and its ordered parameter list."""

from __future__ import annotations

from dataclasses import dataclass, field

__all__ = ["ParameterDataFormatInfo"]


@dataclass(slots=True)
class ParameterDataFormatInfo:
    data_source: str
    parameter_list: list[str] = field(default_factory=list)
    data_format_id: int = 0

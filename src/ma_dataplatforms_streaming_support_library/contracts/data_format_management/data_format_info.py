"""DataFormatInfo: one format of a data source with every id ever published for it."""

from __future__ import annotations

from dataclasses import dataclass, field

from .data_format_info_type import DataFormatInfoType

__all__ = ["DataFormatInfo"]


@dataclass(slots=True)
class DataFormatInfo:
    data_source: str
    key: str
    data_formats: list[int] = field(default_factory=list)
    identifiers: list[str] = field(default_factory=list)
    data_format_info_type: DataFormatInfoType = DataFormatInfoType.PARAMETERS

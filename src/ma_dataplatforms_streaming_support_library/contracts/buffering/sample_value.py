"""SampleValue: one parameter's value inside a TimestampColumn."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TypeVar

from .generic_value import GenericValue
from .value_status import ValueStatus

__all__ = ["SampleValue"]

X = TypeVar("X")


@dataclass(frozen=True, slots=True)
class SampleValue:
    identifier: str
    value: GenericValue
    status: ValueStatus = ValueStatus.VALID

    @property
    def value_type(self) -> type:
        return self.value.value_type

    def cast(self, t: type[X]) -> X | None:
        return self.value.cast(t)

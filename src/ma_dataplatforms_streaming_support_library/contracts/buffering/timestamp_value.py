"""TimestampValue: one timestamped value inside a SampleData."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TypeVar

from .generic_value import GenericValue
from .value_status import ValueStatus

__all__ = ["TimestampValue"]

X = TypeVar("X")


@dataclass(frozen=True, slots=True)
class TimestampValue:
    timestamp: int
    value: GenericValue
    status: ValueStatus = ValueStatus.VALID

    @property
    def value_type(self) -> type:
        return self.value.value_type

    def cast(self, t: type[X]) -> X | None:
        return self.value.cast(t)

"""ApiResult: the answer of every public service method (success flag, data, error message)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Generic, TypeVar

__all__ = ["ApiResult"]

T = TypeVar("T")


@dataclass(slots=True)
class ApiResult(Generic[T]):
    """Outcome of a service call: ``success``; ``data`` when there is any; ``error_message`` otherwise."""

    success: bool
    data: T | None = None
    error_message: str = ""

    @property
    def message(self) -> str:
        """Alias of ``error_message`` (the C# name)."""
        return self.error_message

    @classmethod
    def ok(cls, data: T | None = None) -> ApiResult[T]:
        return cls(True, data, "")

    @classmethod
    def fail(cls, error_message: str) -> ApiResult[T]:
        return cls(False, None, error_message)

    def __bool__(self) -> bool:
        return self.success

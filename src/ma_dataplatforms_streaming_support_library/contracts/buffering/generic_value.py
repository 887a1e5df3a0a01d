"""GenericValue: a sample value of any kind (number, string, marker, event …) with a typed cast."""

from __future__ import annotations

from typing import Any, TypeVar

__all__ = ["GenericValue"]

X = TypeVar("X")

_NUMERIC = (int, float, bool)


class GenericValue:
    """Holds the raw Python object; ``value_type`` is its type (``float`` for numeric samples).

    ``cast(t)`` returns the value when it is a ``t``, converts between ``int``/``float``/``bool``,
    and returns ``None`` for any other combination (C# ``Cast<T>()`` on a wrong type).
    """

    __slots__ = ("value",)

    def __init__(self, value: Any) -> None:
        self.value = value

    @property
    def value_type(self) -> type:
        return type(self.value)

    def cast(self, t: type[X]) -> X | None:
        value = self.value
        if isinstance(value, t):
            return value
        if t in _NUMERIC and isinstance(value, _NUMERIC):
            return t(value)  # type: ignore[call-arg]
        return None

    def __eq__(self, other: object) -> bool:
        if isinstance(other, GenericValue):
            return bool(self.value == other.value)
        return NotImplemented

    def __hash__(self) -> int:
        return hash(self.value)

    def __repr__(self) -> str:
        return f"GenericValue({self.value!r})"

"""ParameterRegistry: parameter identifiers as small integers, and which ones are subscribed."""

from __future__ import annotations

from collections.abc import Iterable, Sequence

import numpy as np

from ...arrays import I32Array

__all__ = ["ParameterRegistry"]


class ParameterRegistry:
    """Numbers identifiers in first-seen order and tracks the subscription.

    Subscribing numbers a parameter, so the numbering follows subscription order and the merged
    output lists parameters in that order. ``subscribe_all`` covers every parameter, including
    ones first seen later; unsubscribing one of them afterwards excludes just that one.
    ``version`` changes whenever the subscription does. Not thread-safe.
    """

    def __init__(self, subscribed: Iterable[str] | None = None) -> None:
        self._index: dict[str, int] = {}
        self._names: list[str] = []
        self._subscribed: set[int] = set()
        self._excluded: set[int] = set()
        self._all = subscribed is None
        self.version = 0
        if subscribed is not None:
            self.subscribe(subscribed)

    @property
    def subscribes_all(self) -> bool:
        return self._all

    def indices(self, identifiers: Sequence[str]) -> I32Array:
        """The numbers of ``identifiers``, numbering unknown ones."""
        index = self._index
        result = np.empty(len(identifiers), dtype=np.int32)
        for position, identifier in enumerate(identifiers):
            number = index.get(identifier)
            if number is None:
                number = index[identifier] = len(self._names)
                self._names.append(identifier)
            result[position] = number
        return result

    def name(self, number: int) -> str:
        return self._names[number]

    def names(self) -> list[str]:
        """Every numbered identifier; position = number."""
        return list(self._names)

    def is_subscribed(self, number: int) -> bool:
        if self._all:
            return number not in self._excluded
        return number in self._subscribed

    def subscribed_mask(self, numbers: I32Array) -> np.ndarray:
        """A boolean mask over ``numbers``: which are subscribed."""
        return np.fromiter(
            (self.is_subscribed(int(n)) for n in numbers.tolist()),
            dtype=np.bool_,
            count=numbers.size,
        )

    def subscribed_identifiers(self) -> list[str]:
        return [name for number, name in enumerate(self._names) if self.is_subscribed(number)]

    def subscribe(self, identifiers: Iterable[str]) -> None:
        numbers = self.indices(list(identifiers)).tolist()
        self._subscribed.update(numbers)
        self._excluded.difference_update(numbers)
        self.version += 1

    def subscribe_all(self) -> None:
        self._all = True
        self._excluded.clear()
        self.version += 1

    def unsubscribe(self, identifiers: Iterable[str]) -> list[int]:
        """Unsubscribe; the numbers that were subscribed before."""
        numbers = [n for n in self.indices(list(identifiers)).tolist() if self.is_subscribed(n)]
        self._subscribed.difference_update(numbers)
        if self._all:
            self._excluded.update(numbers)
        self.version += 1
        return numbers

    def unsubscribe_all(self) -> list[int]:
        numbers = [n for n in range(len(self._names)) if self.is_subscribed(n)]
        self._all = False
        self._subscribed.clear()
        self._excluded.clear()
        self.version += 1
        return numbers

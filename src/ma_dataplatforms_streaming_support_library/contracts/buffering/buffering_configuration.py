"""BufferingConfiguration: window, slide, merge strategy and extras of a sample reader service."""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass

from .merge_strategy import MergeStrategy

__all__ = ["BufferingConfiguration"]


@dataclass(frozen=True, init=False)
class BufferingConfiguration:
    """Configuration of a sample reader, positional order as the C# ``BufferingConfiguration``.

    ``subscribed_parameters=None`` subscribes every parameter (DECISIONS 12); a list subscribes
    exactly those (an empty list subscribes nothing). ``buffering_window_length`` is in
    milliseconds and must be > 0; ``sliding_window_percentage`` must lie in (0, 100]. ``None``
    for the merge strategy and the include flags resolves to ``READING_MERGE`` / ``False``, so the
    attributes always hold the effective values. A bad argument raises ``ValueError`` naming it.
    """

    subscribed_parameters: list[str] | None
    buffering_window_length: int
    sliding_window_percentage: float
    merge_strategy: MergeStrategy
    include_marker_data: bool
    include_event_data: bool
    include_error_data: bool
    include_can_data: bool

    def __init__(
        self,
        subscribed_parameters: Iterable[str] | None = None,
        buffering_window_length: int = 3000,
        sliding_window_percentage: float = 5,
        merge_strategy: MergeStrategy | None = None,
        include_marker_data: bool | None = None,
        include_event_data: bool | None = None,
        include_error_data: bool | None = None,
        include_can_data: bool | None = None,
    ) -> None:
        parameters = _parameter_list(subscribed_parameters)
        window = _positive_number("buffering_window_length", buffering_window_length)
        percentage = _percentage(sliding_window_percentage)
        strategy = MergeStrategy.READING_MERGE if merge_strategy is None else merge_strategy
        try:
            strategy = MergeStrategy(strategy)
        except ValueError:
            raise ValueError(
                f"merge_strategy must be a MergeStrategy, got {merge_strategy!r}"
            ) from None
        set_field = object.__setattr__
        set_field(self, "subscribed_parameters", parameters)
        set_field(self, "buffering_window_length", window)
        set_field(self, "sliding_window_percentage", percentage)
        set_field(self, "merge_strategy", strategy)
        set_field(self, "include_marker_data", bool(include_marker_data))
        set_field(self, "include_event_data", bool(include_event_data))
        set_field(self, "include_error_data", bool(include_error_data))
        set_field(self, "include_can_data", bool(include_can_data))

    @property
    def window_length_ns(self) -> int:
        """The buffering window in nanoseconds."""
        return round(self.buffering_window_length * 1_000_000)

    @property
    def slide_length_ns(self) -> int:
        """Window length x percentage / 100, in nanoseconds (at least 1)."""
        return max(1, round(self.buffering_window_length * self.sliding_window_percentage * 10_000))


def _parameter_list(parameters: Iterable[str] | None) -> list[str] | None:
    if parameters is None:
        return None
    if isinstance(parameters, (str, bytes)):
        raise ValueError(f"subscribed_parameters must be a list of str or None, got {parameters!r}")
    result = list(parameters)
    for identifier in result:
        if not isinstance(identifier, str):
            raise ValueError(f"subscribed_parameters must contain only str, got {identifier!r}")
    return result


def _is_number(value: object) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _positive_number(name: str, value: int) -> int:
    if not _is_number(value) or not math.isfinite(value) or value <= 0:
        raise ValueError(f"{name} must be a finite number of milliseconds > 0, got {value!r}")
    return value


def _percentage(value: float) -> float:
    if not _is_number(value) or not math.isfinite(value) or not 0 < value <= 100:
        raise ValueError(f"sliding_window_percentage must lie in (0, 100], got {value!r}")
    return value

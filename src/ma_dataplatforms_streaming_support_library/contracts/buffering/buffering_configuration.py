"""BufferingConfiguration: window, slide, merge strategy and extras of a sample reader service."""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from .merge_strategy import MergeStrategy

__all__ = ["BufferingConfiguration"]


@dataclass(frozen=True, init=False)
class BufferingConfiguration:
    """Configuration of a sample reader, positional order as the C# ``BufferingConfiguration``.

    ``subscribed_parameters=None`` subscribes every parameter; a list subscribes
    exactly those (an empty list subscribes nothing). ``buffering_window_length`` is in
    milliseconds and must be > 0; ``sliding_window_percentage`` must lie in (0, 100]. ``None``
    for the merge strategy and the include flags resolves to ``READING_MERGE`` / ``False``, so the
    attributes hold the effective values.

    Construction never raises (as with the official package, a bad configuration is reported by
    ``create_service``): ``validate()`` raises ``ValueError`` naming the first bad argument, and
    the sample reading module API turns that into ``ApiResult(success=False)``.
    """

    subscribed_parameters: list[str] | None
    buffering_window_length: float
    sliding_window_percentage: float
    merge_strategy: MergeStrategy
    include_marker_data: bool
    include_event_data: bool
    include_error_data: bool
    include_can_data: bool

    def __init__(
        self,
        subscribed_parameters: Iterable[str] | None = None,
        buffering_window_length: float = 3000,
        sliding_window_percentage: float = 5,
        merge_strategy: MergeStrategy | None = None,
        include_marker_data: bool | None = None,
        include_event_data: bool | None = None,
        include_error_data: bool | None = None,
        include_can_data: bool | None = None,
    ) -> None:
        parameters: Any = subscribed_parameters
        if parameters is not None and not isinstance(parameters, (str, bytes)):
            parameters = list(parameters)
        strategy = MergeStrategy.READING_MERGE if merge_strategy is None else merge_strategy
        if isinstance(strategy, int) and strategy in (m.value for m in MergeStrategy):
            strategy = MergeStrategy(strategy)
        set_field = object.__setattr__
        set_field(self, "subscribed_parameters", parameters)
        set_field(self, "buffering_window_length", buffering_window_length)
        set_field(self, "sliding_window_percentage", sliding_window_percentage)
        set_field(self, "merge_strategy", strategy)
        set_field(self, "include_marker_data", bool(include_marker_data))
        set_field(self, "include_event_data", bool(include_event_data))
        set_field(self, "include_error_data", bool(include_error_data))
        set_field(self, "include_can_data", bool(include_can_data))

    def validate(self) -> None:
        """Raise ``ValueError`` naming the first bad argument; return when all are usable."""
        parameters = self.subscribed_parameters
        if parameters is not None:
            if not isinstance(parameters, list):
                raise ValueError(
                    f"subscribed_parameters must be a list of str or None, got {parameters!r}"
                )
            for identifier in parameters:
                if not isinstance(identifier, str):
                    raise ValueError(
                        f"subscribed_parameters must contain only str, got {identifier!r}"
                    )
        window = self.buffering_window_length
        if not _is_number(window) or not math.isfinite(window) or window <= 0:
            raise ValueError(
                f"buffering_window_length must be a finite number of milliseconds > 0, "
                f"got {window!r}"
            )
        percentage = self.sliding_window_percentage
        if not _is_number(percentage) or not math.isfinite(percentage) or not 0 < percentage <= 100:
            raise ValueError(f"sliding_window_percentage must lie in (0, 100], got {percentage!r}")
        if not isinstance(self.merge_strategy, MergeStrategy):
            raise ValueError(f"merge_strategy must be a MergeStrategy, got {self.merge_strategy!r}")

    @property
    def window_length_ns(self) -> int:
        """The buffering window in nanoseconds (at least 1)."""
        return max(1, round(self.buffering_window_length * 1_000_000))

    @property
    def slide_length_ns(self) -> int:
        """Window length x percentage / 100, in nanoseconds (at least 1)."""
        return max(1, round(self.buffering_window_length * self.sliding_window_percentage * 10_000))


def _is_number(value: object) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)

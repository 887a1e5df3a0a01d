"""DefaultResult: the statistics (first/last/min/max/mean/count) of one parameter in one cell."""

from __future__ import annotations

from .process_result import ProcessResult

__all__ = ["DefaultResult"]


class DefaultResult(ProcessResult):
    """Statistics of the VALID, non-NaN numeric samples of cell ``[start, end)``.

    Three shapes (the three C# constructors): a cell with samples (``count`` > 0); a super-sampled
    cell without samples, every statistic equal to the last value before it and ``count`` 0
    (``super_sampled``); an empty cell before the parameter's first value, statistics ``None``
    (``empty``). ``missing_count``, ``error_count``, ``unspecified_count`` count the samples with
    those statuses and ``nan_count`` the VALID samples whose value is NaN; none of them enter the
    statistics. These four come after the C# fields, with default 0, so code that builds results
    the C# way is unaffected.
    """

    _fields = (
        *ProcessResult._fields,
        "first",
        "last",
        "min",
        "max",
        "mean",
        "count",
        "is_super_sampled",
        "missing_count",
        "error_count",
        "unspecified_count",
        "nan_count",
    )

    def __init__(
        self,
        identifier: str,
        start: int,
        end: int,
        first: float | None = None,
        last: float | None = None,
        min: float | None = None,  # the official attribute name
        max: float | None = None,  # the official attribute name
        mean: float | None = None,
        count: int = 0,
        is_super_sampled: bool = False,
        missing_count: int = 0,
        error_count: int = 0,
        unspecified_count: int = 0,
        nan_count: int = 0,
    ) -> None:
        self.identifier = identifier
        self.interval_start_time_nano = start
        self.interval_end_time_nano = end
        self.first = first
        self.last = last
        self.min = min
        self.max = max
        self.mean = mean
        self.count = count
        self.is_super_sampled = is_super_sampled
        self.missing_count = missing_count
        self.error_count = error_count
        self.unspecified_count = unspecified_count
        self.nan_count = nan_count

    @classmethod
    def super_sampled(
        cls, identifier: str, start: int, end: int, last_value_before: float
    ) -> DefaultResult:
        """A cell without samples, filled with the last value before it."""
        value = float(last_value_before)
        return cls(identifier, start, end, value, value, value, value, value, 0, True)

    @classmethod
    def empty(cls, identifier: str, start: int, end: int) -> DefaultResult:
        """A cell without samples and without any earlier value."""
        return cls(identifier, start, end)

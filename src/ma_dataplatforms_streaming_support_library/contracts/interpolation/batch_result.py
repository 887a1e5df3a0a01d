"""BatchResult: the results of every grid cell completed since a subscription's last delivery."""

from __future__ import annotations

from collections.abc import Callable

from .i_process_result import IProcessResult

__all__ = ["BatchResult"]


class BatchResult:
    """Results ordered by cell start, then by the subscription's parameter order.

    ``delivery_interval_start_time_nano`` is the start of the first cell and
    ``delivery_interval_end_time_nano`` the end of the last. The results may be built lazily on
    first access (the data reader does so); the result is the same list.
    """

    __slots__ = (
        "_builder",
        "_results",
        "data_source",
        "delivery_interval_end_time_nano",
        "delivery_interval_start_time_nano",
        "session_key",
        "subscription_key",
    )

    def __init__(
        self,
        data_source: str,
        session_key: str,
        subscription_key: str,
        start: int,
        end: int,
        results: list[IProcessResult] | None = None,
    ) -> None:
        self.data_source = data_source
        self.session_key = session_key
        self.subscription_key = subscription_key
        self.delivery_interval_start_time_nano = start
        self.delivery_interval_end_time_nano = end
        self._results = [] if results is None else results
        self._builder: Callable[[], list[IProcessResult]] | None = None

    @classmethod
    def lazy(
        cls,
        data_source: str,
        session_key: str,
        subscription_key: str,
        start: int,
        end: int,
        builder: Callable[[], list[IProcessResult]],
    ) -> BatchResult:
        """An instance whose results are built by ``builder`` when first read."""
        batch = cls(data_source, session_key, subscription_key, start, end)
        batch._builder = builder
        return batch

    @property
    def results(self) -> list[IProcessResult]:
        builder = self._builder
        if builder is not None:
            self._results = builder()
            self._builder = None
        return self._results

    @results.setter
    def results(self, results: list[IProcessResult]) -> None:
        self._builder = None
        self._results = results

    def __repr__(self) -> str:
        return (
            f"BatchResult(data_source={self.data_source!r}, session_key={self.session_key!r}, "
            f"subscription_key={self.subscription_key!r}, "
            f"start={self.delivery_interval_start_time_nano}, "
            f"end={self.delivery_interval_end_time_nano}, results={len(self.results)})"
        )

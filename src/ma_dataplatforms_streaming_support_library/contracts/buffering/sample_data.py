"""SampleData: one parameter's values in one released time slice, ascending by timestamp."""

from __future__ import annotations

from collections.abc import Callable

from .timestamp_value import TimestampValue

__all__ = ["SampleData"]


class SampleData:
    """Values of ``identifier`` in ``[start_time, end_time)``; not aligned with other parameters.

    The values may be built lazily from arrays on first access (the sample reader does so).
    """

    __slots__ = (
        "_builder",
        "_values",
        "data_source",
        "end_time",
        "identifier",
        "session_key",
        "start_time",
    )

    def __init__(
        self,
        data_source: str = "",
        session_key: str = "",
        start_time: int = 0,
        end_time: int = 0,
        identifier: str = "",
        values: list[TimestampValue] | None = None,
    ) -> None:
        self.data_source = data_source
        self.session_key = session_key
        self.start_time = start_time
        self.end_time = end_time
        self.identifier = identifier
        self._values = [] if values is None else values
        self._builder: Callable[[], list[TimestampValue]] | None = None

    @classmethod
    def lazy(
        cls,
        data_source: str,
        session_key: str,
        start_time: int,
        end_time: int,
        identifier: str,
        builder: Callable[[], list[TimestampValue]],
    ) -> SampleData:
        """An instance whose values are built by ``builder`` when first read."""
        data = cls(data_source, session_key, start_time, end_time, identifier)
        data._builder = builder
        return data

    @property
    def values(self) -> list[TimestampValue]:
        builder = self._builder
        if builder is not None:
            self._values = builder()
            self._builder = None
        return self._values

    @values.setter
    def values(self, values: list[TimestampValue]) -> None:
        self._builder = None
        self._values = values

    def __repr__(self) -> str:
        return (
            f"{type(self).__name__}(data_source={self.data_source!r}, "
            f"session_key={self.session_key!r}, identifier={self.identifier!r}, "
            f"start_time={self.start_time}, end_time={self.end_time}, values={len(self.values)})"
        )

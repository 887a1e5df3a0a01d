"""TimestampData: one released time slice, as columns of values sharing a timestamp."""

from __future__ import annotations

from collections.abc import Callable

from .timestamp_column import TimestampColumn

__all__ = ["TimestampData"]


class TimestampData:
    """Slice ``[start_time, end_time)`` of a session, columns ascending by timestamp.

    ``timestamp`` is ``start_time`` (the C# API reference name). The columns may be built lazily
    from arrays on first access (the sample reader does so); the result is the same list.
    """

    __slots__ = (
        "_builder",
        "_time_columns",
        "data_source",
        "end_time",
        "session_key",
        "start_time",
    )

    def __init__(
        self,
        data_source: str = "",
        session_key: str = "",
        start_time: int = 0,
        end_time: int = 0,
        time_columns: list[TimestampColumn] | None = None,
    ) -> None:
        self.data_source = data_source
        self.session_key = session_key
        self.start_time = start_time
        self.end_time = end_time
        self._time_columns = [] if time_columns is None else time_columns
        self._builder: Callable[[], list[TimestampColumn]] | None = None

    @classmethod
    def lazy(
        cls,
        data_source: str,
        session_key: str,
        start_time: int,
        end_time: int,
        builder: Callable[[], list[TimestampColumn]],
    ) -> TimestampData:
        """An instance whose columns are built by ``builder`` when first read."""
        data = cls(data_source, session_key, start_time, end_time)
        data._builder = builder
        return data

    @property
    def timestamp(self) -> int:
        return self.start_time

    @property
    def time_columns(self) -> list[TimestampColumn]:
        builder = self._builder
        if builder is not None:
            self._time_columns = builder()
            self._builder = None
        return self._time_columns

    @time_columns.setter
    def time_columns(self, columns: list[TimestampColumn]) -> None:
        self._builder = None
        self._time_columns = columns

    def __repr__(self) -> str:
        return (
            f"{type(self).__name__}(data_source={self.data_source!r}, "
            f"session_key={self.session_key!r}, start_time={self.start_time}, "
            f"end_time={self.end_time}, columns={len(self.time_columns)})"
        )

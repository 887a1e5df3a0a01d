"""ProcessResult: the plain IProcessResult (parameter and grid cell), base of DefaultResult."""

from __future__ import annotations

from .i_process_result import IProcessResult

__all__ = ["ProcessResult"]


class ProcessResult(IProcessResult):
    """``ProcessResult(identifier, start, end)``: a result for cell ``[start, end)`` in ns."""

    _fields: tuple[str, ...] = ("identifier", "interval_start_time_nano", "interval_end_time_nano")

    def __init__(self, identifier: str, start: int, end: int) -> None:
        self.identifier = identifier
        self.interval_start_time_nano = start
        self.interval_end_time_nano = end

    def __eq__(self, other: object) -> bool:
        if type(other) is not type(self):
            return NotImplemented
        return all(getattr(self, name) == getattr(other, name) for name in self._fields)

    __hash__ = None  # type: ignore[assignment]  # mutable, compared by value

    def __repr__(self) -> str:
        fields = ", ".join(f"{name}={getattr(self, name)!r}" for name in self._fields)
        return f"{type(self).__name__}({fields})"

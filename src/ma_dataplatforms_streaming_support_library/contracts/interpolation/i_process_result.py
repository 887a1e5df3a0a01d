"""IProcessResult: what a subscription processor returns for one parameter and one grid cell."""

from __future__ import annotations

import abc

__all__ = ["IProcessResult"]


class IProcessResult(abc.ABC):
    """A result names its parameter and the cell ``[interval_start, interval_end)`` in ns."""

    identifier: str
    interval_start_time_nano: int
    interval_end_time_nano: int

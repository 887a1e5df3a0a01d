"""ProcessResult: the plain IProcessResult (parameter and grid cell), base of DefaultResult."""

from __future__ import annotations

import logging
from dataclasses import dataclass

from .i_process_result import IProcessResult

__all__ = ["ProcessResult"]

logger = logging.getLogger(__name__)


@dataclass(slots=True)
class ProcessResult(IProcessResult):
    identifier: str
    interval_start_time_nano: int
    interval_end_time_nano: int

"""DataPoint: one sample handed to a custom subscription processor."""

from __future__ import annotations

import logging
from dataclasses import dataclass

__all__ = ["DataPoint"]

logger = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class DataPoint:
    parameter_identifier: str
    timestamp_nanoseconds: int
    value: float

"""MergeStrategy: when the sample reader sorts buffered samples (on insertion or on release)."""

from __future__ import annotations

import enum
import logging

__all__ = ["MergeStrategy"]

logger = logging.getLogger(__name__)


class MergeStrategy(enum.IntEnum):
    """Both strategies give identical output; they differ only in when the sorting work is done."""

    WRITING_MERGE = 0
    READING_MERGE = 1

"""MergeStrategy: when the sample reader sorts buffered samples (on insertion or on release)."""

from __future__ import annotations

import enum

__all__ = ["MergeStrategy"]


class MergeStrategy(enum.IntEnum):
    """Both strategies give identical output; they differ only in when the sorting work is done."""

    WRITING_MERGE = 0
    READING_MERGE = 1

"""PartitionMapping: a stream bound to a partition of its data source's main topic."""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["PartitionMapping"]


@dataclass(frozen=True, slots=True)
class PartitionMapping:
    stream: str
    partition: int

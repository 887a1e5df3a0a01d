"""Computed cells waiting for their delivery batch: one queue per subscription and session."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

import numpy as np

from ...contracts.interpolation.i_process_result import IProcessResult
from .bucket_statistics import BucketStatistics, compute_statistics
from .cell_results import ProcessorRunner
from .grid_accumulator import CompletedCells

__all__ = ["CellQueue", "Chunk", "CustomChunk", "CustomQueue", "HoldLastQueue"]


@dataclass(slots=True)
class CustomChunk:
    """A custom processor's results for cells ``first_cell …``, one list per cell."""

    first_cell: int
    cell_ns: int
    per_cell: list[list[IProcessResult]]

    @property
    def cell_count(self) -> int:
        return len(self.per_cell)

    @property
    def end_cell(self) -> int:
        return self.first_cell + len(self.per_cell)

    def slice(self, start_cell: int, end_cell: int) -> CustomChunk:
        lo, hi = start_cell - self.first_cell, end_cell - self.first_cell
        return CustomChunk(start_cell, self.cell_ns, self.per_cell[lo:hi])


Chunk = BucketStatistics | CustomChunk


class CellQueue(Protocol):
    """Takes completed cells, computes their results, and hands them out in cell order."""

    @property
    def first_cell(self) -> int | None:
        """The first cell not yet taken (``None`` when nothing is pending)."""

    def add(self, completed: list[CompletedCells]) -> None: ...

    def ready_end(self, flush: bool) -> int | None:
        """The cell before which every pending result is final (``None``: nothing pending)."""

    def take(self, end_cell: int) -> Chunk | None:
        """The pending cells before ``end_cell``; the rest stay pending."""


class _ChunkQueue:
    """Pending chunks whose results are final as soon as they are computed."""

    def __init__(self) -> None:
        self._parts: list[Chunk] = []

    @property
    def first_cell(self) -> int | None:
        return self._parts[0].first_cell if self._parts else None

    def ready_end(self, flush: bool) -> int | None:
        return self._parts[-1].end_cell if self._parts else None

    def take(self, end_cell: int) -> Chunk | None:
        if not self._parts or end_cell <= self._parts[0].first_cell:
            return None
        taken = [part for part in self._parts if part.end_cell <= end_cell]
        rest = self._parts[len(taken) :]
        if rest and rest[0].first_cell < end_cell:
            split = rest[0]
            taken.append(split.slice(split.first_cell, end_cell))
            rest[0] = split.slice(end_cell, split.end_cell)
        self._parts = rest
        return _join(taken)


def _join(parts: list[Chunk]) -> Chunk:
    first = parts[0]
    if isinstance(first, BucketStatistics):
        return BucketStatistics.concatenate([p for p in parts if isinstance(p, BucketStatistics)])
    per_cell = [cell for part in parts if isinstance(part, CustomChunk) for cell in part.per_cell]
    return CustomChunk(first.first_cell, first.cell_ns, per_cell)


class HoldLastQueue(_ChunkQueue):
    """Default statistics; an empty cell holds the last value before it."""

    def __init__(self, slots: int) -> None:
        super().__init__()
        self._last_before = np.full(slots, np.nan)

    def add(self, completed: list[CompletedCells]) -> None:
        for cells in completed:
            stats, self._last_before = compute_statistics(cells, self._last_before)
            self._parts.append(stats)


class CustomQueue(_ChunkQueue):
    """A custom processor's results, computed as the cells complete."""

    def __init__(self, runner: ProcessorRunner, identifiers: Sequence[str]) -> None:
        super().__init__()
        self._runner = runner
        self._identifiers = list(identifiers)

    def add(self, completed: list[CompletedCells]) -> None:
        for cells in completed:
            per_cell = self._runner.run(cells, self._identifiers)
            self._parts.append(CustomChunk(cells.first_cell, cells.cell_ns, per_cell))

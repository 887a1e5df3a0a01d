"""Turning completed cells into result objects: DefaultResult rows or a custom processor's output."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Any

import numpy as np
import numpy.typing as npt

from ...contracts.buffering.value_status import ValueStatus
from ...contracts.interpolation.data_point import DataPoint
from ...contracts.interpolation.default_result import DefaultResult
from ...contracts.interpolation.i_process_result import IProcessResult
from ...contracts.interpolation.i_subscription_processor import ISubscriptionProcessor
from ...contracts.interpolation.process_context import ProcessContext
from .bucket_statistics import BucketStatistics
from .grid_accumulator import CompletedCells

__all__ = ["ProcessorRunner", "default_results"]

logger = logging.getLogger(__name__)


def _cell_major(array: npt.NDArray[Any]) -> list[Any]:
    """A ``(slot, cell)`` array as a cell-major list; NaN becomes ``None``."""
    flat = array.T.ravel()
    if flat.dtype.kind != "f":
        return flat.tolist()  # type: ignore[no-any-return]
    boxed = flat.astype(object)
    boxed[np.isnan(flat)] = None
    return boxed.tolist()  # type: ignore[no-any-return]


def default_results(stats: BucketStatistics, identifiers: Sequence[str]) -> list[IProcessResult]:
    """One ``DefaultResult`` per cell and parameter: ordered by cell, then by ``identifiers``."""
    slots = len(identifiers)
    starts_array = (stats.first_cell + np.arange(stats.cell_count, dtype=np.int64)) * stats.cell_ns
    starts = np.repeat(starts_array, slots)
    columns = [
        _cell_major(array)
        for array in (
            stats.first,
            stats.last,
            stats.min,
            stats.max,
            stats.mean,
            stats.count,
            stats.super_sampled,
            stats.missing_count,
            stats.error_count,
            stats.unspecified_count,
            stats.nan_count,
        )
    ]
    return list(
        map(
            DefaultResult,
            list(identifiers) * stats.cell_count,
            starts.tolist(),
            (starts + stats.cell_ns).tolist(),
            *columns,
        )
    )


class ProcessorRunner:
    """Calls a custom processor once per cell and parameter, in time order.

    A processor that raises loses only that cell's result: the error is logged (with its
    traceback the first time, then once per further 1000 failures) and processing goes on.
    """

    def __init__(self, processor: ISubscriptionProcessor, subscription_key: str) -> None:
        self.processor = processor
        self.subscription_key = subscription_key
        self.failures = 0

    def run(self, cells: CompletedCells, identifiers: Sequence[str]) -> list[list[IProcessResult]]:
        """The results of each cell, in cell order (a cell whose calls all failed has none)."""
        points = _data_points(cells, identifiers)
        per_cell: list[list[IProcessResult]] = []
        for j in range(cells.cell_count):
            start = (cells.first_cell + j) * cells.cell_ns
            end = start + cells.cell_ns
            results: list[IProcessResult] = []
            per_cell.append(results)
            for slot, identifier in enumerate(identifiers):
                context = ProcessContext(identifier, start, end, points[slot][j])
                try:
                    result = self.processor.process(context)
                except Exception:
                    self._log_failure(identifier, start, end)
                    continue
                if result is not None:
                    results.append(result)
        return per_cell

    def _log_failure(self, identifier: str, start: int, end: int) -> None:
        self.failures += 1
        if self.failures == 1:
            logger.exception(
                "subscription %r: processor %r raised on parameter %r, cell [%d, %d); "
                "that cell has no result, processing continues",
                self.subscription_key,
                self.processor,
                identifier,
                start,
                end,
            )
        elif self.failures % 1000 == 0:
            logger.error(
                "subscription %r: processor %r has raised %d times (last: parameter %r, "
                "cell [%d, %d))",
                self.subscription_key,
                self.processor,
                self.failures,
                identifier,
                start,
                end,
            )


def _data_points(cells: CompletedCells, identifiers: Sequence[str]) -> list[list[list[DataPoint]]]:
    """``points[slot][cell]``: the VALID, non-NaN samples of each cell as DataPoints."""
    points: list[list[list[DataPoint]]] = [
        [[] for _ in range(cells.cell_count)] for _ in identifiers
    ]
    for part in cells.parts:
        good = (part.status == int(ValueStatus.VALID)) & ~np.isnan(part.values)
        for row, slot in enumerate(part.slots.tolist()):
            keep = np.flatnonzero(good[row])
            stamps = part.timestamps[keep].tolist()
            values = part.values[row, keep].tolist()
            cuts = np.searchsorted(keep, part.bounds).tolist()
            identifier = identifiers[slot]
            per_cell = points[slot]
            for j in range(cells.cell_count):
                lo, hi = cuts[j], cuts[j + 1]
                if hi > lo:
                    per_cell[j] = [
                        DataPoint(identifier, stamp, value)
                        for stamp, value in zip(stamps[lo:hi], values[lo:hi], strict=True)
                    ]
    return points

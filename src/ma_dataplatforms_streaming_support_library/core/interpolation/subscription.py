"""Subscription: one data reader subscription — its grids per session and its batched delivery."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from ...contracts.interpolation.batch_result import BatchResult
from ...contracts.interpolation.i_batch_result_handler import IBatchResultHandler
from ...contracts.interpolation.i_process_result import IProcessResult
from ...contracts.interpolation.i_subscription_processor import ISubscriptionProcessor
from ..buffering.merged_block import MergedBlock
from ..buffering.sample_block import Float64Array
from .bucket_statistics import BucketStatistics, compute_statistics
from .cell_results import ProcessorRunner, default_results
from .grid_accumulator import CompletedCells, GridAccumulator

__all__ = ["Subscription"]

logger = logging.getLogger(__name__)


@dataclass(slots=True)
class _CustomChunk:
    start_ns: int
    end_ns: int
    results: list[IProcessResult]


_Chunk = BucketStatistics | _CustomChunk


@dataclass(slots=True)
class _SessionGrid:
    data_source: str
    session_key: str
    accumulator: GridAccumulator
    last_before: Float64Array


class Subscription:
    """Resamples ``identifiers`` onto ``cell_ns`` cells and delivers batches to ``handler``.

    Deliveries happen at most every ``delivery_period_s`` seconds (wall clock, DECISIONS 13) and
    carry every cell completed since the previous one, one ``BatchResult`` per session; the end of
    a session delivers at once. Blocks are only filed away as they come; the cells are cut and
    computed at delivery, so a fast replay is processed in large chunks. Deliveries run on the
    thread that makes them (the sample reader's, or the data reader's ticker), never two at a
    time for one subscription.
    """

    def __init__(
        self,
        key: str,
        identifiers: Sequence[str],
        parameters: Sequence[int] | npt.NDArray[np.int32],
        cell_ns: int,
        delivery_period_s: float,
        handler: IBatchResultHandler,
        processor: ISubscriptionProcessor | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.key = key
        self.identifiers = list(identifiers)
        self.parameters = np.asarray(parameters, dtype=np.int32)
        self.cell_ns = int(cell_ns)
        self.delivery_period_s = float(delivery_period_s)
        self.handler = handler
        self._runner = None if processor is None else ProcessorRunner(processor, key)
        self._clock = clock
        self._grids: dict[tuple[str, str], _SessionGrid] = {}
        self._lock = threading.Lock()
        self._delivery_lock = threading.Lock()
        self._last_delivery = float("-inf")
        self._handler_failures = 0
        self.active = True

    # ------------------------------------------------------------------ input

    def on_block(self, data_source: str, session_key: str, block: MergedBlock) -> None:
        """Take one released block of a session (``block.final`` ends the session)."""
        with self._lock:
            if not self.active:
                return
            self._grid(data_source, session_key).accumulator.push(block)
        self.deliver(force=block.final)

    def on_session_end(self, data_source: str, session_key: str) -> None:
        """The session ended; complete and deliver whatever it still holds."""
        with self._lock:
            grid = self._grids.get((data_source, session_key))
            if grid is None or not self.active:
                return
            grid.accumulator.finish()
        self.deliver(force=True)

    def cancel(self) -> None:
        """Unsubscribed: stop taking data and drop everything not yet delivered."""
        with self._lock:
            self.active = False
            self._grids.clear()

    def _grid(self, data_source: str, session_key: str) -> _SessionGrid:
        grid = self._grids.get((data_source, session_key))
        if grid is None:
            grid = _SessionGrid(
                data_source,
                session_key,
                GridAccumulator(self.parameters, self.cell_ns),
                np.full(self.parameters.size, np.nan),
            )
            self._grids[(data_source, session_key)] = grid
        return grid

    def _chunk(self, grid: _SessionGrid, completed: list[CompletedCells]) -> _Chunk:
        if self._runner is None:
            parts = []
            for cells in completed:
                stats, grid.last_before = compute_statistics(cells, grid.last_before)
                parts.append(stats)
            return BucketStatistics.concatenate(parts)
        results = [r for cells in completed for r in self._runner.run(cells, self.identifiers)]
        return _CustomChunk(completed[0].start_ns, completed[-1].end_ns, results)

    # --------------------------------------------------------------- delivery

    def deliver(self, force: bool = False) -> int:
        """Complete the cells received so far and deliver them, if a delivery is due (or
        ``force``); the number of batches handed over."""
        with self._delivery_lock:
            with self._lock:
                now = self._clock()
                if not force and now - self._last_delivery < self.delivery_period_s:
                    return 0
                batches: list[BatchResult] = []
                for key, grid in list(self._grids.items()):
                    completed = grid.accumulator.complete() if grid.accumulator.has_work else []
                    if completed:
                        batch = self._batch(grid, self._chunk(grid, completed))
                        if batch is not None:
                            batches.append(batch)
                    if grid.accumulator.final:
                        del self._grids[key]
                if batches:
                    self._last_delivery = now
            for batch in batches:
                try:
                    self.handler.handle(batch)
                except Exception:
                    self._log_handler_failure(batch)
            return len(batches)

    def _batch(self, grid: _SessionGrid, chunk: _Chunk) -> BatchResult | None:
        if isinstance(chunk, BucketStatistics):
            if chunk.cell_count == 0 or self.parameters.size == 0:
                return None
            identifiers = self.identifiers
            return BatchResult.lazy(
                grid.data_source,
                grid.session_key,
                self.key,
                chunk.start_ns,
                chunk.end_ns,
                lambda: default_results(chunk, identifiers),
            )
        if not chunk.results:
            return None
        return BatchResult(
            grid.data_source,
            grid.session_key,
            self.key,
            chunk.start_ns,
            chunk.end_ns,
            chunk.results,
        )

    def _log_handler_failure(self, batch: BatchResult) -> None:
        self._handler_failures += 1
        if self._handler_failures == 1 or self._handler_failures % 100 == 0:
            logger.exception(
                "subscription %r: batch handler %r raised on session %r, cells [%d, %d) "
                "(failure %d); later batches are still delivered",
                self.key,
                self.handler,
                batch.session_key,
                batch.delivery_interval_start_time_nano,
                batch.delivery_interval_end_time_nano,
                self._handler_failures,
            )

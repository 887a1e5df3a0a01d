"""Subscription: one data reader subscription — its grids per session and its batched delivery."""

from __future__ import annotations

import logging
import threading
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from ...contracts.interpolation.batch_result import BatchResult
from ...contracts.interpolation.fill_mode import FillMode
from ...contracts.interpolation.i_batch_result_handler import IBatchResultHandler
from ...contracts.interpolation.i_subscription_processor import ISubscriptionProcessor
from ..buffering.merged_block import MergedBlock
from .bucket_statistics import BucketStatistics
from .cell_queues import CellQueue, Chunk, CustomQueue, HoldLastQueue
from .cell_results import ProcessorRunner, default_results
from .grid_accumulator import GridAccumulator
from .linear_fill import LinearFill

__all__ = ["Subscription"]

logger = logging.getLogger(__name__)


@dataclass(slots=True)
class _SessionGrid:
    data_source: str
    session_key: str
    accumulator: GridAccumulator
    queue: CellQueue


class Subscription:
    """Resamples ``identifiers`` onto ``cell_ns`` cells and delivers batches to ``handler``.

    Delivery counts data time: batches are ``[k·delivery_ns, (k+1)·delivery_ns)``
    aligned to the epoch, each holding the cells that start inside it, and a batch goes out as
    soon as the data has moved past its end — so a replay gives the same batches however fast it
    runs, and a live session gets them as its data arrives. The end of a session (or ``force``)
    also delivers the last, partial batch. Blocks are only filed away as they come; the cells are
    cut and computed when a batch completes, so a fast replay is processed in chunks. Deliveries
    run on the thread that makes them, never two at a time for one subscription.
    """

    def __init__(
        self,
        key: str,
        identifiers: Sequence[str],
        parameters: Sequence[int] | npt.NDArray[np.int32],
        cell_ns: int,
        delivery_ns: int,
        handler: IBatchResultHandler,
        processor: ISubscriptionProcessor | None = None,
        fill: FillMode = FillMode.HOLD_LAST,
    ) -> None:
        self.key = key
        self.identifiers = list(identifiers)
        self.parameters = np.asarray(parameters, dtype=np.int32)
        self.cell_ns = int(cell_ns)
        self.delivery_ns = int(delivery_ns)
        self.handler = handler
        self.fill = fill
        self._runner = None if processor is None else ProcessorRunner(processor, key)
        self._grids: dict[tuple[str, str], _SessionGrid] = {}
        self._lock = threading.Lock()
        self._delivery_lock = threading.Lock()
        self._handler_failures = 0
        self.active = True

    # ------------------------------------------------------------------ input

    def on_block(self, data_source: str, session_key: str, block: MergedBlock) -> None:
        """Take one released block of a session (``block.final`` ends the session)."""
        with self._lock:
            if not self.active:
                return
            self._grid(data_source, session_key).accumulator.push(block)
        self.deliver()

    def on_session_end(self, data_source: str, session_key: str) -> None:
        """The session ended; complete and deliver whatever it still holds."""
        with self._lock:
            grid = self._grids.get((data_source, session_key))
            if grid is None or not self.active:
                return
            grid.accumulator.finish()
        self.deliver()

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
                self._queue(),
            )
            self._grids[(data_source, session_key)] = grid
        return grid

    def _queue(self) -> CellQueue:
        if self._runner is not None:
            return CustomQueue(self._runner, self.identifiers)
        if self.fill is FillMode.LINEAR:
            return LinearFill(self.parameters.size)
        return HoldLastQueue(self.parameters.size)

    # --------------------------------------------------------------- delivery

    def deliver(self, force: bool = False) -> int:
        """Deliver every complete batch (with ``force``, everything computable now, the partial
        last batches too); the number of batches handed over."""
        with self._delivery_lock:
            with self._lock:
                batches: list[BatchResult] = []
                for key, grid in list(self._grids.items()):
                    batches.extend(self._due(grid, force or grid.accumulator.final))
                    if grid.accumulator.final and grid.queue.first_cell is None:
                        del self._grids[key]
            for batch in batches:
                try:
                    self.handler.handle(batch)
                except Exception:
                    self._log_handler_failure(batch)
            return len(batches)

    def _batch_of(self, cell: int) -> int:
        return cell * self.cell_ns // self.delivery_ns

    def _due(self, grid: _SessionGrid, flush: bool) -> list[BatchResult]:
        accumulator, queue = grid.accumulator, grid.queue
        if accumulator.has_work:
            start = queue.first_cell
            begin = accumulator.next_cell if start is None else start
            assert begin is not None  # has_work implies a first block
            if flush or self._batch_of(accumulator.end_cell) > self._batch_of(begin):
                queue.add(accumulator.complete())
        ready = queue.ready_end(flush)
        if ready is None:
            return []
        if not flush:
            # Only whole batches: up to the first cell of the batch that holds ``ready``.
            ready = -(-self._batch_of(ready) * self.delivery_ns // self.cell_ns)
        chunk = queue.take(ready)
        return [] if chunk is None else self._batches(grid, chunk)

    def _batches(self, grid: _SessionGrid, chunk: Chunk) -> list[BatchResult]:
        batches = []
        cell = chunk.first_cell
        while cell < chunk.end_cell:
            boundary = -(-(self._batch_of(cell) + 1) * self.delivery_ns // self.cell_ns)
            end = min(boundary, chunk.end_cell)
            batch = self._batch(grid, chunk.slice(cell, end))
            if batch is not None:
                batches.append(batch)
            cell = end
        return batches

    def _batch(self, grid: _SessionGrid, chunk: Chunk) -> BatchResult | None:
        start, end = chunk.first_cell * self.cell_ns, chunk.end_cell * self.cell_ns
        if isinstance(chunk, BucketStatistics):
            if chunk.cell_count == 0 or self.parameters.size == 0:
                return None
            identifiers = self.identifiers
            return BatchResult.lazy(
                grid.data_source,
                grid.session_key,
                self.key,
                start,
                end,
                lambda: default_results(chunk, identifiers),
            )
        results = [result for cell in chunk.per_cell for result in cell]
        if not results:
            return None
        return BatchResult(grid.data_source, grid.session_key, self.key, start, end, results)

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

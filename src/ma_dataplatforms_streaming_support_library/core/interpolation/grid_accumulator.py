"""GridAccumulator: cuts one session's released samples into complete epoch-aligned grid cells."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from ...arrays import F64Array, I8Array, I64Array
from ..buffering.merge import merge_blocks
from ..buffering.merged_block import MergedBlock
from ..buffering.sample_block import SampleBlock
from .frequencies import MAX_PERIOD_NS

__all__ = ["DEFAULT_CHUNK_SAMPLES", "CellPart", "CompletedCells", "GridAccumulator"]

logger = logging.getLogger(__name__)

DEFAULT_CHUNK_SAMPLES = 1 << 17


@dataclass(frozen=True, slots=True)
class CellPart:
    """Samples of some slots sharing a time base, cut at cell edges.

    Row ``i`` belongs to subscription slot ``slots[i]``; cell ``j`` holds columns
    ``bounds[j]:bounds[j + 1]`` (``bounds[0] == 0``, ``bounds[-1] == timestamps.size``).
    """

    slots: npt.NDArray[np.intp]
    timestamps: I64Array
    values: F64Array
    status: I8Array
    bounds: npt.NDArray[np.intp]


@dataclass(frozen=True, slots=True)
class CompletedCells:
    """Cells ``first_cell … first_cell + cell_count - 1`` (index x ``cell_ns`` = start time)."""

    first_cell: int
    cell_count: int
    cell_ns: int
    slot_count: int
    parts: list[CellPart]

    @property
    def start_ns(self) -> int:
        return self.first_cell * self.cell_ns

    @property
    def end_ns(self) -> int:
        return (self.first_cell + self.cell_count) * self.cell_ns


#: the most cells one completion fills: a bound on the memory a gap in the data can take
MAX_CELLS_AT_ONCE = 5_000_000


class GridAccumulator:
    """Keeps the samples of not-yet-complete cells of one subscription in one session.

    Cells are ``[k·B, (k+1)·B)``, aligned to the Unix epoch. The grid starts at the
    cell holding the session's first sample, or, for a subscription made mid-session, at the
    first cell wholly inside the releases it sees (no partial first cell). A cell is complete
    once the released range has passed its end (no earlier sample can still arrive)
    or, at the end of the session, when it holds or precedes the session's last sample.

    ``push`` only files a block away; ``complete`` does the work for every block pushed since,
    so a fast replay is reduced in large chunks rather than per release — but in pieces of about
    ``chunk_samples`` samples, which keeps the arrays in cache (several times faster than one
    huge chunk).
    """

    def __init__(
        self,
        parameters: Sequence[int] | npt.NDArray[np.int32],
        cell_ns: int,
        chunk_samples: int = DEFAULT_CHUNK_SAMPLES,
    ) -> None:
        if cell_ns <= 0:
            raise ValueError(f"cell_ns must be > 0, got {cell_ns!r}")
        self.cell_ns = int(cell_ns)
        self._parameters = np.asarray(parameters, dtype=np.int32)
        self._slot_of = {int(p): slot for slot, p in enumerate(self._parameters.tolist())}
        self._rows_by_signature: dict[bytes, npt.NDArray[np.intp] | None] = {}
        self._next_cell: int | None = None
        self._end_cell = 0
        self._carry: list[SampleBlock] = []
        self._waiting: list[tuple[list[SampleBlock], int, int]] = []  # groups, end cell, samples
        self._chunk_samples = max(1, chunk_samples)
        self._last_timestamp: int | None = None
        self.final = False

    @property
    def slot_count(self) -> int:
        return int(self._parameters.size)

    @property
    def next_cell(self) -> int | None:
        """Index of the first cell not yet completed (``None`` before the first block)."""
        return self._next_cell

    @property
    def end_cell(self) -> int:
        """The cells before this one can be completed now."""
        return self._end_cell

    @property
    def has_work(self) -> bool:
        """Whether ``complete`` could produce cells now."""
        return self._next_cell is not None and self._end_cell > self._next_cell

    def push(self, block: MergedBlock) -> None:
        """File one released block away (``block.final`` ends the session)."""
        if self._next_cell is None:
            # From the session's first release, the grid starts at the cell holding its first
            # sample; joining later, at the first cell this accumulator sees from its start.
            cell = self.cell_ns
            self._next_cell = block.start // cell if block.first else -(-block.start // cell)
            self._end_cell = self._next_cell
        latest = block.max_timestamp
        if latest is not None and (self._last_timestamp is None or latest > self._last_timestamp):
            self._last_timestamp = latest
        mine: list[SampleBlock] = []
        for group in block.groups:
            rows = self._rows(group.parameters)
            if rows is not None:
                mine.append(
                    group
                    if rows.size == group.parameters.size
                    else SampleBlock(
                        group.parameters[rows],
                        group.timestamps,
                        group.values[rows],
                        group.status[rows],
                    )
                )
        if block.final:
            self.finish()
        else:
            self._end_cell = max(self._end_cell, block.end // self.cell_ns)
        self._waiting.append((mine, self._end_cell, sum(g.sample_count for g in mine)))

    def finish(self) -> None:
        """End of session: the cells up to the session's last sample become complete."""
        self.final = True
        if self._last_timestamp is not None:
            self._end_cell = max(self._end_cell, self._last_timestamp // self.cell_ns + 1)

    def complete(self) -> list[CompletedCells]:
        """Cut every complete cell not yet returned, in time order; keep the rest for later."""
        waiting, self._waiting = self._waiting, []
        done: list[CompletedCells] = []
        piece: list[SampleBlock] = []
        size = 0
        for index, (groups, end_cell, samples) in enumerate(waiting):
            piece.extend(groups)
            size += samples
            last = index == len(waiting) - 1
            if size >= self._chunk_samples or last:
                merged = merge_blocks([*self._carry, *piece]) if piece else self._carry
                cells = self._complete(merged, self._end_cell if last else end_cell)
                if cells is not None:
                    done.append(cells)
                piece, size = [], 0
        if not waiting and self.has_work:
            cells = self._complete(self._carry, self._end_cell)
            if cells is not None:
                done.append(cells)
        return done

    def _rows(self, parameters: npt.NDArray[np.int32]) -> npt.NDArray[np.intp] | None:
        signature = parameters.tobytes()
        if signature not in self._rows_by_signature:
            rows = np.flatnonzero(np.isin(parameters, self._parameters))
            self._rows_by_signature[signature] = rows if rows.size else None
        return self._rows_by_signature[signature]

    def _complete(self, groups: list[SampleBlock], end_cell: int) -> CompletedCells | None:
        first = self._next_cell
        if first is None or end_cell <= first:
            self._carry = groups
            return None
        if end_cell * self.cell_ns > MAX_PERIOD_NS:
            # int64 arithmetic on the cell edges would wrap around silently.
            raise OverflowError(
                f"cell {end_cell - 1} of {self.cell_ns} ns ends after the largest int64 "
                "nanosecond time"
            )
        count = end_cell - first
        if count > MAX_CELLS_AT_ONCE:
            # Only a sample far from the others (a corrupt timestamp, or data years apart) makes
            # a gap this wide; filling it would take gigabytes, so the subscription stops here.
            raise OverflowError(
                f"the grid would need {count:,} cells of {self.cell_ns} ns at once (from "
                f"{first * self.cell_ns} ns to {end_cell * self.cell_ns} ns); a sample lies far "
                "outside the session's time range"
            )
        edges = (first + np.arange(count + 1, dtype=np.int64)) * self.cell_ns
        parts: list[CellPart] = []
        carry: list[SampleBlock] = []
        for group in groups:
            bounds = np.searchsorted(group.timestamps, edges)
            lo, hi = int(bounds[0]), int(bounds[-1])
            if lo > 0:
                logger.debug("dropping %d sample column(s) before the grid start %d", lo, edges[0])
            if hi > lo:
                parts.append(
                    CellPart(
                        np.array([self._slot_of[p] for p in group.parameters.tolist()], np.intp),
                        group.timestamps[lo:hi],
                        group.values[:, lo:hi],
                        group.status[:, lo:hi],
                        bounds - lo,
                    )
                )
            if hi < group.timestamps.size:
                carry.append(group.tail(hi))
        self._carry = carry
        self._next_cell = end_cell
        return CompletedCells(first, count, self.cell_ns, self.slot_count, parts)

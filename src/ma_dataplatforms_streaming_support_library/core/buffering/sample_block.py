"""SampleBlock: samples of k parameters sharing n timestamps, the unit the buffer stores."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from ...arrays import F64Array, I8Array, I32Array, I64Array

__all__ = ["F64Array", "I8Array", "I32Array", "I64Array", "SampleBlock"]


@dataclass(frozen=True, slots=True)
class SampleBlock:
    """``values[i, j]`` / ``status[i, j]`` is parameter ``parameters[i]`` at ``timestamps[j]``.

    Invariants (established by ``build``): parameters unique and ascending; timestamps strictly
    ascending int64 ns; values float64 and status int8 of shape ``(k, n)``; ``k, n >= 1``.
    Every packet type gives this shape: periodic and synchro columns share one time base, and a
    row packet is its transpose.
    """

    parameters: I32Array
    timestamps: I64Array
    values: F64Array
    status: I8Array

    @staticmethod
    def build(
        parameters: npt.ArrayLike,
        timestamps: npt.ArrayLike,
        values: npt.ArrayLike,
        status: npt.ArrayLike,
    ) -> SampleBlock | None:
        """Normalise one packet's samples; ``None`` when it holds no sample.

        Timestamps are sorted (stably); a timestamp or parameter repeated inside the packet keeps
        its last occurrence (the later value wins, as across packets).
        """
        params = np.asarray(parameters, dtype=np.int32).reshape(-1)
        stamps = np.asarray(timestamps, dtype=np.int64).reshape(-1)
        vals = np.asarray(values, dtype=np.float64).reshape(params.size, stamps.size)
        stat = np.asarray(status, dtype=np.int8).reshape(params.size, stamps.size)
        if params.size == 0 or stamps.size == 0:
            return None
        if stamps.size > 1 and not bool(np.all(stamps[1:] > stamps[:-1])):
            keep = last_of_runs_order(stamps)
            stamps, vals, stat = stamps[keep], vals[:, keep], stat[:, keep]
        if params.size > 1 and not bool(np.all(params[1:] > params[:-1])):
            rows = last_of_runs_order(params)
            params, vals, stat = params[rows], vals[rows], stat[rows]
        return SampleBlock(params, stamps, vals, stat)

    @property
    def sample_count(self) -> int:
        return int(self.values.size)

    def take_rows(self, rows: npt.NDArray[np.bool_] | npt.NDArray[np.intp]) -> SampleBlock | None:
        """The block restricted to some parameters (a mask or indices over ``parameters``)."""
        params = self.parameters[rows]
        if params.size == 0:
            return None
        if params.size == self.parameters.size:
            return self
        return SampleBlock(params, self.timestamps, self.values[rows], self.status[rows])

    def split(self, timestamp_ns: int) -> tuple[SampleBlock | None, SampleBlock | None]:
        """``(samples before timestamp_ns, samples at or after it)``."""
        cut = int(np.searchsorted(self.timestamps, timestamp_ns, side="left"))
        if cut == 0:
            return None, self
        if cut == self.timestamps.size:
            return self, None
        return self.head(cut), self.tail(cut)

    def head(self, count: int) -> SampleBlock:
        return SampleBlock(
            self.parameters,
            self.timestamps[:count],
            self.values[:, :count],
            self.status[:, :count],
        )

    def tail(self, start: int) -> SampleBlock:
        return SampleBlock(
            self.parameters,
            self.timestamps[start:],
            self.values[:, start:],
            self.status[:, start:],
        )


def last_of_runs_order(keys: npt.NDArray[np.integer]) -> npt.NDArray[np.intp]:
    """Indices that sort ``keys`` stably and keep only the last occurrence of each key."""
    order = np.argsort(keys, kind="stable")
    ordered = keys[order]
    keep = np.ones(ordered.size, dtype=np.bool_)
    keep[:-1] = ordered[1:] != ordered[:-1]
    return order[keep]


def concatenate_blocks(parts: Sequence[SampleBlock]) -> SampleBlock:
    """Parts with identical parameters and disjoint, ascending time ranges, joined in time."""
    if len(parts) == 1:
        return parts[0]
    return SampleBlock(
        parts[0].parameters,
        np.concatenate([part.timestamps for part in parts]),
        np.concatenate([part.values for part in parts], axis=1),
        np.concatenate([part.status for part in parts], axis=1),
    )

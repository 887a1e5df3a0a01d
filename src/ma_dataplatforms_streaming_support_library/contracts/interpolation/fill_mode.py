"""FillMode: how the default processor fills a grid cell that has no sample."""

from __future__ import annotations

import enum

__all__ = ["FillMode"]


class FillMode(enum.Enum):
    """How the built-in statistics fill an empty cell (count 0, ``is_super_sampled``).

    Before a parameter's first sample a cell has no statistics in either mode.

    * ``HOLD_LAST`` (the default): every statistic is the last value before the cell.
    * ``LINEAR``: between two samples ``(t0, v0)`` and ``(t1, v1)`` of the parameter, the line
      ``v(t) = v0 + (v1 - v0)·(t - t0)/(t1 - t0)``: ``first`` = v(cell start), ``last`` = v(cell
      end), ``min``/``max`` the smaller/larger of those, ``mean`` their average. After the last
      sample the last value is held. The cells after a parameter's latest sample are delivered
      only once its next sample (or the end of the session) is known, so a parameter with long
      gaps delays the subscription's batches by as much.
    """

    HOLD_LAST = "hold_last"
    LINEAR = "linear"

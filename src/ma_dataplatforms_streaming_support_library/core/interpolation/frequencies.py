"""The rule for grid and delivery frequencies: a period of whole nanoseconds that fits int64."""

from __future__ import annotations

import math

__all__ = ["MAX_PERIOD_NS", "frequency_error", "period_ns"]

#: Times are int64 nanoseconds, so no period may be longer than the largest int64.
MAX_PERIOD_NS = 2**63 - 1


def period_ns(hz: float) -> int:
    """The period of ``hz`` in whole nanoseconds (for a frequency ``frequency_error`` accepts)."""
    return round(1e9 / hz)


def frequency_error(name: str, value: object) -> str | None:
    """A message naming ``name`` when ``value`` is not a usable frequency, else ``None``.

    Usable: a finite number > 0 whose period, rounded to whole nanoseconds, is at least 1 ns
    (at most 1 GHz) and fits int64 (at least about 1.08e-10 Hz).
    """
    if (
        isinstance(value, bool)
        or not isinstance(value, (int, float))
        or not math.isfinite(value)
        or value <= 0
    ):
        return f"{name} must be a finite number > 0, got {value!r}"
    period = 1e9 / value
    if not math.isfinite(period) or period >= MAX_PERIOD_NS:
        return (
            f"{name} {value!r} is below {1e9 / MAX_PERIOD_NS:.3g} Hz: its period does not fit "
            "int64 nanoseconds"
        )
    if round(period) < 1:
        return f"{name} {value!r} is above 1 GHz: periods are whole nanoseconds"
    return None

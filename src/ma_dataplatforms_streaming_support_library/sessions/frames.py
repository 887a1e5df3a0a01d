"""pandas DataFrames into the session writer's calls: long or wide form, datetime or int64 ns time."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any, Literal

import numpy as np
import numpy.typing as npt

from ..errors import ConfigurationError, MissingDependencyError

__all__ = ["frame_writes", "nanoseconds"]

#: columns of the long form (``status`` optional), as ``SessionData.to_pandas`` returns them
LONG_COLUMNS = ("timestamp", "parameter", "value")

Write = tuple[Literal["periodic", "rows"], tuple[Any, ...]]


def nanoseconds(times: Any) -> npt.NDArray[np.int64]:
    """int64 ns since the Unix epoch from datetimes (naive ones are UTC) or integers (ns)."""
    import pandas as pd

    if isinstance(times.dtype, pd.DatetimeTZDtype):
        naive = (
            times.dt.tz_convert(None) if isinstance(times, pd.Series) else times.tz_convert(None)
        )
        return np.asarray(naive, dtype="datetime64[ns]").view(np.int64)
    array = np.asarray(times)
    if array.dtype.kind == "M":
        return array.astype("datetime64[ns]").view(np.int64)
    if array.dtype.kind in "iu":
        return array.astype(np.int64)
    raise ConfigurationError(
        f"timestamps must be datetimes or int64 nanoseconds, got dtype {array.dtype}"
    )


def _even_interval(stamps: npt.NDArray[np.int64]) -> int | None:
    if stamps.size < 2:
        return None
    gaps = np.diff(stamps)
    first = int(gaps[0])
    if 0 < first <= 0xFFFFFFFF and bool((gaps == first).all()):
        return first
    return None


def _long_form(frame: Any) -> Iterator[Write]:
    stamps = nanoseconds(frame["timestamp"])
    has_status = "status" in frame.columns
    names = frame["parameter"].astype(str).to_numpy()
    values = frame["value"].to_numpy(dtype=np.float64)
    status = frame["status"].to_numpy() if has_status else None
    order = np.argsort(names, kind="stable")
    sorted_names = names[order]
    starts = np.flatnonzero(np.r_[True, sorted_names[1:] != sorted_names[:-1]])
    for begin, end in zip(starts, np.r_[starts[1:], sorted_names.size], strict=True):
        rows = order[begin:end]
        identifier = str(sorted_names[begin])
        chosen_status = None if status is None else {identifier: status[rows].astype(np.int64)}
        yield "rows", (stamps[rows], {identifier: values[rows]}, chosen_status)


def _wide_form(frame: Any) -> Iterator[Write]:
    import pandas as pd

    if "timestamp" in frame.columns:
        stamps = nanoseconds(frame["timestamp"])
        data = frame.drop(columns="timestamp")
    else:
        stamps = nanoseconds(frame.index)
        data = frame
    identifiers = [str(c) for c in data.columns]
    if not identifiers:
        raise ConfigurationError("the frame has no parameter columns")
    numeric = [c for c in data.columns if not pd.api.types.is_numeric_dtype(data[c].dtype)]
    if numeric:
        raise ConfigurationError(f"columns {numeric} are not numeric; wide frames hold numbers")
    values = data.to_numpy(dtype=np.float64)
    present = ~np.isnan(values)
    if present.all():
        interval = _even_interval(stamps)
        if interval is not None:
            yield "periodic", (identifiers, int(stamps[0]), interval, values.T)
        else:
            yield "rows", (stamps, dict(zip(identifiers, values.T, strict=True)))
        return
    for index, identifier in enumerate(identifiers):
        rows = present[:, index]
        if rows.any():
            yield "rows", (stamps[rows], {identifier: values[rows, index]})


def frame_writes(frame: Any) -> Iterator[Write]:
    """The writer calls (``"periodic"`` or ``"rows"``, their arguments) that write ``frame``."""
    try:
        import pandas as pd
    except ImportError as exc:
        raise MissingDependencyError("pandas", "pandas", "writing a DataFrame") from exc
    if not isinstance(frame, pd.DataFrame):
        raise ConfigurationError(f"frame must be a pandas DataFrame, got {type(frame).__name__}")
    if frame.empty:
        return
    if set(LONG_COLUMNS) <= set(frame.columns):
        yield from _long_form(frame)
    else:
        yield from _wide_form(frame)

"""Session samples out: pandas (long or wide form, a Series per parameter), Parquet/CSV by batch."""

from __future__ import annotations

import importlib
import logging
import os
from collections.abc import Callable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal, Protocol

import numpy as np
import numpy.typing as npt

from ..errors import ConfigurationError, MissingDependencyError
from .files import staged_output

if TYPE_CHECKING:
    import pandas

__all__ = ["require", "to_dataframe", "to_wide_dataframe", "valid_series", "write_table"]

logger = logging.getLogger(__name__)


class ParameterSeries(Protocol):
    """One parameter's samples as columns (``sessions.types.ParameterSeries`` is one)."""

    @property
    def timestamps(self) -> npt.NDArray[np.int64]: ...

    @property
    def values(self) -> npt.NDArray[np.float64]: ...

    @property
    def status(self) -> npt.NDArray[np.int8]: ...

    def __len__(self) -> int: ...


#: rows per written batch: bounds the memory an export adds, and how long Ctrl-C may wait
_BATCH_ROWS = 250_000
_VALID = 1


def require(module: str, extra: str, purpose: str) -> Any:
    """``module`` imported, or ``MissingDependencyError`` naming the extra that installs it."""
    try:
        return importlib.import_module(module)
    except ImportError as exc:
        raise MissingDependencyError(module.split(".")[0], extra, purpose) from exc


def _chosen(series: Mapping[str, ParameterSeries], parameters: Sequence[str] | None) -> list[str]:
    names = sorted(series) if parameters is None else list(parameters)
    unknown = [name for name in names if name not in series]
    if unknown:
        raise KeyError(f"no samples of parameter(s) {', '.join(unknown)}")
    return names


def _origin(series: Mapping[str, ParameterSeries]) -> int:
    """The first sample time over every parameter (0 without samples)."""
    firsts = [int(s.timestamps[0]) for s in series.values() if len(s)]
    return min(firsts) if firsts else 0


def to_dataframe(
    series: Mapping[str, ParameterSeries],
    parameters: Sequence[str] | None = None,
    units: Mapping[str, str] | None = None,
) -> pandas.DataFrame:
    """Long form: ``timestamp``, ``parameter``, ``value``, ``status``, ``session_time`` (time
    from the session's first sample); ``attrs["units"]`` maps parameters to units."""
    pd = require("pandas", "pandas", "a DataFrame")
    names = _chosen(series, parameters)
    chosen = [series[name] for name in names]
    lengths = np.array([len(s) for s in chosen], dtype=np.int64)

    def joined(arrays: list[Any], dtype: Any) -> Any:
        return np.concatenate(arrays) if arrays else np.empty(0, dtype=dtype)

    timestamps = joined([s.timestamps for s in chosen], np.int64)
    codes = np.repeat(np.arange(len(names), dtype=np.int32), lengths)
    frame = pd.DataFrame(
        {
            "timestamp": pd.to_datetime(timestamps, unit="ns", utc=True),
            "parameter": pd.Categorical.from_codes(codes, categories=names),
            "value": joined([s.values for s in chosen], np.float64),
            "status": joined([s.status for s in chosen], np.int8),
            "session_time": pd.to_timedelta(timestamps - _origin(series), unit="ns"),
        }
    )
    frame.attrs["units"] = {name: (units or {}).get(name, "") for name in names}
    return frame


def valid_series(identifier: str, series: ParameterSeries, units: str) -> pandas.Series:
    """One parameter as a pandas Series: its VALID values (others NaN) on a UTC DatetimeIndex,
    named by its identifier, with ``attrs["units"]``."""
    pd = require("pandas", "pandas", "a pandas Series")
    values = np.where(series.status == _VALID, series.values, np.nan)
    index = pd.DatetimeIndex(
        pd.to_datetime(series.timestamps, unit="ns", utc=True), name="timestamp"
    )
    result = pd.Series(values, index=index, name=identifier)
    result.attrs["units"] = units
    return result


def to_wide_dataframe(
    series: Mapping[str, ParameterSeries],
    parameters: Sequence[str] | None = None,
    units: Mapping[str, str] | None = None,
    hz: float | None = None,
) -> pandas.DataFrame:
    """Wide form: one column per parameter (VALID values, others NaN) on a UTC DatetimeIndex,
    outer-joined on time; with ``hz``, the mean of each parameter's samples in buckets of
    ``1/hz`` s aligned to the Unix epoch (empty buckets NaN). A ``session_time`` column gives
    the time from the session's first sample; ``attrs["units"]`` maps parameters to units."""
    pd = require("pandas", "pandas", "a DataFrame")
    names = _chosen(series, parameters)
    units = units or {}
    columns = []
    for name in names:
        column = valid_series(name, series[name], units.get(name, ""))
        column = column[~column.index.duplicated(keep="last")]
        if hz is not None:
            if not hz > 0 or round(1e9 / hz) < 1:
                raise ConfigurationError(f"hz must be > 0 and at most 1e9, got {hz!r}")
            column = column.resample(
                pd.Timedelta(round(1e9 / hz), unit="ns"), origin="epoch"
            ).mean()
        columns.append(column)
    frame = (
        pd.concat(columns, axis=1, join="outer", sort=True)
        if columns
        else pd.DataFrame(index=pd.DatetimeIndex([], tz="UTC", name="timestamp"))
    )
    origin = pd.Timestamp(_origin(series), unit="ns", tz="UTC")
    frame.insert(0, "session_time", frame.index - origin)
    frame.attrs["units"] = {name: units.get(name, "") for name in names}
    return frame


#: one parameter's rows in a batch: (parameter index, timestamps, values, status)
_Part = tuple[int, npt.NDArray[np.int64], npt.NDArray[np.float64], npt.NDArray[np.int8]]


def _batches(series: Mapping[str, ParameterSeries], names: list[str]) -> Iterator[list[_Part]]:
    """The rows of ``names`` in order, cut into batches of ``_BATCH_ROWS`` (the last shorter)."""
    batch: list[_Part] = []
    rows = 0
    for index, name in enumerate(names):
        whole = series[name]
        begin = 0
        while begin < len(whole):
            end = min(len(whole), begin + _BATCH_ROWS - rows)
            cut = slice(begin, end)
            batch.append((index, whole.timestamps[cut], whole.values[cut], whole.status[cut]))
            rows += end - begin
            begin = end
            if rows >= _BATCH_ROWS:
                yield batch
                batch, rows = [], 0
    if batch:
        yield batch


def write_table(
    series: Mapping[str, ParameterSeries],
    path: str | os.PathLike[str],
    file_format: Literal["parquet", "csv"],
    progress: Callable[[int, int], None] | None = None,
    metadata: Mapping[str, str] | None = None,
    units: Mapping[str, str] | None = None,
) -> int:
    """Write the long form (``timestamp``, ``parameter``, ``value``, ``status``, ``units``) to
    ``path``; returns the number of rows. ``progress(rows_written, rows)`` follows each batch.

    The file is written under a temporary name in the target folder and renamed into place only
    when complete, so an interrupted export leaves no partial file. ``metadata`` goes into the
    Parquet schema's key-value metadata (CSV has none).
    """
    pa = require("pyarrow", "pandas", "Parquet and CSV export")
    names = _chosen(series, None)
    total = sum(len(s) for s in series.values())
    dictionary = pa.array(names, type=pa.string())
    unit_dictionary = pa.array([(units or {}).get(name, "") for name in names], type=pa.string())
    text_type = pa.dictionary(pa.int32(), pa.string()) if file_format == "parquet" else pa.string()
    schema = pa.schema(
        [
            ("timestamp", pa.timestamp("ns", tz="UTC")),
            ("parameter", text_type),
            ("value", pa.float64()),
            ("status", pa.int8()),
            ("units", text_type),
        ]
    )
    if metadata and file_format == "parquet":
        schema = schema.with_metadata(dict(metadata))
    written = 0
    with staged_output(Path(path)) as partial:
        writer = _open_writer(partial, schema, file_format)
        try:
            for batch in _batches(series, names):
                table = _table(pa, schema, batch, dictionary, unit_dictionary, file_format)
                writer.write_table(table)
                written += table.num_rows
                if progress is not None:
                    progress(written, total)
        finally:
            writer.close()
    logger.info("wrote %d rows of %d parameters to %s", written, len(names), path)
    return written


def _table(
    pa: Any,
    schema: Any,
    batch: list[tuple[int, Any, Any, Any]],
    dictionary: Any,
    unit_dictionary: Any,
    file_format: str,
) -> Any:
    """One batch of (parameter index, timestamps, values, status) as an Arrow table."""
    codes = pa.array(
        np.repeat(
            np.array([i for i, *_ in batch], dtype=np.int32),
            [len(t) for _, t, _, _ in batch],
        )
    )
    parameter: Any = pa.DictionaryArray.from_arrays(codes, dictionary)
    unit: Any = pa.DictionaryArray.from_arrays(codes, unit_dictionary)
    if file_format == "csv":
        parameter, unit = parameter.cast(pa.string()), unit.cast(pa.string())
    return pa.table(
        [
            pa.array(np.concatenate([t for _, t, _, _ in batch]), pa.timestamp("ns", tz="UTC")),
            parameter,
            pa.array(np.concatenate([v for _, _, v, _ in batch])),
            pa.array(np.concatenate([s for _, _, _, s in batch])),
            unit,
        ],
        schema=schema,
    )


def _open_writer(path: str | os.PathLike[str], schema: Any, file_format: str) -> Any:
    if file_format == "parquet":
        pq = require("pyarrow.parquet", "pandas", "Parquet export")
        return pq.ParquetWriter(os.fspath(path), schema, compression="zstd")
    if file_format == "csv":
        pacsv = require("pyarrow.csv", "pandas", "CSV export")
        return pacsv.CSVWriter(os.fspath(path), schema)
    raise ValueError(f"file_format must be 'parquet' or 'csv', got {file_format!r}")

"""Long-form export of session samples: a pandas DataFrame, or Parquet/CSV written batch by batch."""

from __future__ import annotations

import logging
import os
from collections.abc import Callable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal, Protocol

import numpy as np
import numpy.typing as npt

if TYPE_CHECKING:
    import pandas

__all__ = ["to_dataframe", "write_table"]

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


#: rows gathered before a batch is written (bounds the memory an export adds)
_BATCH_ROWS = 1_000_000


def _chosen(series: Mapping[str, ParameterSeries], parameters: Sequence[str] | None) -> list[str]:
    names = sorted(series) if parameters is None else list(parameters)
    unknown = [name for name in names if name not in series]
    if unknown:
        raise KeyError(f"no samples of parameter(s) {', '.join(unknown)}")
    return names


def to_dataframe(
    series: Mapping[str, ParameterSeries], parameters: Sequence[str] | None = None
) -> pandas.DataFrame:
    import pandas as pd

    names = _chosen(series, parameters)
    chosen = [series[name] for name in names]
    lengths = np.array([len(s) for s in chosen], dtype=np.int64)

    def joined(arrays: list[Any], dtype: Any) -> Any:
        return np.concatenate(arrays) if arrays else np.empty(0, dtype=dtype)

    timestamps = joined([s.timestamps for s in chosen], np.int64)
    codes = np.repeat(np.arange(len(names), dtype=np.int32), lengths)
    return pd.DataFrame(
        {
            "timestamp": pd.to_datetime(timestamps, unit="ns", utc=True),
            "parameter": pd.Categorical.from_codes(codes, categories=names),
            "value": joined([s.values for s in chosen], np.float64),
            "status": joined([s.status for s in chosen], np.int8),
        }
    )


def _batches(
    series: Mapping[str, ParameterSeries], names: list[str]
) -> Iterator[list[tuple[int, ParameterSeries]]]:
    """Consecutive parameters (index, series) grouped into batches of about ``_BATCH_ROWS`` rows."""
    batch: list[tuple[int, ParameterSeries]] = []
    rows = 0
    for index, name in enumerate(names):
        batch.append((index, series[name]))
        rows += len(series[name])
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
) -> int:
    """Write the long form to ``path``; returns the number of rows.

    The file is written under a temporary name in the target folder and renamed into place only
    when complete, so an interrupted export leaves no partial file. ``metadata`` goes into the
    Parquet schema's key-value metadata (CSV has none).
    """
    import pyarrow as pa

    names = _chosen(series, None)
    total = sum(len(s) for s in series.values())
    dictionary = pa.array(names, type=pa.string())
    parameter_type = pa.dictionary(pa.int32(), pa.string())
    schema = pa.schema(
        [
            ("timestamp", pa.timestamp("ns", tz="UTC")),
            ("parameter", parameter_type if file_format == "parquet" else pa.string()),
            ("value", pa.float64()),
            ("status", pa.int8()),
        ]
    )
    if metadata and file_format == "parquet":
        schema = schema.with_metadata(dict(metadata))
    target = Path(path)
    partial = target.with_name(f".{target.name}.{os.getpid()}.partial")
    writer = _open_writer(partial, schema, file_format)
    written = 0
    complete = False
    try:
        for batch in _batches(series, names):
            lengths = [len(s) for _, s in batch]
            codes = np.repeat(np.array([i for i, _ in batch], dtype=np.int32), lengths)
            parameter: Any = pa.DictionaryArray.from_arrays(pa.array(codes), dictionary)
            if file_format == "csv":
                parameter = parameter.cast(pa.string())
            table = pa.table(
                [
                    pa.array(
                        np.concatenate([s.timestamps for _, s in batch]),
                        pa.timestamp("ns", tz="UTC"),
                    ),
                    parameter,
                    pa.array(np.concatenate([s.values for _, s in batch])),
                    pa.array(np.concatenate([s.status for _, s in batch])),
                ],
                schema=schema,
            )
            writer.write_table(table)
            written += table.num_rows
            if progress is not None:
                progress(written, total)
        complete = True
    finally:
        writer.close()
        if complete:
            os.replace(partial, target)
        else:
            partial.unlink(missing_ok=True)
    logger.info("wrote %d rows of %d parameters to %s", written, len(names), path)
    return written


def _open_writer(path: str | os.PathLike[str], schema: Any, file_format: str) -> Any:
    if file_format == "parquet":
        import pyarrow.parquet as pq

        return pq.ParquetWriter(os.fspath(path), schema, compression="zstd")
    if file_format == "csv":
        import pyarrow.csv as pacsv

        return pacsv.CSVWriter(os.fspath(path), schema)
    raise ValueError(f"file_format must be 'parquet' or 'csv', got {file_format!r}")

"""Resampling a session: per-bucket statistics, vectorised for an ended session, through the
buffering and interpolation pipeline for a live one."""

from __future__ import annotations

import itertools
import threading
from operator import attrgetter
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from ..contracts.buffering.buffering_configuration import BufferingConfiguration
from ..contracts.interpolation.batch_result import BatchResult
from ..contracts.interpolation.default_result import DefaultResult
from ..contracts.interpolation.i_batch_result_handler import IBatchResultHandler
from ..contracts.packet_reading.packet_reading_configuration import PacketReadingConfiguration
from ..contracts.packet_reading.packet_reading_type import PacketReadingType
from ..contracts.packet_reading.received_packet_dto import ReceivedPacketDto
from ..contracts.shared.i_handler import IHandler
from ..core.buffering.columnar_decoding import decode_sample_packet
from ..core.buffering.module_api import catalog_resolver
from ..core.buffering.sample_reader_service import SampleReaderService
from ..core.interpolation.bucket_statistics import hold_last_value, raw_statistics
from ..core.interpolation.data_reader_service import DataReaderService
from ..core.interpolation.frequencies import frequency_error, period_ns
from ..core.interpolation.grid_accumulator import CellPart, CompletedCells
from ..core.library.context import LibraryContext
from ..core.packet_reading.packet_reader_service import PacketReaderService
from ..core.session_management.registry import SessionRecord
from ..errors import ConfigurationError
from .files import staged_output
from .read import collect_in
from .scan import find_session, plan_scan
from .selection import Selection
from .types import ParameterSeries, ProgressCallback

__all__ = [
    "COUNT_COLUMNS",
    "DEFAULT_WINDOW_MS",
    "SAMPLE_COLUMNS",
    "resample_in",
    "write_resampled",
]

#: Buffering window: reordering tolerance between streams (only memory grows with it).
DEFAULT_WINDOW_MS = 10_000.0
_SUBSCRIPTION = "resample"
_FLOATS = ("first", "last", "min", "max", "mean")
_COUNTS = ("count", "missing_count", "error_count")
_UNCOUNTED = ("unspecified_count", "nan_count")
#: every per-bucket sample count: a parameter with none of them had no samples at all
SAMPLE_COLUMNS = (*_COUNTS, *_UNCOUNTED)
COUNT_COLUMNS = _COUNTS


class _PacketCounter(IHandler[ReceivedPacketDto]):
    def __init__(self) -> None:
        self.packets = 0

    def handle(self, obj: ReceivedPacketDto) -> None:
        self.packets += 1


class _Columns(IBatchResultHandler):
    """Turns each delivered batch into arrays at once (so no result objects pile up)."""

    def __init__(self, parameters: list[str]) -> None:
        self._index = {name: i for i, name in enumerate(parameters)}
        self._parts: list[dict[str, npt.NDArray[Any]]] = []
        self._lock = threading.Lock()

    def handle(self, result: BatchResult) -> None:
        rows = [r for r in result.results if isinstance(r, DefaultResult)]
        size = len(rows)
        part: dict[str, npt.NDArray[Any]] = {
            "parameter": np.fromiter(
                map(self._index.__getitem__, map(attrgetter("identifier"), rows)), np.int32, size
            ),
            "bucket_start_ns": np.fromiter(
                map(attrgetter("interval_start_time_nano"), rows), np.int64, size
            ),
            "super_sampled": np.fromiter(map(attrgetter("is_super_sampled"), rows), bool, size),
        }
        for name in _FLOATS:  # None becomes NaN
            part[name] = np.array(list(map(attrgetter(name), rows)), dtype=np.float64)
        for name in (*_COUNTS, *_UNCOUNTED):
            part[name] = np.fromiter(map(attrgetter(name), rows), np.int64, size)
        with self._lock:
            self._parts.append(part)

    def table(self) -> dict[str, npt.NDArray[Any]]:
        """Every row, ordered by parameter, then bucket."""
        with self._lock:
            parts = list(self._parts)
        if not parts:
            return {name: np.empty(0, np.int64) for name in ("parameter", "bucket_start_ns")}
        joined = {name: np.concatenate([p[name] for p in parts]) for name in parts[0]}
        order = np.lexsort((joined["bucket_start_ns"], joined["parameter"]))
        return {name: column[order] for name, column in joined.items()}


def resample_in(
    context: LibraryContext,
    session_key: str,
    parameters: list[str],
    hz: float,
    *,
    window_ms: float = DEFAULT_WINDOW_MS,
    progress: ProgressCallback | None = None,
) -> tuple[dict[str, npt.NDArray[Any]], int]:
    """Per-bucket statistics of ``parameters`` in one session: the rows (arrays, ordered by
    parameter then bucket; ``parameter`` holds indices into ``parameters``) and the number of
    samples that arrived too late to be buffered.

    An ended session is read whole (only the packets of ``parameters``) and its buckets computed
    over whole arrays, as the interpolation pipeline computes them (no sample is late then); a
    live one runs packet reader → sample reader → data reader. Raises ``SessionNotFoundError``
    for an unknown key and ``ConfigurationError`` for parameters or a rate the pipeline refuses.
    """
    buffering = BufferingConfiguration(parameters, window_ms, 5)
    try:
        buffering.validate()
    except ValueError as exc:
        raise ConfigurationError(str(exc)) from exc
    problem = frequency_error("hz", hz)
    if problem is not None:
        raise ConfigurationError(problem)
    record = find_session(context, session_key)
    if record.info.historical:
        return _resample_ended(context, record, parameters, hz, progress), 0
    return _resample_live(context, record, buffering, parameters, hz, progress)


def _resample_ended(
    context: LibraryContext,
    record: SessionRecord,
    parameters: list[str],
    hz: float,
    progress: ProgressCallback | None,
) -> dict[str, npt.NDArray[Any]]:
    """The pipeline's buckets from whole arrays: epoch-aligned cells from the one holding the
    first sample of ``parameters`` to the one holding the last, the same statistics code, and
    empty cells holding the last value before them."""
    data, _ = collect_in(context, record, Selection(frozenset(parameters)), progress=progress)
    present = [(slot, data.series[p]) for slot, p in enumerate(parameters) if p in data.series]
    if not present:
        return {name: np.empty(0, np.int64) for name in ("parameter", "bucket_start_ns")}
    cell = period_ns(hz)
    first = min(int(s.timestamps[0]) // cell for _, s in present)
    count = max(int(s.timestamps[-1]) // cell for _, s in present) + 1 - first
    edges = (first + np.arange(count + 1, dtype=np.int64)) * cell
    parts = [_part(slots, series, edges) for slots, series in _by_time_base(present)]
    stats = raw_statistics(CompletedCells(first, count, cell, len(parameters), parts))
    hold_last_value(stats, np.full(len(parameters), np.nan))
    slots = len(parameters)
    table: dict[str, npt.NDArray[Any]] = {
        "parameter": np.repeat(np.arange(slots, dtype=np.int32), count),
        "bucket_start_ns": np.tile(edges[:-1], slots),
        "super_sampled": stats.super_sampled.ravel(),
    }
    for name in (*_FLOATS, *_COUNTS, *_UNCOUNTED):
        table[name] = getattr(stats, name).ravel()
    return table


def _by_time_base(
    present: list[tuple[int, ParameterSeries]],
) -> list[tuple[list[int], list[ParameterSeries]]]:
    """Parameters read from the same packets share one timestamps array: one part each."""
    bases: dict[int, tuple[list[int], list[ParameterSeries]]] = {}
    for slot, series in present:
        slots, members = bases.setdefault(id(series.timestamps), ([], []))
        slots.append(slot)
        members.append(series)
    return list(bases.values())


def _part(
    slots: list[int], members: list[ParameterSeries], edges: npt.NDArray[np.int64]
) -> CellPart:
    timestamps = members[0].timestamps
    return CellPart(
        np.asarray(slots, np.intp),
        timestamps,
        _stacked([s.values for s in members]),
        _stacked([s.status for s in members]),
        np.searchsorted(timestamps, edges).astype(np.intp),
    )


def _stacked(rows: list[npt.NDArray[Any]]) -> npt.NDArray[Any]:
    """``rows`` as one read-only 2-D array: a view when they are evenly spaced rows of one
    array (parameters read from the same packets are rows of their group's array), else a
    copy."""
    first = rows[0]
    if len(rows) > 1 and all(
        r.base is not None and r.base is first.base and r.shape == first.shape for r in rows
    ):
        starts = [r.__array_interface__["data"][0] for r in rows]
        step = starts[1] - starts[0]
        even = all(b - a == step for a, b in itertools.pairwise(starts))
        if even and step and first.ndim == 1 and first.strides[0] == first.itemsize:
            return np.lib.stride_tricks.as_strided(
                first, (len(rows), first.size), (step, first.itemsize), writeable=False
            )
    return np.stack(rows)


def _resample_live(
    context: LibraryContext,
    record: SessionRecord,
    buffering: BufferingConfiguration,
    parameters: list[str],
    hz: float,
    progress: ProgressCallback | None,
) -> tuple[dict[str, npt.NDArray[Any]], int]:
    """Run packet reader → sample reader → data reader over one session."""
    info = record.info
    session_key = info.session_key
    total = plan_scan(context.transport, record, None, {}).total_records
    reader = PacketReaderService(
        context,
        PacketReadingConfiguration(
            session_key=session_key,
            timeout_seconds=context.timeout_s,
            data_source=info.data_source,
            reading_type=PacketReadingType.HISTORIC,
        ),
    )
    samples = SampleReaderService(buffering, decode_sample_packet, catalog_resolver(context))
    interpolation = DataReaderService()
    columns = _Columns(parameters)
    counter = _PacketCounter()
    samples.set_reader_service(reader)
    interpolation.set_sample_reader_service(samples)
    if not interpolation.subscribe(_SUBSCRIPTION, parameters, hz, columns):
        raise ConfigurationError(f"cannot resample {parameters} at {hz} Hz (see the log)")
    services = (interpolation, samples, reader)
    try:
        for service in services:  # innermost first
            service.initialise()
            service.start()
        reader.set_handler(counter)
        while not reader.wait_until_finished(0.1):
            if progress is not None:
                progress(min(counter.packets, total), total)
        if progress is not None:
            progress(total, total)
    finally:
        for service in reversed(services):  # outermost first
            service.stop()
    return columns.table(), samples.get_late_sample_count(info.data_source, session_key)


def write_resampled(
    table: dict[str, npt.NDArray[Any]], names: list[str], path: Path, kind: str
) -> None:
    """Write resampled rows (as ``resample_in`` returns them) to Parquet (zstd) or CSV.

    The file is written under a temporary name in the target folder and renamed into place when
    complete, so an interrupted write leaves no partial file."""
    import pyarrow as pa

    dictionary = pa.array(names, type=pa.string())
    parameter: Any = pa.DictionaryArray.from_arrays(pa.array(table["parameter"]), dictionary)
    if kind == "csv":
        parameter = parameter.cast(pa.string())
    arrays = {
        "bucket_start_ns": pa.array(table["bucket_start_ns"], pa.int64()),
        "parameter": parameter,
        **{
            name: pa.array(table[name], pa.float64(), mask=np.isnan(table[name]))
            for name in _FLOATS
        },
        **{name: pa.array(table[name], pa.int64()) for name in _COUNTS},
        "super_sampled": pa.array(table["super_sampled"], pa.bool_()),
    }
    written = pa.table(arrays)
    with staged_output(path) as partial:
        if kind == "csv":
            import pyarrow.csv as pacsv

            pacsv.write_csv(written, str(partial))
        else:
            import pyarrow.parquet as pq

            pq.write_table(written, str(partial), compression="zstd")

"""`resample`: per-bucket statistics of parameters through the buffering/interpolation pipeline."""

from __future__ import annotations

import argparse
import logging
import math
import threading
from operator import attrgetter
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
from rich.console import Console

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
from ..core.interpolation.data_reader_service import DataReaderService
from ..core.library.context import LibraryContext
from ..core.packet_reading.packet_reader_service import PacketReaderService
from ..errors import CliError, SessionNotFoundError
from ..sessions.read import ProgressCallback
from ..sessions.scan import plan_scan
from .common import open_store, progress_bar

__all__ = ["add_parsers", "resample_session"]

logger = logging.getLogger(__name__)

EXIT_LATE = 1
#: Buffering window: reordering tolerance between streams (only memory grows with it).
DEFAULT_WINDOW_MS = 10_000.0
_SUBSCRIPTION = "resample"
_FLOATS = ("first", "last", "min", "max", "mean")
_COUNTS = ("count", "missing_count", "error_count")
_UNCOUNTED = ("unspecified_count", "nan_count")


def add_parsers(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    resample = commands.add_parser(
        "resample",
        help="per-bucket statistics of parameters at a fixed rate, to Parquet or CSV",
        description="Read a session through the buffering and interpolation modules (packet "
        "reader -> sample reader -> data reader) and write one row per parameter and bucket: "
        "bucket_start_ns, parameter, first, last, min, max, mean, count, missing_count, "
        "error_count, super_sampled. Buckets are 1/HZ s long and aligned to the Unix epoch; "
        "only VALID samples enter the statistics; a bucket without samples holds the last value "
        "before it (count 0, super_sampled) or is empty before the parameter's first sample.",
    )
    resample.add_argument("session_key", metavar="KEY")
    resample.add_argument("parameters", metavar="PARAM", nargs="+")
    resample.add_argument("--hz", type=float, default=10.0, help="buckets per second (default 10)")
    resample.add_argument("--out", required=True, type=Path, metavar="PATH")
    resample.add_argument("--format", choices=("parquet", "csv"), help="default: from --out")
    resample.add_argument(
        "--window-ms",
        type=float,
        default=DEFAULT_WINDOW_MS,
        metavar="MS",
        help=f"buffering window (default {DEFAULT_WINDOW_MS:g}); longer tolerates more skew "
        "between streams",
    )
    resample.set_defaults(run=run_resample)


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


def _check_hz(hz: float) -> None:
    if not math.isfinite(hz) or hz <= 0:
        raise CliError(f"--hz must be a finite number > 0, got {hz!r}")
    if round(1e9 / hz) < 1:
        raise CliError(f"--hz {hz!r} is above 1 GHz (buckets are whole nanoseconds)")


def resample_session(
    context: LibraryContext,
    session_key: str,
    parameters: list[str],
    hz: float,
    *,
    window_ms: float = DEFAULT_WINDOW_MS,
    progress: ProgressCallback | None = None,
) -> tuple[dict[str, npt.NDArray[Any]], int]:
    """Run packet reader → sample reader → data reader over one session; the rows (arrays,
    ordered by parameter then bucket; ``parameter`` holds indices into ``parameters``) and the
    number of samples that arrived too late to be buffered."""
    context.sessions.catch_up()
    record = context.sessions.get(session_key)
    if record is None:
        raise SessionNotFoundError(
            f"session {session_key} not found in {context.transport.location}"
        )
    info = record.info
    total = plan_scan(context.transport, record, None, {}).total_records
    buffering = BufferingConfiguration(parameters, window_ms, 5)
    try:
        buffering.validate()
    except ValueError as exc:
        raise CliError(str(exc)) from exc
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
        raise CliError(f"cannot resample {parameters} at {hz} Hz (see the log)")
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


def _write(table: dict[str, npt.NDArray[Any]], names: list[str], path: Path, kind: str) -> None:
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
    if kind == "csv":
        import pyarrow.csv as pacsv

        pacsv.write_csv(written, str(path))
    else:
        import pyarrow.parquet as pq

        pq.write_table(written, str(path), compression="zstd")


def run_resample(args: argparse.Namespace, out: Console, err: Console) -> int:
    hz: float = args.hz
    _check_hz(hz)
    path: Path = args.out
    kind = args.format or ("csv" if path.suffix.lower() == ".csv" else "parquet")
    if not path.parent.exists():
        raise CliError(f"cannot write {path}: directory {path.parent} does not exist")
    parameters = list(dict.fromkeys(args.parameters))
    with open_store(args) as context, progress_bar(err, "resampling") as progress:
        table, late = resample_session(
            context, args.session_key, parameters, hz, window_ms=args.window_ms, progress=progress
        )
    present = np.zeros(len(parameters), dtype=np.int64)
    if table["parameter"].size:
        seen = sum(table[name] for name in (*_COUNTS, *_UNCOUNTED))
        present = np.bincount(table["parameter"], weights=seen, minlength=len(parameters))
    unknown = [name for name, n in zip(parameters, present.tolist(), strict=True) if n == 0]
    if unknown:
        raise CliError(
            f"session {args.session_key} has no samples of {', '.join(unknown)}; run "
            f"`ma-streaming show {args.session_key}` to list its parameters"
        )
    if late:
        raise CliError(
            f"{late} sample(s) arrived after their window was released, so the statistics "
            "would be incomplete; rerun with a longer --window-ms",
            EXIT_LATE,
        )
    try:
        _write(table, parameters, path, kind)
    except OSError as exc:
        raise CliError(f"cannot write {path}: {exc}") from exc
    rows = int(table["parameter"].size)
    buckets = rows // len(parameters)
    out.print(
        f"wrote {rows:,} rows ({buckets:,} buckets of {1 / hz:g} s x {len(parameters)} "
        f"parameter(s)) of session {args.session_key} to {path}"
    )
    return 0

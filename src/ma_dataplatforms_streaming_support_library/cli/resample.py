"""`resample`: per-bucket statistics of parameters through the buffering/interpolation pipeline."""

from __future__ import annotations

import argparse
import math
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from ..core.interpolation.frequencies import frequency_error
from ..errors import CliError, ConfigurationError
from ..sessions.resample import DEFAULT_WINDOW_MS, SAMPLE_COLUMNS, write_resampled
from .common import check_output_folder, open_store, output_format, progress_bar

if TYPE_CHECKING:
    from rich.console import Console

__all__ = ["add_parsers"]

EXIT_LATE = 1


def add_parsers(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Register ``resample``."""
    resample = commands.add_parser(
        "resample",
        help="per-bucket statistics of parameters at a fixed rate, to Parquet or CSV",
        description="Read a session through the buffering and interpolation modules (packet "
        "reader -> sample reader -> data reader) and write one row per parameter and bucket: "
        "bucket_start_ns, parameter, first, last, min, max, mean, count, missing_count, "
        "error_count, super_sampled. Buckets are 1/HZ s long and aligned to the Unix epoch; "
        "only VALID samples enter the statistics; a bucket without samples holds the last value "
        "before it (count 0, super_sampled) or is empty before the parameter's first sample. The "
        "format is --format, else the extension of --out (.parquet, .pq, .csv); the file appears "
        "only when complete.",
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


def _check_rates(hz: float, window_ms: float) -> None:
    error = frequency_error("--hz", hz)
    if error is not None:
        raise CliError(error)
    if not (math.isfinite(window_ms) and window_ms > 0):
        raise CliError(
            f"--window-ms must be a finite number of milliseconds > 0, got {window_ms:g}"
        )


def run_resample(args: argparse.Namespace, out: Console, err: Console) -> int:
    """Resample the session and write the buckets (the file appears only when complete)."""
    hz: float = args.hz
    _check_rates(hz, args.window_ms)
    path: Path = args.out
    kind = output_format(path, args.format)
    check_output_folder(path)
    parameters = list(dict.fromkeys(args.parameters))
    with open_store(args) as store, progress_bar(err, "resampling") as progress:
        key = store.resolve(args.session_key)
        try:
            table, late = store.resample(
                key, parameters, hz, window_ms=args.window_ms, progress=progress
            )
        except ConfigurationError as exc:
            raise CliError(str(exc)) from exc
    present = np.zeros(len(parameters), dtype=np.int64)
    if table["parameter"].size:
        seen = sum(table[name] for name in SAMPLE_COLUMNS)
        present = np.bincount(table["parameter"], weights=seen, minlength=len(parameters))
    unknown = [name for name, n in zip(parameters, present.tolist(), strict=True) if n == 0]
    if unknown:
        raise CliError(
            f"session {key} has no samples of {', '.join(unknown)}; run "
            f"`ma-streaming show {key}` to list its parameters"
        )
    if late:
        raise CliError(
            f"{late} sample(s) arrived after their window was released, so the statistics "
            "would be incomplete; rerun with a longer --window-ms",
            EXIT_LATE,
        )
    try:
        write_resampled(table, parameters, path, kind)
    except OSError as exc:
        raise CliError(f"cannot write {path}: {exc}") from exc
    rows = int(table["parameter"].size)
    buckets = rows // len(parameters)
    out.print(
        f"wrote {rows:,} rows ({buckets:,} buckets of {1 / hz:g} s x {len(parameters)} "
        f"parameter(s)) of session {key} to {path}"
    )
    return 0

"""`export` and `plot`: a session's samples to Parquet/CSV, or parameters to a PNG time plot."""

from __future__ import annotations

import argparse
import logging
from pathlib import Path

import numpy as np
import numpy.typing as npt
from rich.console import Console

from ..errors import CliError
from ..sessions import SessionData
from .common import open_store, progress_bar

__all__ = ["add_parsers"]

logger = logging.getLogger(__name__)

_VALID = 1
#: above this many samples a parameter is drawn as a min/max envelope of this many buckets
_PLOT_BUCKETS = 20_000


def add_parsers(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    export = commands.add_parser(
        "export",
        help="write a session's samples to Parquet or CSV",
        description="Write every sample of a session in long form (timestamp, parameter, value, "
        "status), parameter by parameter in time order. Timestamps are UTC with ns precision; "
        "status is the Open Data DataStatus code (1 valid, 2 missing, 3 error).",
    )
    export.add_argument("session_key", metavar="KEY")
    export.add_argument("--format", choices=("parquet", "csv"), help="default: from --out's suffix")
    export.add_argument("--out", required=True, type=Path, metavar="PATH")
    export.set_defaults(run=run_export)
    plot = commands.add_parser(
        "plot",
        help="plot parameters of a session to a PNG",
        description="Plot the valid samples of each PARAM (one panel each) against seconds from "
        "the session's first sample; markers are drawn as vertical lines.",
    )
    plot.add_argument("session_key", metavar="KEY")
    plot.add_argument("parameters", metavar="PARAM", nargs="+")
    plot.add_argument("--out", required=True, type=Path, metavar="FILE.png")
    plot.set_defaults(run=run_plot)


def _read(args: argparse.Namespace, err: Console) -> SessionData:
    with open_store(args) as store, progress_bar(err, "reading session") as progress:
        return store.read(args.session_key, progress=progress)


def run_export(args: argparse.Namespace, out: Console, err: Console) -> int:
    path: Path = args.out
    file_format = args.format or ("csv" if path.suffix.lower() == ".csv" else "parquet")
    if not path.parent.exists():
        raise CliError(f"cannot write {path}: directory {path.parent} does not exist")
    data = _read(args, err)
    with progress_bar(err, f"writing {file_format}") as progress:
        try:
            if file_format == "csv":
                rows = data.to_csv(path, progress)
            else:
                rows = data.to_parquet(path, progress)
        except OSError as exc:
            raise CliError(f"cannot write {path}: {exc}") from exc
    state = "" if data.complete else " (session still live: read up to now)"
    out.print(
        f"wrote {rows:,} samples of {len(data.series)} parameters from session "
        f"{data.session_key} to {path}{state}"
    )
    return 0


def _envelope(
    x: npt.NDArray[np.float64], y: npt.NDArray[np.float64]
) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.float64]]:
    """At most ``2 * _PLOT_BUCKETS`` points keeping each bucket's minimum and maximum."""
    if x.size <= 2 * _PLOT_BUCKETS:
        return x, y
    edges = np.linspace(0, x.size, _PLOT_BUCKETS + 1).astype(np.int64)[:-1]
    lows = np.fmin.reduceat(y, edges)
    highs = np.fmax.reduceat(y, edges)
    xs = np.repeat(x[edges], 2)
    ys = np.column_stack([lows, highs]).reshape(-1)
    return xs, ys


def run_plot(args: argparse.Namespace, out: Console, err: Console) -> int:
    path: Path = args.out
    if not path.parent.exists():
        raise CliError(f"cannot write {path}: directory {path.parent} does not exist")
    data = _read(args, err)
    unknown = [p for p in args.parameters if p not in data.series]
    if unknown:
        raise CliError(
            f"session {data.session_key} has no samples of {', '.join(unknown)}; run "
            f"`ma-streaming show {data.session_key}` to list its parameters"
        )
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    span = data.time_range_ns
    origin = span[0] if span else 0
    count = len(args.parameters)
    figure, axes = plt.subplots(
        count, 1, sharex=True, squeeze=False, figsize=(10, 1.0 + 2.4 * count)
    )
    for axis, identifier in zip(axes[:, 0], args.parameters, strict=True):
        series = data.series[identifier]
        seconds = (series.timestamps - origin) / 1e9
        values = np.where(series.status == _VALID, series.values, np.nan)
        axis.plot(*_envelope(seconds, values), linewidth=0.8)
        axis.set_ylabel(identifier)
        axis.grid(True, alpha=0.3)
        for marker in data.markers:
            axis.axvline((marker.timestamp_ns - origin) / 1e9, color="tab:red", alpha=0.5, lw=0.8)
    axes[-1, 0].set_xlabel("time from session start (s)")
    title = data.session_info.identifier or data.session_key
    figure.suptitle(f"{title} ({data.session_info.data_source})")
    figure.tight_layout()
    try:
        figure.savefig(path, dpi=100)
    except OSError as exc:
        raise CliError(f"cannot write {path}: {exc}") from exc
    finally:
        plt.close(figure)
    out.print(f"plotted {count} parameter(s) of session {data.session_key} to {path}")
    return 0

"""`plot`: parameters of a session against time to a PNG, with units, lap markers and a legend."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import numpy.typing as npt

from ..errors import CliError
from ..sessions import SessionData
from .common import check_output_folder, open_store, progress_bar, staged_output

if TYPE_CHECKING:
    from rich.console import Console

__all__ = ["add_parsers", "time_bound"]

_VALID = 1
#: above this many samples a parameter is drawn as a min/max envelope of this many buckets
_PLOT_BUCKETS = 20_000
_MARKER_STYLE = {"color": "tab:red", "alpha": 0.5, "linewidth": 0.8}


def add_parsers(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Register ``plot``."""
    plot = commands.add_parser(
        "plot",
        help="plot parameters of a session to a PNG",
        description="Plot the valid samples of each PARAM (one panel each, labelled with its "
        "units) against seconds from the session's first sample; markers (laps) are drawn as "
        "labelled vertical lines. --start/--end take seconds from the session start or a "
        "marker's label (e.g. --start 'Lap 2' --end 'Lap 3').",
    )
    plot.add_argument("session_key", metavar="KEY")
    plot.add_argument("parameters", metavar="PARAM", nargs="+")
    plot.add_argument("--out", required=True, type=Path, metavar="FILE.png")
    plot.add_argument("--start", metavar="SECONDS|LABEL", help="first time shown")
    plot.add_argument("--end", metavar="SECONDS|LABEL", help="last time shown")
    plot.set_defaults(run=run_plot)


def time_bound(text: str, data: SessionData, origin_ns: int, option: str) -> float:
    """``--start``/``--end`` as seconds from ``origin_ns``: a number, or a marker's label."""
    try:
        return float(text)
    except ValueError:
        pass
    for marker in data.markers:
        if marker.label == text:
            return (marker.timestamp_ns - origin_ns) / 1e9
    labels = sorted({m.label for m in data.markers if m.label})
    known = f"; marker labels: {', '.join(labels)}" if labels else "; the session has no markers"
    raise CliError(f"{option} {text!r} is neither seconds nor a marker label{known}")


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


def _draw_markers(axis: Any, data: SessionData, origin_ns: int, *, labelled: bool) -> None:
    for index, marker in enumerate(data.markers):
        seconds = (marker.timestamp_ns - origin_ns) / 1e9
        axis.axvline(seconds, label="markers" if index == 0 else None, **_MARKER_STYLE)
        if labelled and marker.label:
            axis.annotate(
                marker.label,
                (seconds, 1.0),
                xycoords=("data", "axes fraction"),
                xytext=(2, -2),
                textcoords="offset points",
                rotation=90,
                va="top",
                fontsize=7,
                color=_MARKER_STYLE["color"],
            )


def _figure(data: SessionData, parameters: list[str], window: tuple[float, float] | None) -> Any:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    span = data.time_range_ns
    origin = span[0] if span else 0
    figure, axes = plt.subplots(
        len(parameters), 1, sharex=True, squeeze=False, figsize=(10, 1.0 + 2.4 * len(parameters))
    )
    for row, (axis, identifier) in enumerate(zip(axes[:, 0], parameters, strict=True)):
        series = data.series[identifier]
        seconds = (series.timestamps - origin) / 1e9
        values = np.where(series.status == _VALID, series.values, np.nan)
        label = f"{identifier} [{series.units}]" if series.units else identifier
        axis.plot(*_envelope(seconds, values), linewidth=0.8, label=identifier)
        axis.set_ylabel(label)
        axis.grid(True, alpha=0.3)
        _draw_markers(axis, data, origin, labelled=row == 0)
        axis.legend(loc="upper right", fontsize=8)
    if window is not None:
        axes[-1, 0].set_xlim(*window)
    axes[-1, 0].set_xlabel("time from session start (s)")
    title = data.session_info.identifier or data.session_key
    figure.suptitle(f"{title} ({data.session_info.data_source})")
    figure.tight_layout()
    return figure


def run_plot(args: argparse.Namespace, out: Console, err: Console) -> int:
    """Read the session and draw the chosen parameters to a PNG (written whole or not at all)."""
    path: Path = args.out
    check_output_folder(path)
    with open_store(args) as store:
        key = store.resolve(args.session_key)
        with progress_bar(err, "reading packets") as progress:
            data = store.read(key, progress=progress)
    unknown = [p for p in args.parameters if p not in data.series]
    if unknown:
        raise CliError(
            f"session {data.session_key} has no samples of {', '.join(unknown)}; run "
            f"`ma-streaming show {data.session_key}` to list its parameters"
        )
    span = data.time_range_ns
    origin = span[0] if span else 0
    window = None
    if args.start is not None or args.end is not None:
        last = (span[1] - origin) / 1e9 if span else 0.0
        start = 0.0 if args.start is None else time_bound(args.start, data, origin, "--start")
        end = last if args.end is None else time_bound(args.end, data, origin, "--end")
        if end <= start:
            raise CliError(f"--end ({end:g} s) must be after --start ({start:g} s)")
        window = (start, end)
    import matplotlib.pyplot as plt

    figure = _figure(data, list(args.parameters), window)
    try:
        with staged_output(path) as partial:
            figure.savefig(partial, dpi=100, format="png")
    finally:
        plt.close(figure)
    out.print(
        f"plotted {len(args.parameters)} parameter(s) of session {data.session_key} to {path}"
    )
    return 0

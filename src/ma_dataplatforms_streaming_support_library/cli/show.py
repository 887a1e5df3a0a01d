"""`show`: describe one session in full (info, streams, parameters with units, markers, events)."""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING, Any

import numpy as np

from ..sessions import SessionData
from .common import format_ns, open_store, progress_bar

if TYPE_CHECKING:
    from rich.console import Console

__all__ = ["add_parsers"]

_VALID = 1
#: markers and events listed (the rest are counted)
_MAX_ROWS = 50


def add_parsers(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Register ``show``."""
    show = commands.add_parser(
        "show", help="describe one session", description="Session info, streams, parameters "
        "(with units), packet counts by type, markers and events of one session (reads the whole "
        "session).",
    )  # fmt: skip
    show.add_argument("session_key", metavar="KEY")
    show.set_defaults(run=run_show)


def _table(title: str, **options: Any) -> Any:
    from rich.table import Table

    return Table(title=title, **options)


# show -----------------------------------------------------------------------------------------
def run_show(args: argparse.Namespace, console: Console, err: Console) -> int:
    """Print everything known about one session."""
    with open_store(args) as store, progress_bar(err, "reading session") as progress:
        data = store.read(store.resolve(args.session_key), progress=progress)
    _print_info(data, console)
    _print_counts(data, console)
    _print_parameters(data, console)
    _print_markers_and_events(data, console)
    _print_problems(data, console)
    return 0


def _print_info(data: SessionData, console: Console) -> None:
    info = data.session_info
    table = _table(title=f"session {info.session_key}", show_header=False)
    table.add_column("field", style="bold")
    table.add_column("value")
    span = data.time_range_ns
    state = "ended" if info.historical else "live (read up to now)"
    rows = [
        ("identifier", info.identifier),
        ("data source", info.data_source),
        ("type / version", f"{info.type} / {info.version}"),
        ("state", state),
        ("utc offset", str(info.utc_offset)),
        ("first sample (UTC)", format_ns(span[0] if span else None)),
        ("last sample (UTC)", format_ns(span[1] if span else None)),
        ("duration", f"{(span[1] - span[0]) / 1e9:.3f} s" if span else "-"),
        ("samples", f"{data.sample_count:,}"),
        ("store", data.location),
    ]
    rows += [(f"detail: {name}", value) for name, value in sorted(info.details.items())]
    rows += [("associated session", key) for key in info.associate_session_keys]
    for name, value in rows:
        table.add_row(name, value)
    console.print(table)


def _print_counts(data: SessionData, console: Console) -> None:
    streams = _table(title="streams")
    streams.add_column("stream")
    streams.add_column("packets", justify="right")
    for stream, count in sorted(data.stream_packet_counts.items()):
        streams.add_row(stream or "(main)", f"{count:,}")
    console.print(streams)
    types = _table(title="packets by type")
    types.add_column("type")
    types.add_column("packets", justify="right")
    for packet_type, count in sorted(data.packet_counts.items()):
        types.add_row(packet_type, f"{count:,}")
    console.print(types)


def _print_parameters(data: SessionData, console: Console) -> None:
    table = _table(title=f"parameters ({len(data.series)})")
    for name in ("parameter", "units", "stream"):
        table.add_column(name)
    for name in ("samples", "valid", "min", "max", "first (s)", "last (s)"):
        table.add_column(name, justify="right")
    span = data.time_range_ns
    origin = span[0] if span else 0
    for identifier in data.parameters:
        series = data.series[identifier]
        valid = series.values[series.status == _VALID]
        finite = valid[np.isfinite(valid)]
        table.add_row(
            identifier,
            series.units or "-",
            ", ".join(s or "(main)" for s in data.streams_of_parameters.get(identifier, [])),
            f"{len(series):,}",
            f"{valid.size:,}",
            f"{finite.min():.6g}" if finite.size else "-",
            f"{finite.max():.6g}" if finite.size else "-",
            f"{(int(series.timestamps[0]) - origin) / 1e9:.3f}",
            f"{(int(series.timestamps[-1]) - origin) / 1e9:.3f}",
        )
    console.print(table)


def _print_markers_and_events(data: SessionData, console: Console) -> None:
    if data.markers:
        markers = _table(title=f"markers ({len(data.markers)})")
        for name in ("time (UTC)", "label", "type", "description", "value"):
            markers.add_column(name)
        for marker in data.markers[:_MAX_ROWS]:
            markers.add_row(
                format_ns(marker.timestamp_ns),
                marker.label,
                marker.type,
                marker.description,
                str(marker.value),
            )
        console.print(markers)
        _print_more(console, len(data.markers), "markers")
    if data.events:
        events = _table(title=f"events ({len(data.events)})")
        for name in ("time (UTC)", "event", "values"):
            events.add_column(name)
        for event in data.events[:_MAX_ROWS]:
            events.add_row(
                format_ns(event.timestamp_ns),
                event.identifier or f"(unknown format {event.data_format_id})",
                ", ".join(f"{v:g}" for v in event.raw_values),
            )
        console.print(events)
        _print_more(console, len(data.events), "events")


def _print_more(console: Console, count: int, what: str) -> None:
    if count > _MAX_ROWS:
        console.print(f"… and {count - _MAX_ROWS:,} more {what}")


def _print_problems(data: SessionData, console: Console) -> None:
    for data_format_id, packets in sorted(data.unresolved_formats.items()):
        console.print(
            f"[yellow]warning:[/] {packets} packet(s) use data format id {data_format_id}, which "
            f"no definition on data source {data.session_info.data_source!r} names; skipped"
        )
    for corrupt in data.corrupt_records:
        console.print(
            f"[yellow]warning:[/] corrupt record at {corrupt.topic}:{corrupt.partition} offset "
            f"{corrupt.offset}: {corrupt.reason}; skipped"
        )
    if data.string_samples:
        console.print(
            f"[yellow]note:[/] {data.string_samples:,} string sample(s) have no numeric value; "
            "they read as NaN"
        )

"""`sessions`: list the sessions of a store as a table that fits the terminal, JSON or CSV."""

from __future__ import annotations

import argparse
import csv
import datetime
import io
import json
import time
from typing import TYPE_CHECKING

from ..sessions import SessionSummary
from ..sessions.ending import stale
from .common import duration_seconds, format_ns, open_store, progress_bar

if TYPE_CHECKING:
    from rich.console import Console

__all__ = ["add_parsers", "format_listing"]

#: narrowest a text column (identifier, data source) gets when the table must fit the terminal
_MIN_TEXT = 8
#: a key prefix long enough to name a session among thousands (commands take prefixes)
_SHORT_KEY = 8
_HEADERS = ("key", "identifier", "data source", "start (UTC)", "duration", "state", "packets")


def add_parsers(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Register ``sessions``."""
    listing = commands.add_parser(
        "sessions",
        help="list sessions",
        description=(
            "List every session of the store, oldest first: key, identifier, data source, the "
            "time its NewSession record was stored (UTC), duration (to its end, or to its latest "
            "record while live), state and its exact packet count. On a terminal the table fits "
            "the width (keys shortened to a prefix, which every command accepts); piped, it is "
            "plain text with full values."
        ),
    )
    listing.add_argument("--data-source", help="only sessions of this data source")
    listing.add_argument(
        "--stale-after",
        type=duration_seconds,
        metavar="DURATION",
        help="only live sessions with no record for this long (90s, 15m, 2h, 1d)",
    )
    output = listing.add_mutually_exclusive_group()
    output.add_argument("--json", action="store_true", help="print a JSON array")
    output.add_argument("--csv", action="store_true", help="print CSV with a header row")
    listing.set_defaults(run=run_sessions)


# sessions -------------------------------------------------------------------------------------
def _iso(timestamp_ms: int | None) -> str | None:
    if timestamp_ms is None:
        return None
    moment = datetime.datetime.fromtimestamp(timestamp_ms / 1e3, tz=datetime.timezone.utc)
    return moment.isoformat(timespec="milliseconds").replace("+00:00", "Z")


def _duration(summary: SessionSummary) -> str:
    end = summary.ended_ms if summary.ended_ms is not None else summary.last_activity_ms
    if summary.started_ms is None or end is None:
        return "-"
    seconds = max(0, (end - summary.started_ms) // 1000)
    days, rest = divmod(seconds, 86400)
    clock = f"{rest // 3600}:{rest % 3600 // 60:02d}:{rest % 60:02d}"
    return f"{days}d {clock}" if days else clock


def _record(summary: SessionSummary) -> dict[str, object]:
    info = summary.info
    return {
        "session_key": info.session_key,
        "identifier": info.identifier,
        "data_source": info.data_source,
        "type": info.type,
        "version": info.version,
        "state": "live" if summary.is_live else "ended",
        "started_utc": _iso(summary.started_ms),
        "ended_utc": _iso(summary.ended_ms),
        "last_record_utc": _iso(summary.last_activity_ms),
        "packets": summary.packets,
    }


def _row(summary: SessionSummary) -> list[str]:
    started = None if summary.started_ms is None else summary.started_ms * 1_000_000
    return [
        summary.session_key,
        summary.info.identifier,
        summary.info.data_source,
        format_ns(started, milliseconds=False),
        _duration(summary),
        "live" if summary.is_live else "ended",
        "-" if summary.packets is None else f"{summary.packets:,}",
    ]


def _clip(text: str, width: int) -> str:
    return text if len(text) <= width else text[: width - 1] + "…"


def format_listing(rows: list[list[str]], width: int | None) -> list[str]:
    """Plain-text lines of the session table; within ``width`` columns when given, by shortening
    keys to a prefix and then identifiers and data sources (never a number or a time)."""
    widths = [max(len(h), *(len(r[i]) for r in rows)) for i, h in enumerate(_HEADERS)]
    if width is not None:
        excess = sum(widths) + 2 * (len(widths) - 1) - width
        if excess > 0:
            cut = min(excess, widths[0] - _SHORT_KEY)
            widths[0] -= cut
            excess -= cut
        while excess > 0 and max(widths[1], widths[2]) > _MIN_TEXT:
            widest = 1 if widths[1] >= widths[2] else 2
            widths[widest] -= 1
            excess -= 1
    lines = []
    for cells in [list(_HEADERS), *rows]:
        key = cells[0][: widths[0]]
        texts = [_clip(cell, w) for cell, w in zip(cells[1:3], widths[1:3], strict=True)]
        rest = [cell.ljust(w) for cell, w in zip(cells[3:6], widths[3:6], strict=True)]
        line = "  ".join(
            [
                key.ljust(widths[0]),
                *(t.ljust(w) for t, w in zip(texts, widths[1:3], strict=True)),
                *rest,
                cells[6].rjust(widths[6]),
            ]
        )
        lines.append(line.rstrip())
    return lines


def run_sessions(args: argparse.Namespace, console: Console, err: Console) -> int:
    """List the sessions of the store (table, JSON or CSV)."""
    with open_store(args) as store, progress_bar(err, "counting packets") as progress:
        summaries = store.list(data_source=args.data_source, count_packets=True, progress=progress)
        location = store.location
    if args.stale_after is not None:
        summaries = stale(summaries, args.stale_after, time.time_ns() // 1_000_000)
    if args.json:
        print(json.dumps([_record(s) for s in summaries], indent=2))
        return 0
    if args.csv:
        buffer = io.StringIO()
        writer = csv.DictWriter(
            buffer,
            fieldnames=list(_record(summaries[0]) if summaries else ()) or ["session_key"],
            lineterminator="\n",
        )
        writer.writeheader()
        writer.writerows(_record(s) for s in summaries)
        print(buffer.getvalue(), end="")
        return 0
    if not summaries:
        where = "" if args.data_source is None else f" of data source {args.data_source!r}"
        which = "" if args.stale_after is None else "stale "
        print(f"no {which}sessions{where} in {location}")
        return 0
    width = console.width if console.is_terminal else None
    print("\n".join(format_listing([_row(s) for s in summaries], width)))
    return 0

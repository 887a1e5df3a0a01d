"""`end`: end sessions whose writer is gone (killed, crashed), one by key or all stale ones."""

from __future__ import annotations

import argparse
import time
from typing import TYPE_CHECKING

from ..errors import CliError
from ..sessions.ending import stale
from .common import duration_seconds, open_store, progress_bar

if TYPE_CHECKING:
    from rich.console import Console

__all__ = ["add_parsers"]


def add_parsers(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Register ``end``."""
    end = commands.add_parser(
        "end",
        help="end live sessions whose writer is gone",
        description="Write the EndOfSession of live sessions, as their writer would have: KEY "
        "ends one session; --stale-after DURATION ends every live session with no record for "
        "that long (see `ma-streaming sessions --stale-after`). Readers then treat them as "
        "ended sessions.",
    )
    end.add_argument("session_key", metavar="KEY", nargs="?")
    end.add_argument(
        "--stale-after",
        type=duration_seconds,
        metavar="DURATION",
        help="end every live session silent this long (90s, 15m, 2h, 1d)",
    )
    end.set_defaults(run=run_end)


def run_end(args: argparse.Namespace, out: Console, err: Console) -> int:
    """End the named session, or every stale one."""
    if (args.session_key is None) == (args.stale_after is None):
        raise CliError("end takes a KEY or --stale-after DURATION (one of them)")
    with open_store(args) as store:
        if args.session_key is not None:
            keys = [store.resolve(args.session_key)]
        else:
            with progress_bar(err, "finding stale sessions") as progress:
                summaries = store.list(count_packets=True, progress=progress)
            now_ms = time.time_ns() // 1_000_000
            keys = [s.session_key for s in stale(summaries, args.stale_after, now_ms)]
            if not keys:
                out.print(f"no live session has been silent for {args.stale_after:g} s")
                return 0
        for key in keys:
            try:
                info = store.end(key)
            except ValueError as exc:
                raise CliError(str(exc)) from exc
            out.print(f"ended session {key} ({info.identifier or 'no identifier'})")
    return 0

"""`copy`: replay sessions from one store to another (embedded ↔ Kafka), with progress."""

from __future__ import annotations

import argparse
import logging

from rich.console import Console

from ..errors import CliError, SessionCopyError
from .common import open_broker, progress_bar

__all__ = ["add_parsers"]

logger = logging.getLogger(__name__)


def add_parsers(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    copy = commands.add_parser(
        "copy",
        help="copy sessions between stores (embedded <-> Kafka)",
        description="Replay sessions from one store to another. Data packets keep their topic, "
        "partition, key and bytes; NewSession/EndOfSession records get the target's offsets; "
        "data format definitions the target lacks are copied too. Sessions the target already "
        "has are skipped.",
    )
    copy.add_argument("--from", dest="source", required=True, metavar="BROKER_LIST")
    copy.add_argument("--to", dest="target", required=True, metavar="BROKER_LIST")
    copy.add_argument("session_keys", metavar="KEY", nargs="*", help="default: every session")
    copy.set_defaults(run=run_copy)


def run_copy(args: argparse.Namespace, out: Console, err: Console) -> int:
    if args.source == args.target:
        raise CliError("--from and --to name the same store")
    with (
        open_broker(args.source, args.timeout) as source,
        open_broker(args.target, args.timeout, must_exist=False) as target,
    ):
        keys: list[str] = args.session_keys or [s.session_key for s in source.list()]
        copied = skipped = 0
        for key in keys:
            with progress_bar(err, f"copying {key[:8]}") as progress:
                try:
                    report = source.copy_to(target, key, progress)
                except SessionCopyError as exc:
                    out.print(f"skipped {key}: {exc}")
                    skipped += 1
                    continue
            copied += 1
            out.print(
                f"copied {key} ({report.data_source}): {report.data_records} data records, "
                f"{report.session_records} session records, "
                f"{report.data_format_definitions} data format definitions"
            )
        out.print(f"{copied} session(s) copied, {skipped} skipped, to {target.location}")
    return 0

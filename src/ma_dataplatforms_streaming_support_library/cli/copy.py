"""`copy`: replay sessions from one store to another (embedded ↔ Kafka), with progress."""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING

from ..errors import CliError, SessionCopyError
from ..sessions.store import new_store
from .common import open_broker, progress_bar
from .options import as_broker_list

if TYPE_CHECKING:
    from rich.console import Console

__all__ = ["add_parsers"]


def add_parsers(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Register ``copy``."""
    copy = commands.add_parser(
        "copy",
        help="copy sessions between stores (embedded <-> Kafka)",
        description="Replay sessions from one store to another. Data packets keep their topic, "
        "partition, key and bytes; NewSession/EndOfSession records get the target's offsets; "
        "data format definitions the target lacks are copied too. Sessions the target already "
        "has are skipped. A new embedded target store appears only when the copy is complete.",
    )
    copy.add_argument("--from", dest="source", required=True, metavar="BROKER_LIST")
    copy.add_argument("--to", dest="target", required=True, metavar="BROKER_LIST")
    copy.add_argument("session_keys", metavar="KEY", nargs="*", help="default: every session")
    copy.set_defaults(run=run_copy)


def run_copy(args: argparse.Namespace, out: Console, err: Console) -> int:
    """Copy the named sessions (every one by default); the sessions are found before the target
    is opened, so a typo creates nothing."""
    source_list, target_list = as_broker_list(args.source), as_broker_list(args.target)
    if source_list == target_list:
        raise CliError("--from and --to name the same store")
    with open_broker(source_list, args) as source:
        keys = [source.resolve(text) for text in args.session_keys] or [
            s.session_key for s in source.list()
        ]
        if not keys:
            out.print(f"no sessions in {source.location}; nothing copied")
            return 0
        with new_store(
            target_list, timeout_s=args.timeout, additional_properties=args.properties
        ) as target:
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
            location = target_list or "the embedded default store"
    out.print(f"{copied} session(s) copied, {skipped} skipped, to {location}")
    return 0

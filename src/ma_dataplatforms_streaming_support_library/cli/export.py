"""`export`: a session's samples to Parquet or CSV, in long form with units."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import TYPE_CHECKING

from ..errors import CliError
from .common import check_output_folder, open_store, output_format, progress_bar

if TYPE_CHECKING:
    from rich.console import Console

__all__ = ["add_parsers"]


def add_parsers(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Register ``export``."""
    export = commands.add_parser(
        "export",
        help="write a session's samples to Parquet or CSV",
        description="Write every sample of a session in long form (timestamp, parameter, value, "
        "status, units), parameter by parameter in time order. Timestamps are UTC with ns "
        "precision; status is the Open Data DataStatus code (1 valid, 2 missing, 3 error). "
        "Parquet files also carry the session key, identifier, data source and units in their "
        "metadata. The format is --format, else the extension of --out (.parquet, .pq, .csv); "
        "the file appears only when complete.",
    )
    export.add_argument("session_key", metavar="KEY")
    export.add_argument("--format", choices=("parquet", "csv"), help="default: from --out's suffix")
    export.add_argument("--out", required=True, type=Path, metavar="PATH")
    export.set_defaults(run=run_export)


def run_export(args: argparse.Namespace, out: Console, err: Console) -> int:
    """Read the session, then write it under a temporary name and rename it into place."""
    path: Path = args.out
    file_format = output_format(path, args.format)
    check_output_folder(path)
    with open_store(args) as store:
        key = store.resolve(args.session_key)
        with progress_bar(err, "reading packets") as progress:
            data = store.read(key, progress=progress)
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

"""What every command shares: opening the store, naming a session, output files, time formatting.

rich is imported inside the functions that draw, so that parsing needs only the core install.
"""

from __future__ import annotations

import argparse
import contextlib
import datetime
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

from ..contracts.shared.stream_api_configuration import StreamingApiConfiguration
from ..contracts.shared.stream_creation_strategy import StreamCreationStrategy
from ..core.library.context import LibraryContext
from ..errors import EXIT_UNAVAILABLE, CliError, StoreNotFoundError, TransportError
from ..sessions import SessionStore
from ..sessions.files import staged_output as staged
from ..sessions.store import missing_store
from ..sessions.types import ProgressCallback

if TYPE_CHECKING:
    from rich.console import Console

__all__ = [
    "LIST_HINT",
    "OUTPUT_FORMATS",
    "check_output_folder",
    "duration_seconds",
    "format_ns",
    "open_broker",
    "open_context",
    "open_store",
    "output_format",
    "progress_bar",
    "staged_output",
]

LIST_HINT = "run `ma-streaming sessions` to list sessions"


@contextlib.contextmanager
def open_store(args: argparse.Namespace) -> Iterator[SessionStore]:
    """The sessions on ``--broker`` (or ``MA_STREAMING_BROKER``, or the embedded default)."""
    with open_broker(args.broker, args) as store:
        yield store


@contextlib.contextmanager
def open_broker(broker_list: str, args: argparse.Namespace) -> Iterator[SessionStore]:
    """The sessions on ``broker_list``, with the timeout and librdkafka properties of ``args``.

    Raises ``StoreNotFoundError`` for a missing embedded store: reading never creates one."""
    try:
        store = SessionStore(
            broker_list, timeout_s=args.timeout, additional_properties=args.properties
        )
    except TransportError as exc:
        raise CliError(
            f"cannot open {broker_list or 'the embedded default store'}: {exc}", EXIT_UNAVAILABLE
        ) from exc
    with store:
        yield store


@contextlib.contextmanager
def open_context(args: argparse.Namespace) -> Iterator[LibraryContext]:
    """A library context on ``--broker``, for commands that follow a live log (``tail``)."""
    missing = missing_store(args.broker)
    if missing is not None:
        raise StoreNotFoundError(str(missing))
    configuration = StreamingApiConfiguration(
        args.broker, StreamCreationStrategy.TOPIC_BASE, args.properties, args.timeout
    )
    try:
        context = LibraryContext(configuration)
    except TransportError as exc:
        raise CliError(
            f"cannot open {args.broker or 'the embedded default store'}: {exc}", EXIT_UNAVAILABLE
        ) from exc
    try:
        yield context
    finally:
        context.close()


def check_output_folder(path: Path) -> None:
    """Fail early (before reading a session) when ``path`` cannot be created."""
    if not path.parent.exists():
        raise CliError(f"cannot write {path}: directory {path.parent} does not exist")


@contextlib.contextmanager
def staged_output(path: Path) -> Iterator[Path]:
    """A temporary name in ``path``'s folder to write to; renamed to ``path`` when the block
    completes, removed when it fails or is interrupted, so ``path`` is never half-written."""
    try:
        with staged(path) as partial:
            yield partial
    except OSError as exc:
        raise CliError(f"cannot write {path}: {exc}") from exc


def format_ns(timestamp_ns: int | None, *, milliseconds: bool = True) -> str:
    """UTC wall-clock time (with milliseconds unless told otherwise), or ``-``."""
    if timestamp_ns is None:
        return "-"
    moment = datetime.datetime.fromtimestamp(timestamp_ns / 1e9, tz=datetime.timezone.utc)
    if not milliseconds:
        return moment.strftime("%Y-%m-%d %H:%M:%S")
    return moment.strftime("%Y-%m-%d %H:%M:%S.%f")[:-3]


@contextlib.contextmanager
def progress_bar(console: Console, description: str) -> Iterator[ProgressCallback]:
    """A rich progress bar (on stderr's console) driven by a ``progress(done, total)`` callback."""
    from rich.progress import (
        BarColumn,
        MofNCompleteColumn,
        Progress,
        TextColumn,
        TimeElapsedColumn,
        TimeRemainingColumn,
    )

    columns = (
        TextColumn("[progress.description]{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        TimeRemainingColumn(),
    )
    # Not on a terminal (a pipe, a log file) the bar would only leave blank lines behind.
    with Progress(
        *columns, console=console, transient=True, disable=not console.is_terminal
    ) as progress:
        task = progress.add_task(description, total=None)

        def update(done: int, total: int) -> None:
            progress.update(task, completed=done, total=total)

        yield update


_DURATION_UNITS = {"s": 1.0, "m": 60.0, "h": 3600.0, "d": 86400.0}


def duration_seconds(text: str) -> float:
    """``90``, ``90s``, ``15m``, ``2h`` or ``1d`` as seconds (an argparse ``type``)."""
    value = text.strip().lower()
    scale = _DURATION_UNITS.get(value[-1:])
    number = value[:-1] if scale is not None else value
    try:
        seconds = float(number) * (scale or 1.0)
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"expected a duration such as 90s, 15m, 2h or 1d, got {text!r}"
        ) from None
    if not seconds >= 0 or seconds == float("inf"):
        raise argparse.ArgumentTypeError(f"a duration must be finite and ≥ 0, got {text!r}")
    return seconds


#: output formats by file extension (``--format`` overrides); JSON is not offered: telemetry runs
#: to tens of millions of rows, which Parquet holds compactly and CSV at least streams
OUTPUT_FORMATS = {".parquet": "parquet", ".pq": "parquet", ".csv": "csv"}


def output_format(path: Path, given: str | None) -> str:
    """The file format: ``--format`` when given, else from ``path``'s extension."""
    if given is not None:
        return given
    found = OUTPUT_FORMATS.get(path.suffix.lower())
    if found is None:
        known = ", ".join(sorted(OUTPUT_FORMATS))
        raise CliError(
            f"cannot tell the format of {path}: name a {known} file, or pass --format "
            "parquet|csv (JSON is not offered; use CSV or Parquet)"
        )
    return found

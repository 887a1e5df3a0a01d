"""What every command shares: opening the store, finding a session, user errors, time formatting."""

from __future__ import annotations

import argparse
import contextlib
import datetime
from collections.abc import Iterator
from pathlib import Path

from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)

from ..contracts.shared.stream_api_configuration import StreamingApiConfiguration
from ..contracts.shared.stream_creation_strategy import StreamCreationStrategy
from ..core.library.context import LibraryContext
from ..errors import EXIT_UNAVAILABLE, CliError, TransportError
from ..sessions import SessionStore
from ..sessions.types import ProgressCallback
from ..transport import default_store_path, effective_broker_list

__all__ = [
    "LIST_HINT",
    "format_ns",
    "open_broker",
    "open_context",
    "open_store",
    "progress_bar",
]

LIST_HINT = "run `ma-streaming sessions` to list sessions"


def _missing_store(broker_list: str) -> Path | None:
    """The embedded store file a broker list names when that file does not exist."""
    resolved = effective_broker_list(broker_list).strip()
    if resolved and not resolved.startswith("embedded:"):
        return None
    path = Path(resolved[len("embedded:") :].strip() or default_store_path()).expanduser()
    return None if path.exists() else path


@contextlib.contextmanager
def open_store(args: argparse.Namespace, *, must_exist: bool = True) -> Iterator[SessionStore]:
    """The sessions on ``--broker`` (or ``MA_STREAMING_BROKER``, or the embedded default)."""
    with open_broker(args.broker, args.timeout, must_exist=must_exist) as store:
        yield store


@contextlib.contextmanager
def open_broker(
    broker_list: str, timeout_s: float, *, must_exist: bool = True
) -> Iterator[SessionStore]:
    """The sessions on ``broker_list``; a missing embedded file is an error if ``must_exist``."""
    missing = _missing_store(broker_list) if must_exist else None
    if missing is not None:
        raise CliError(
            f"no embedded store at {missing}; write a session first or pass --broker "
            "embedded:PATH / host:port"
        )
    try:
        store = SessionStore(broker_list, timeout_s=timeout_s)
    except TransportError as exc:
        raise CliError(
            f"cannot open {broker_list or 'the embedded default store'}: {exc}", EXIT_UNAVAILABLE
        ) from exc
    with store:
        yield store


@contextlib.contextmanager
def open_context(args: argparse.Namespace) -> Iterator[LibraryContext]:
    """A library context on ``--broker``, for commands that follow a live log (``tail``)."""
    configuration = StreamingApiConfiguration(
        args.broker, StreamCreationStrategy.TOPIC_BASE, [], args.timeout
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


def format_ns(timestamp_ns: int | None) -> str:
    """UTC wall-clock time with milliseconds, or ``-``."""
    if timestamp_ns is None:
        return "-"
    moment = datetime.datetime.fromtimestamp(timestamp_ns / 1e9, tz=datetime.timezone.utc)
    return moment.strftime("%Y-%m-%d %H:%M:%S.%f")[:-3]


@contextlib.contextmanager
def progress_bar(console: Console, description: str) -> Iterator[ProgressCallback]:
    """A rich progress bar (on stderr's console) driven by a ``progress(done, total)`` callback."""
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

"""`ma-streaming` entry point: global options, logging, command dispatch and user-facing errors.

Building the parser needs only the core install, so ``ma-streaming --help`` always works; running
a command needs the ``cli`` extra (rich, matplotlib, pandas, pyarrow), and says so in one line
when it is missing.
"""

from __future__ import annotations

import argparse
import logging
import os
import signal
import sys
from collections.abc import Callable
from types import FrameType
from typing import TYPE_CHECKING, Any, NoReturn

from ..errors import (
    EXIT_UNAVAILABLE,
    EXIT_USAGE,
    CliError,
    ConfigurationError,
    MissingDependencyError,
    SessionNotFoundError,
    StoreNotFoundError,
    TransportError,
)
from ..transport import BROKER_ENVIRONMENT_VARIABLE
from . import copy, end, export, plot, resample, serve, sessions, show, tail
from .common import LIST_HINT
from .options import add_global_options, finish_global_options

if TYPE_CHECKING:
    from rich.console import Console

__all__ = ["EXIT_INTERRUPTED", "EXIT_TERMINATED", "build_parser", "main"]

logger = logging.getLogger(__name__)

Command = Callable[[argparse.Namespace, "Console", "Console"], int]

#: the shell's codes for a process ended by SIGINT and SIGTERM
EXIT_INTERRUPTED = 130
EXIT_TERMINATED = 143
EXIT_MISSING_DEPENDENCY = 1
_PIPE_WIDTH = 200
_CLIENT_LOGGERS = (
    "ma_dataplatforms_streaming_support_library.librdkafka",
    "ma_dataplatforms_streaming_support_library.transport.kafka.transport",
)
_EPILOG = (
    "The store is --broker, else $MA_STREAMING_BROKER, else the embedded default store. "
    "BROKER_LIST is host:port[,host:port...] for Kafka, or embedded:PATH (or just the PATH of a "
    "store file) for an embedded store. KEY is a session key, a unique key prefix, a session "
    "identifier, or 'latest'."
)
_CLI_EXTRA = (
    ' Commands need the cli extra, which is not installed: pip install "ma-streaming[cli]" '
    "(adds rich for tables and progress, matplotlib for plot, pandas and pyarrow for export and "
    "resample)."
)


class Terminated(KeyboardInterrupt):
    """SIGTERM, raised in the main thread so that a command unwinds as on Ctrl-C."""


def _raise_terminated(_signal: int, _frame: FrameType | None) -> NoReturn:
    raise Terminated


def _has_cli_extra() -> bool:
    try:
        import rich  # noqa: F401
    except ImportError:
        return False
    return True


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of every command (each also takes the global options)."""
    parser = argparse.ArgumentParser(
        prog="ma-streaming",
        description="List, inspect, follow, export and plot Open Data telemetry sessions.",
        epilog=_EPILOG + ("" if _has_cli_extra() else _CLI_EXTRA),
    )
    add_global_options(parser, before_command=True)
    commands = parser.add_subparsers(title="commands", metavar="COMMAND")
    for module in (sessions, show, end, tail, export, plot, copy, resample, serve):
        module.add_parsers(commands)
    for command in commands.choices.values():
        add_global_options(command, before_command=False)
    return parser


def _configure_logging(verbosity: int, err: Console) -> None:
    from rich.logging import RichHandler

    level = logging.WARNING if verbosity == 0 else logging.INFO if verbosity == 1 else logging.DEBUG
    handler = RichHandler(console=err, show_path=verbosity > 1, markup=False)
    logging.basicConfig(level=level, format="%(message)s", handlers=[handler], force=True)
    if verbosity == 0:
        # Broker client chatter (each failed connect) is summed up by the error the command prints.
        for name in _CLIENT_LOGGERS:
            logging.getLogger(name).setLevel(logging.CRITICAL)


def _console(*, stderr: bool) -> Console:
    """A console; when not a terminal (a pipe, a file, a test) wide enough that tables never fold."""
    try:
        from rich.console import Console
    except ImportError as exc:
        raise MissingDependencyError("rich", "cli", "the ma-streaming command") from exc
    console = Console(stderr=stderr)
    if console.is_terminal:
        return console
    return Console(stderr=stderr, width=max(console.width, _PIPE_WIDTH))


class _PlainConsole:
    """The console of a command that runs without rich (``serve``: the grpc extra alone)."""

    def __init__(self, stream: Any) -> None:
        self._stream = stream

    def print(self, *objects: object) -> None:
        print(*objects, file=self._stream, flush=True)


def _plain_logging(verbosity: int) -> None:
    level = logging.WARNING if verbosity == 0 else logging.INFO if verbosity == 1 else logging.DEBUG
    logging.basicConfig(level=level, format="%(levelname)s %(name)s: %(message)s", force=True)


def _error(message: str) -> None:
    print(f"error: {message}", file=sys.stderr)


def _run(run: Command, args: argparse.Namespace) -> int:
    if getattr(args, "plain_output", False) and not _has_cli_extra():
        out: Any = _PlainConsole(sys.stdout)
        err: Any = _PlainConsole(sys.stderr)
        _plain_logging(args.verbose)
    else:
        out = _console(stderr=False)
        err = _console(stderr=True)
        _configure_logging(args.verbose, err)
    if args.broker is None:
        args.broker = ""
    elif os.environ.pop(BROKER_ENVIRONMENT_VARIABLE, None) is not None:
        # An explicit --broker wins over the environment variable that would override it.
        logger.info(
            "--broker %s takes precedence over %s", args.broker, BROKER_ENVIRONMENT_VARIABLE
        )
    return run(args, out, err)


def main(argv: list[str] | None = None) -> int:
    """Run one ``ma-streaming`` command; returns the process exit code."""
    if signal.getsignal(signal.SIGTERM) is signal.SIG_DFL:
        signal.signal(signal.SIGTERM, _raise_terminated)
    parser = build_parser()
    args = parser.parse_args(argv)
    run: Command | None = getattr(args, "run", None)
    if run is None:
        parser.print_help(sys.stderr)
        return EXIT_USAGE
    try:
        finish_global_options(args)
        return _run(run, args)
    except MissingDependencyError as exc:
        _error(str(exc))
        return EXIT_MISSING_DEPENDENCY
    except (CliError, ConfigurationError) as exc:
        _error(str(exc))
        return exc.exit_code if isinstance(exc, CliError) else EXIT_USAGE
    except StoreNotFoundError as exc:
        _error(str(exc))
        return EXIT_USAGE
    except SessionNotFoundError as exc:
        _error(f"{exc}; {LIST_HINT}")
        return EXIT_USAGE
    except TransportError as exc:
        _error(f"the store or broker is not available: {exc}")
        return EXIT_UNAVAILABLE
    except Terminated:
        print("terminated", file=sys.stderr)
        return EXIT_TERMINATED
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return EXIT_INTERRUPTED


if __name__ == "__main__":
    sys.exit(main())

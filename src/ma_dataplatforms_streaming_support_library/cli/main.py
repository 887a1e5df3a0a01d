"""`ma-streaming` entry point: global options, logging, command dispatch and user-facing errors."""

from __future__ import annotations

import argparse
import logging
import os
import sys
from collections.abc import Callable

from rich.console import Console
from rich.logging import RichHandler
from rich.text import Text

from ..errors import EXIT_UNAVAILABLE, EXIT_USAGE, CliError, SessionNotFoundError, TransportError
from ..transport import BROKER_ENVIRONMENT_VARIABLE
from . import copy, export, resample, sessions, tail
from .common import LIST_HINT

__all__ = ["build_parser", "main"]

logger = logging.getLogger(__name__)

Command = Callable[[argparse.Namespace, Console, Console], int]

_PIPE_WIDTH = 200
_CLIENT_LOGGERS = (
    "ma_dataplatforms_streaming_support_library.librdkafka",
    "ma_dataplatforms_streaming_support_library.transport.kafka.transport",
)
_EPILOG = (
    "The store is --broker, else $MA_STREAMING_BROKER, else the embedded default store. "
    "BROKER_LIST is host:port[,host:port...] for Kafka or embedded:PATH for a store file."
)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="ma-streaming",
        description="List, inspect, follow, export and plot Open Data telemetry sessions.",
        epilog=_EPILOG,
    )
    parser.add_argument(
        "--broker",
        metavar="BROKER_LIST",
        help="Kafka host:port[,...] or embedded:PATH (default: $MA_STREAMING_BROKER, else the "
        "embedded default store)",
    )
    parser.add_argument(
        "--timeout",
        type=float,
        default=10.0,
        metavar="SECONDS",
        help="bound on each wait for the broker (default 10)",
    )
    parser.add_argument(
        "-v", "--verbose", action="count", default=0, help="log more (-v info, -vv debug)"
    )
    commands = parser.add_subparsers(title="commands", metavar="COMMAND")
    sessions.add_parsers(commands)
    tail.add_parsers(commands)
    export.add_parsers(commands)
    copy.add_parsers(commands)
    resample.add_parsers(commands)
    return parser


def _configure_logging(verbosity: int, err: Console) -> None:
    level = logging.WARNING if verbosity == 0 else logging.INFO if verbosity == 1 else logging.DEBUG
    handler = RichHandler(console=err, show_path=verbosity > 1, markup=False)
    logging.basicConfig(level=level, format="%(message)s", handlers=[handler], force=True)
    if verbosity == 0:
        # Broker client chatter (each failed connect) is summed up by the error the command prints.
        for name in _CLIENT_LOGGERS:
            logging.getLogger(name).setLevel(logging.CRITICAL)


def _console(*, stderr: bool) -> Console:
    """A console; when not a terminal (a pipe, a file, a test) wide enough that tables never fold."""
    console = Console(stderr=stderr)
    if console.is_terminal:
        return console
    return Console(stderr=stderr, width=max(console.width, _PIPE_WIDTH))


def _error(err: Console, message: str) -> None:
    err.print(Text.assemble(("error: ", "bold red"), message))


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    out = _console(stderr=False)
    err = _console(stderr=True)
    _configure_logging(args.verbose, err)
    run: Command | None = getattr(args, "run", None)
    if run is None:
        parser.print_help(sys.stderr)
        return EXIT_USAGE
    if args.broker is None:
        args.broker = ""
    elif os.environ.pop(BROKER_ENVIRONMENT_VARIABLE, None) is not None:
        # An explicit --broker wins over the environment variable that would override it.
        logger.info(
            "--broker %s takes precedence over %s", args.broker, BROKER_ENVIRONMENT_VARIABLE
        )
    try:
        return run(args, out, err)
    except CliError as exc:
        _error(err, str(exc))
        return exc.exit_code
    except SessionNotFoundError as exc:
        _error(err, f"{exc}; {LIST_HINT}")
        return EXIT_USAGE
    except TransportError as exc:
        _error(err, f"the store or broker is not available: {exc}")
        return EXIT_UNAVAILABLE
    except KeyboardInterrupt:
        err.print("interrupted")
        return 130


if __name__ == "__main__":
    sys.exit(main())

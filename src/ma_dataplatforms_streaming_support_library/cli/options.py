"""Options every command takes (before or after its name), librdkafka properties, ``--version``.

Properties come from three places; a later one wins for the same key:

1. environment variables ``MA_STREAMING_KAFKA_<PROPERTY>``: the rest of the name lower-cased,
   ``_`` read as ``.`` and ``__`` as ``_`` (``MA_STREAMING_KAFKA_SASL_USERNAME`` → ``sasl.username``);
2. ``--properties-file PATH``: Java-properties style, ``key=value`` or ``key: value`` per line,
   ``#`` and ``!`` start comments;
3. ``--property KEY=VALUE``, repeatable.

Property values are never printed: they reach the Kafka client only.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from ..contracts.shared.stream_api_configuration import MAX_TIMEOUT_S
from ..errors import CliError

__all__ = [
    "PROPERTY_ENVIRONMENT_PREFIX",
    "add_global_options",
    "finish_global_options",
    "positive_seconds",
]

PROPERTY_ENVIRONMENT_PREFIX = "MA_STREAMING_KAFKA_"
#: option dests as given before the command (``top``) and after it (``sub``)
_BEFORE, _AFTER = "before_", "after_"
_GLOBALS = ("broker", "timeout", "verbose", "property", "properties_file")
_DEFAULT_TIMEOUT_S = 10.0


class _VersionAction(argparse.Action):
    """``--version``: versions of the package and of what decides its speed and behaviour."""

    def __init__(self, option_strings: Sequence[str], dest: str, **kwargs: Any) -> None:
        super().__init__(option_strings, dest, nargs=0, default=argparse.SUPPRESS, **kwargs)

    def __call__(self, parser: argparse.ArgumentParser, *_: Any, **__: Any) -> None:
        print(version_text())
        parser.exit()


def positive_seconds(text: str) -> float:
    """A number of seconds > 0 and at most a year (an argparse ``type``: a bad value is a usage
    error naming the option, not a traceback)."""
    try:
        seconds = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number of seconds, got {text!r}") from None
    if not 0 < seconds <= MAX_TIMEOUT_S:
        raise argparse.ArgumentTypeError(
            f"expected a number of seconds > 0 and at most {MAX_TIMEOUT_S}, got {text!r}"
        )
    return seconds


def version_text() -> str:
    """One line per component: package, protobuf (and its backend), librdkafka, columnar."""
    import confluent_kafka
    import google.protobuf
    from google.protobuf.internal import api_implementation

    from .. import __version__
    from ..columnar import active_implementation

    return "\n".join(
        (
            f"ma-streaming {__version__} (Python {sys.version.split()[0]})",
            f"protobuf {google.protobuf.__version__} ({api_implementation.Type()} backend)",
            f"librdkafka {confluent_kafka.libversion()[0]} "
            f"(confluent-kafka {confluent_kafka.version()[0]})",
            f"columnar decoding: {active_implementation()}",
        )
    )


def add_global_options(parser: argparse.ArgumentParser, *, before_command: bool) -> None:
    """The options every command takes; given before the command name or after it."""
    prefix = _BEFORE if before_command else _AFTER
    group = parser.add_argument_group("store options (before or after the command)")
    group.add_argument(
        "--broker",
        dest=prefix + "broker",
        metavar="BROKER_LIST",
        default=argparse.SUPPRESS,
        help="Kafka host:port[,...], embedded:PATH, or the path of a store file (default: "
        "$MA_STREAMING_BROKER, else the embedded default store)",
    )
    group.add_argument(
        "--timeout",
        dest=prefix + "timeout",
        type=positive_seconds,
        metavar="SECONDS",
        default=argparse.SUPPRESS,
        help=f"bound on each wait for the broker (default {_DEFAULT_TIMEOUT_S:g})",
    )
    group.add_argument(
        "--property",
        dest=prefix + "property",
        action="append",
        metavar="KEY=VALUE",
        default=argparse.SUPPRESS,
        help="a librdkafka property (repeatable), e.g. security.protocol=SASL_SSL; also "
        f"{PROPERTY_ENVIRONMENT_PREFIX}<PROPERTY> variables and --properties-file",
    )
    group.add_argument(
        "--properties-file",
        dest=prefix + "properties_file",
        type=Path,
        metavar="PATH",
        default=argparse.SUPPRESS,
        help="librdkafka properties, one key=value per line (Java-properties style)",
    )
    group.add_argument(
        "-v",
        "--verbose",
        dest=prefix + "verbose",
        action="count",
        default=argparse.SUPPRESS,
        help="log more (-v info, -vv debug)",
    )
    if before_command:
        parser.add_argument(
            "--version", action=_VersionAction, help="print versions (package, protobuf, ...)"
        )


def as_broker_list(value: str) -> str:
    """A ``--broker`` value as a broker list: a store file's path becomes ``embedded:PATH``.

    A path is a value ending in ``.db``, naming an existing file, or holding a ``/`` (a Kafka
    bootstrap list has none, except after a ``PROTOCOL://`` prefix).
    """
    text = value.strip()
    if not text or text.startswith("embedded:") or "://" in text:
        return text
    if text.endswith(".db") or "/" in text or os.sep in text or Path(text).is_file():
        return f"embedded:{text}"
    return text


def _environment_properties(environ: Mapping[str, str]) -> dict[str, str]:
    found = {}
    for name, value in environ.items():
        if name.startswith(PROPERTY_ENVIRONMENT_PREFIX) and len(name) > len(
            PROPERTY_ENVIRONMENT_PREFIX
        ):
            rest = name[len(PROPERTY_ENVIRONMENT_PREFIX) :].lower()
            found[
                ".".join(part.replace("\0", "_") for part in rest.replace("__", "\0").split("_"))
            ] = value
    return found


def _file_properties(path: Path) -> dict[str, str]:
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except OSError as exc:
        raise CliError(f"--properties-file {path}: {exc.strerror or exc}") from exc
    found = {}
    for number, line in enumerate(lines, 1):
        text = line.strip()
        if not text or text[0] in "#!":
            continue
        cut = min((i for i in (text.find("="), text.find(":")) if i > 0), default=-1)
        if cut < 0:
            raise CliError(f"--properties-file {path}:{number}: expected key=value")
        found[text[:cut].strip()] = text[cut + 1 :].strip()
    return found


def _option_properties(items: Sequence[str]) -> dict[str, str]:
    found = {}
    for item in items:
        key, separator, value = item.partition("=")
        if not separator or not key.strip():
            raise CliError(f"--property expects KEY=VALUE, got {key.strip() or item!r}")
        found[key.strip()] = value
    return found


def finish_global_options(
    args: argparse.Namespace, environ: Mapping[str, str] = os.environ
) -> None:
    """Merge the options given before and after the command into ``args.broker``,
    ``args.timeout``, ``args.verbose`` and ``args.properties`` (a dict)."""
    given = {
        name: (getattr(args, _BEFORE + name, None), getattr(args, _AFTER + name, None))
        for name in _GLOBALS
    }
    for name in _GLOBALS:
        for prefix in (_BEFORE, _AFTER):
            if hasattr(args, prefix + name):
                delattr(args, prefix + name)
    broker = given["broker"][1] if given["broker"][1] is not None else given["broker"][0]
    timeout = given["timeout"][1] if given["timeout"][1] is not None else given["timeout"][0]
    args.broker = None if broker is None else as_broker_list(broker)
    args.timeout = _DEFAULT_TIMEOUT_S if timeout is None else timeout
    args.verbose = sum(count or 0 for count in given["verbose"])
    properties = _environment_properties(environ)
    for path in given["properties_file"]:
        if path is not None:
            properties.update(_file_properties(path))
    for items in given["property"]:
        properties.update(_option_properties(items or []))
    args.properties = properties

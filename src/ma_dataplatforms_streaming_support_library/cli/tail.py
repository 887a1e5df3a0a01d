"""`tail`: follow live sessions with the packet reader, printing packets/s and the latest values."""

from __future__ import annotations

import argparse
import collections
import contextlib
import threading
import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from ..contracts.packet_reading.packet_reading_configuration import PacketReadingConfiguration
from ..contracts.packet_reading.packet_reading_type import PacketReadingType
from ..contracts.packet_reading.received_packet_dto import ReceivedPacketDto
from ..contracts.session_management.session_info import SessionInfo
from ..contracts.shared.i_handler import IHandler
from ..core.base.validation import data_source_error
from ..core.library.context import LibraryContext
from ..core.packet_reading.packet_reader_service import PacketReaderService
from ..errors import CliError
from ..protos import open_data_pb2
from ..sessions.collect import DATA_PACKET_TYPES, SessionCollector
from .common import format_ns, open_context
from .options import positive_seconds

if TYPE_CHECKING:
    from rich.console import Console

__all__ = ["add_parsers"]

#: data packets kept per (session, stream) to show the latest value of each parameter
_LATEST_PACKETS = 64
_MAX_VALUE_ROWS = 40
_MAX_SESSION_ROWS = 20
#: sessions (the latest first seen) whose latest values are shown
_VALUE_SESSIONS = 4
# A paused writer should not make tail stop following its session: sessions end by their
# EndOfSession records, and this only bounds how long a silent (crashed) one is followed.
_IDLE_TIMEOUT_S = 3600.0
_STATUS_NAMES = {0: "unspecified", 1: "valid", 2: "missing", 3: "error"}
#: the rate shown is the packets that arrived within this last stretch of time
_RATE_WINDOW_S = 1.0


def add_parsers(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Register ``tail``."""
    tail = commands.add_parser(
        "tail",
        help="follow live sessions",
        description="Follow the live sessions of a data source (those open now and every one "
        "that starts later) with the packet reader, showing packets/s and the latest value of "
        "each parameter, until Ctrl-C or --duration. packets/s counts the packets that arrived "
        "in the last second.",
    )
    tail.add_argument("--data-source", default="Default", help="data source (default: Default)")
    tail.add_argument(
        "--duration", type=positive_seconds, metavar="SECONDS", help="stop after this long"
    )
    tail.set_defaults(run=run_tail)


@dataclass
class _SessionState:
    info: SessionInfo
    packets: int = 0
    ended: bool = False
    latest: dict[str, collections.deque[bytes]] = field(default_factory=dict)


class _Follower(IHandler[ReceivedPacketDto]):
    """Counts packets and keeps the latest data packets; called on the reader's thread."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.total = 0
        self.sessions: dict[str, _SessionState] = {}
        #: arrival times (monotonic s) of the packets of the last rate window
        self.arrivals: collections.deque[float] = collections.deque()

    def handle(self, packet: ReceivedPacketDto) -> None:
        value = packet.packet_bytes.data
        try:
            packet_type = open_data_pb2.Packet.FromString(value).type
        except Exception:
            packet_type = ""
        arrived = time.monotonic()
        with self.lock:
            self.total += 1
            self.arrivals.append(arrived)
            state = self.sessions.get(packet.session_key)
            if state is None:
                state = self._add(SessionInfo(packet.session_key, packet.data_source))
            state.packets += 1
            if packet_type in DATA_PACKET_TYPES:
                latest = state.latest.setdefault(
                    packet.stream, collections.deque(maxlen=_LATEST_PACKETS)
                )
                latest.append(value)

    def _add(self, info: SessionInfo) -> _SessionState:
        state = self.sessions[info.session_key] = _SessionState(info)
        return state

    def started(self, _sender: object, info: SessionInfo) -> None:
        with self.lock:
            state = self.sessions.get(info.session_key) or self._add(info)
            state.info = info

    def completed(self, _sender: object, info: SessionInfo) -> None:
        with self.lock:
            (self.sessions.get(info.session_key) or self._add(info)).ended = True

    def rate(self, now: float) -> float:
        """Packets per second over the last ``_RATE_WINDOW_S`` (a sliding window)."""
        with self.lock:
            while self.arrivals and self.arrivals[0] <= now - _RATE_WINDOW_S:
                self.arrivals.popleft()
            return len(self.arrivals) / _RATE_WINDOW_S


@dataclass(frozen=True)
class _Snapshot:
    """What the follower has seen so far, with each parameter's latest sample decoded."""

    total: int
    sessions: list[tuple[SessionInfo, int, bool]]
    #: (session key, parameter, timestamp ns, value, status)
    values: list[tuple[str, str, int, float, int]]


def _snapshot(context: LibraryContext, follower: _Follower) -> _Snapshot:
    with follower.lock:
        total = follower.total
        states = [
            (s.info, s.packets, s.ended, [(k, list(v)) for k, v in s.latest.items()])
            for s in follower.sessions.values()
        ]
    values: list[tuple[str, str, int, float, int]] = []
    for info, _, _, latest in reversed(states[-_VALUE_SESSIONS:]):
        collector = SessionCollector(info.data_source, context.data_formats, warn=False)
        for stream, packets in latest:
            origins = [(stream, 0, -1)] * len(packets)
            collector.add_packets([stream] * len(packets), packets, origins)
        data = collector.finish(info, complete=False, location=context.transport.location)
        values += [
            (info.session_key, name, int(s.timestamps[-1]), float(s.values[-1]), int(s.status[-1]))
            for name, s in sorted(data.series.items())
        ]
    return _Snapshot(total, [(info, packets, ended) for info, packets, ended, _ in states], values)


def _tables(snapshot: _Snapshot, title: str) -> Any:
    from rich.console import Group
    from rich.table import Table
    from rich.text import Text

    # A title longer than the table would wrap; it is cut with an ellipsis instead.
    sessions = Table(title=Text(title, no_wrap=True, overflow="ellipsis"))
    for name in ("session", "identifier", "state"):
        sessions.add_column(name, no_wrap=True)
    sessions.add_column("packets", justify="right")
    for info, packets, ended in snapshot.sessions[-_MAX_SESSION_ROWS:]:
        sessions.add_row(
            info.session_key, info.identifier, "ended" if ended else "live", f"{packets:,}"
        )
    values = Table(title="latest values")
    for name in ("session", "parameter", "time (UTC)", "value", "status"):
        values.add_column(name, no_wrap=True)
    for key, name, timestamp_ns, value, status in snapshot.values[:_MAX_VALUE_ROWS]:
        values.add_row(
            key[:8], name, format_ns(timestamp_ns), f"{value:.6g}", _STATUS_NAMES.get(status, "?")
        )
    return Group(sessions, values)


def run_tail(args: argparse.Namespace, out: Console, err: Console) -> int:
    """Follow live sessions until Ctrl-C or ``--duration``."""
    configuration = PacketReadingConfiguration(
        timeout_seconds=_IDLE_TIMEOUT_S,
        data_source=args.data_source,
        reading_type=PacketReadingType.LIVE,
    )
    error = configuration.validate() or data_source_error(args.data_source)
    if error:
        raise CliError(f"tail: --data-source: {error}")
    with open_context(args) as context:
        follower = _Follower()
        reader = PacketReaderService(context, configuration)
        reader.session_reading_started.subscribe(follower.started)
        reader.session_reading_completed.subscribe(follower.completed)
        reader.set_handler(follower)
        reader.start()
        err.print(f"following data source {args.data_source!r} in {context.transport.location}")
        started = time.monotonic()
        try:
            _follow(context, follower, args, out)
        except KeyboardInterrupt:
            pass
        finally:
            reader.stop()
        elapsed_s = time.monotonic() - started
        if not out.is_terminal:
            snapshot = _snapshot(context, follower)
            average = snapshot.total / elapsed_s if elapsed_s > 0 else 0.0
            out.print(_tables(snapshot, f"{snapshot.total:,} packets in {elapsed_s:.1f} s, "
                              f"{average:,.0f} packets/s on average"))  # fmt: skip
    return 0


def _follow(
    context: LibraryContext, follower: _Follower, args: argparse.Namespace, out: Console
) -> None:
    """Refresh a live view (terminal) or print one status line a second (pipe) until the end."""
    from rich.live import Live

    started = time.monotonic()
    deadline = None if args.duration is None else started + args.duration
    live = Live(console=out, auto_refresh=False) if out.is_terminal else None
    with live or contextlib.nullcontext():
        while deadline is None or time.monotonic() < deadline:
            time.sleep(0.5 if live else 1.0)
            now = time.monotonic()
            snapshot = _snapshot(context, follower)
            rate = follower.rate(now)
            title = f"{snapshot.total:,} packets, {rate:,.0f} packets/s, {now - started:.0f} s"
            if live is not None:
                live.update(_tables(snapshot, f"{args.data_source}: {title}"))
                live.refresh()
                continue
            latest = "  ".join(
                f"{name}={value:.6g}" for _, name, _, value, _ in snapshot.values[:6]
            )
            out.print(
                f"{now - started:6.1f} s  {title}  {len(snapshot.sessions)} session(s)  {latest}"
            )

"""Buffer and interpolate telemetry through the official API, as Motion Applied's C# sample does.

A packet reader feeds a sample reader (buffering), which merges the samples of the subscribed
parameters in time order and hands them out in windows (TimestampData and SampleData); a data
reader (interpolation) resamples them on a 10 Hz grid and delivers DefaultResults (first, last,
min, max, mean, count per cell) in batches. ``--linear`` adds a second subscription with a custom
processor (linear interpolation at 500 Hz), as the C# sample's custom example; ``--fill linear``
has the statistics draw a line through empty cells instead of holding the last value. Only
official import paths are used.

    python examples/buffering_interpolation.py --historic          # newest session, whole
    python examples/buffering_interpolation.py --historic KEY      # that session
    python examples/buffering_interpolation.py --duration 60       # LIVE: sessions from now on

The last line is a summary: windows seen, samples buffered, results delivered.
"""

from __future__ import annotations

import argparse
import sys
import threading
import time

from ma_dataplatforms_streaming_support_library.contracts.buffering.buffering_configuration import (
    BufferingConfiguration,
)
from ma_dataplatforms_streaming_support_library.contracts.buffering.end_sample_data import (
    EndSampleData,
)
from ma_dataplatforms_streaming_support_library.contracts.buffering.end_timestamp_data import (
    EndTimestampData,
)
from ma_dataplatforms_streaming_support_library.contracts.buffering.sample_data import SampleData
from ma_dataplatforms_streaming_support_library.contracts.buffering.start_sample_data import (
    StartSampleData,
)
from ma_dataplatforms_streaming_support_library.contracts.buffering.start_timestamp_data import (
    StartTimestampData,
)
from ma_dataplatforms_streaming_support_library.contracts.buffering.timestamp_data import (
    TimestampData,
)
from ma_dataplatforms_streaming_support_library.contracts.interpolation.batch_result import (
    BatchResult,
)
from ma_dataplatforms_streaming_support_library.contracts.interpolation.default_result import (
    DefaultResult,
)
from ma_dataplatforms_streaming_support_library.contracts.interpolation.fill_mode import FillMode
from ma_dataplatforms_streaming_support_library.contracts.interpolation.i_batch_result_handler import (
    IBatchResultHandler,
)
from ma_dataplatforms_streaming_support_library.contracts.interpolation.i_subscription_processor import (
    ISubscriptionProcessor,
)
from ma_dataplatforms_streaming_support_library.contracts.interpolation.process_context import (
    ProcessContext,
)
from ma_dataplatforms_streaming_support_library.contracts.interpolation.process_result import (
    ProcessResult,
)
from ma_dataplatforms_streaming_support_library.contracts.packet_reading.packet_reading_configuration import (
    PacketReadingConfiguration,
)
from ma_dataplatforms_streaming_support_library.contracts.packet_reading.packet_reading_type import (
    PacketReadingType,
)
from ma_dataplatforms_streaming_support_library.contracts.session_management.session_info import (
    SessionInfo,
)
from ma_dataplatforms_streaming_support_library.contracts.shared.i_handler import IHandler
from ma_dataplatforms_streaming_support_library.contracts.shared.stream_api_configuration import (
    StreamingApiConfiguration,
)
from ma_dataplatforms_streaming_support_library.contracts.shared.stream_creation_strategy import (
    StreamCreationStrategy,
)
from ma_dataplatforms_streaming_support_library.core.base.logger import Logger
from ma_dataplatforms_streaming_support_library.core.base.support_library_bootstrapper import (
    SupportLibraryBootstrapper,
)

DATA_SOURCE = "Default"
DEFAULT_PARAMETERS = ["Sin:MyApp", "Cos:MyApp"]
SECOND_NS = 1_000_000_000


def seconds(timestamp_ns: int) -> str:
    return f"{timestamp_ns / SECOND_NS:.3f}"


def statistic(value: float | None) -> str:
    return "-" if value is None else f"{value:.3f}"


class TimestampDataHandler(IHandler[TimestampData]):
    """Prints each released window: its time range, columns and values."""

    def __init__(self, quiet: bool) -> None:
        self.quiet = quiet
        self.windows = 0
        self.samples = 0
        self.sessions = 0

    def handle(self, obj: TimestampData) -> None:
        if isinstance(obj, StartTimestampData):
            print(f"buffering started: session {obj.session_key}")
            return
        if isinstance(obj, EndTimestampData):
            self.sessions += 1
            print(f"buffering ended: session {obj.session_key}")
            return
        columns = obj.time_columns
        values = sum(len(column.sample_values) for column in columns)
        self.windows += 1
        self.samples += values
        if not self.quiet and columns:
            last = columns[-1]
            latest = ", ".join(
                f"{value.identifier}={value.cast(float):.3f}" for value in last.sample_values
            )
            print(
                f"window [{seconds(obj.start_time)}, {seconds(obj.end_time)}) s: "
                f"{len(columns)} timestamps, {values} samples; at {seconds(last.timestamp)}: "
                f"{latest}"
            )


class SampleDataHandler(IHandler[SampleData]):
    """Counts each parameter's samples as windows are released (time-ordered per parameter)."""

    def __init__(self) -> None:
        self.samples: dict[str, int] = {}
        self.out_of_order = 0
        self._latest: dict[str, int] = {}

    def handle(self, obj: SampleData) -> None:
        if isinstance(obj, (StartSampleData, EndSampleData)):
            return
        values = obj.values
        self.samples[obj.identifier] = self.samples.get(obj.identifier, 0) + len(values)
        previous = self._latest.get(obj.identifier)
        for value in values:
            if previous is not None and value.timestamp <= previous:
                self.out_of_order += 1
            previous = value.timestamp
        if previous is not None:
            self._latest[obj.identifier] = previous


class DefaultResultHandler(IBatchResultHandler):
    """Prints the DefaultResults of each batch (one line per parameter: its latest cell)."""

    def __init__(self, subscription_key: str, quiet: bool) -> None:
        self.subscription_key = subscription_key
        self.quiet = quiet
        self.batches = 0
        self.results = 0

    def handle(self, result: BatchResult) -> None:
        if result.subscription_key != self.subscription_key:
            return
        self.batches += 1
        latest: dict[str, DefaultResult] = {}
        for item in result.results:
            if isinstance(item, DefaultResult):
                self.results += 1
                latest[item.identifier] = item
        if self.quiet:
            return
        for identifier, cell in latest.items():
            print(
                f"10 Hz {identifier} [{seconds(cell.interval_start_time_nano)}, "
                f"{seconds(cell.interval_end_time_nano)}): first {statistic(cell.first)} "
                f"last {statistic(cell.last)} min {statistic(cell.min)} "
                f"max {statistic(cell.max)} mean {statistic(cell.mean)} count {cell.count}"
                + (" (held)" if cell.is_super_sampled else "")
            )


class LinearResult(ProcessResult):
    """The linearly interpolated points of one parameter in one cell."""

    def __init__(
        self, identifier: str, start: int, end: int, points: list[tuple[int, float]]
    ) -> None:
        super().__init__(identifier, start, end)
        self.points = points


class LinearInterpolationProcessor(ISubscriptionProcessor):
    """Straight lines between consecutive samples, evaluated every ``period_ns`` (both ends
    included); keeps each parameter's last point to bridge consecutive cells."""

    def __init__(self, period_ns: int = 2_000_000) -> None:
        self.period_ns = period_ns
        self._last: dict[str, tuple[int, float]] = {}

    def process(self, context: ProcessContext) -> LinearResult:
        points: list[tuple[int, float]] = []
        previous = self._last.get(context.parameter_id)
        for point in context.interval_data_points:
            current = (point.timestamp_nanoseconds, point.value)
            if previous is not None and current[0] > previous[0]:
                span = current[0] - previous[0]
                for stamp in range(previous[0], current[0] + 1, self.period_ns):
                    share = (stamp - previous[0]) / span
                    points.append((stamp, previous[1] + share * (current[1] - previous[1])))
            previous = current
        if previous is not None:
            self._last[context.parameter_id] = previous
        return LinearResult(
            context.parameter_id,
            context.interval_start_time_nano,
            context.interval_end_time_nano,
            points,
        )


class LinearResultHandler(IBatchResultHandler):
    def __init__(self, subscription_key: str) -> None:
        self.subscription_key = subscription_key
        self.points = 0

    def handle(self, result: BatchResult) -> None:
        if result.subscription_key != self.subscription_key:
            return
        points = [
            p for item in result.results if isinstance(item, LinearResult) for p in item.points
        ]
        self.points += len(points)
        if points:
            print(
                f"linear: {len(points)} interpolated points up to {seconds(points[-1][0])} s "
                f"(last {points[-1][1]:.3f})"
            )


class SessionWatcher:
    """Counts the sessions whose merging completed."""

    def __init__(self) -> None:
        self.completed = 0
        self.changed = threading.Event()

    def on_started(self, sender: object, info: SessionInfo) -> None:
        print(f"merging started: {info.session_key} ({info.identifier})")

    def on_completed(self, sender: object, info: SessionInfo) -> None:
        print(f"merging completed: {info.session_key} ({info.identifier})")
        self.completed += 1
        self.changed.set()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--historic",
        nargs="?",
        const="",
        metavar="KEY",
        help="read one ended session (default: the newest) instead of following live sessions",
    )
    parser.add_argument("--broker", default="", help="host:port for Kafka, embedded:PATH, or ''")
    parser.add_argument(
        "--parameters", nargs="+", default=DEFAULT_PARAMETERS, metavar="PARAM", help="to buffer"
    )
    parser.add_argument("--hz", type=float, default=10.0, help="interpolation frequency")
    parser.add_argument("--window-ms", type=int, default=3000, help="buffering window length")
    parser.add_argument("--slide", type=int, default=5, help="sliding window percentage")
    parser.add_argument("--linear", action="store_true", help="also run a linear interpolation")
    parser.add_argument(
        "--fill",
        choices=[mode.value for mode in FillMode],
        default=FillMode.HOLD_LAST.value,
        help="how the statistics fill empty cells (default: hold the last value)",
    )
    parser.add_argument("--duration", type=float, default=30.0, help="seconds to run at most")
    parser.add_argument("--sessions", type=int, default=0, help="live: stop after N sessions")
    parser.add_argument("--quiet", action="store_true", help="print only the summary")
    args = parser.parse_args(argv)

    logger = Logger()
    configuration = StreamingApiConfiguration(
        args.broker, StreamCreationStrategy.TOPIC_BASE, [], 10
    )
    support_lib = SupportLibraryBootstrapper.bootstrap(configuration, logger).create()
    support_lib.initialise()
    support_lib.start()

    reading_api = support_lib.get_reading_packet_api()
    if args.historic is None:
        created = reading_api.create_service_with_config(
            PacketReadingConfiguration("", 10, False, DATA_SOURCE, "*", PacketReadingType.LIVE, [])
        )
    else:
        sessions_service = support_lib.get_session_manager_api().create_service().data
        if sessions_service is None:
            return 1
        sessions_service.initialise()
        sessions_service.start()
        sessions = sessions_service.get_all_sessions().data or []
        sessions_service.stop()
        chosen = [s for s in sessions if s.session_key == args.historic] if args.historic else []
        if args.historic and not chosen:
            logger.error(f"no session {args.historic} in the store")
            support_lib.stop()
            return 2
        if not sessions:
            logger.error("no sessions in the store; write one with examples/writer.py")
            support_lib.stop()
            return 2
        session = chosen[0] if chosen else sessions[-1]
        print(f"reading session {session.session_key} ({session.identifier})")
        created = reading_api.create_service(session.data_source, session.session_key)
    packet_reader = created.data
    if not created.success or packet_reader is None:
        logger.error(f"could not create the packet reader: {created.error_message}")
        return 1

    buffering = BufferingConfiguration(args.parameters, args.window_ms, args.slide)
    sample_created = support_lib.get_sample_reader_api().create_service(buffering)
    sample_reader = sample_created.data
    data_created = support_lib.get_data_reader_api().create_service()
    data_reader = data_created.data
    if sample_reader is None or data_reader is None:
        logger.error(
            f"could not create the readers: {sample_created.error_message or ''}"
            f"{data_created.error_message or ''}"
        )
        support_lib.stop()
        return 1

    timestamp_handler = TimestampDataHandler(args.quiet)
    sample_handler = SampleDataHandler()
    watcher = SessionWatcher()
    sample_reader.set_reader_service(packet_reader)
    sample_reader.set_handler(timestamp_handler)
    sample_reader.set_handler(sample_handler)
    sample_reader.session_data_merging_started.subscribe(watcher.on_started)
    sample_reader.session_data_merging_completed.subscribe(watcher.on_completed)

    data_reader.set_sample_reader_service(sample_reader)
    result_handler = DefaultResultHandler("statistics", args.quiet)
    fill = FillMode(args.fill)
    if not data_reader.subscribe("statistics", args.parameters, args.hz, result_handler, fill=fill):
        logger.error(f"could not subscribe {args.parameters} at {args.hz} Hz")
        support_lib.stop()
        return 2
    linear_handler = LinearResultHandler("linear")
    if args.linear:
        data_reader.subscribe(
            "linear", args.parameters, 2.0, linear_handler, 2.0, LinearInterpolationProcessor()
        )

    # Innermost first: nothing the packet reader delivers is lost.
    for service in (data_reader, sample_reader, packet_reader):
        service.initialise()
        service.start()
    if args.historic is None:
        print(f"following live sessions of {DATA_SOURCE} for {args.duration:g} s", flush=True)

    deadline = time.monotonic() + args.duration
    while time.monotonic() < deadline:
        if watcher.changed.wait(0.2):
            watcher.changed.clear()
            if args.historic is not None or (args.sessions and watcher.completed >= args.sessions):
                break

    # Outermost first: the sample reader releases what it still holds into a running data reader.
    packet_reader.stop()
    sample_reader.stop()
    data_reader.stop()
    sample_reader.session_data_merging_started.unsubscribe(watcher.on_started)
    sample_reader.session_data_merging_completed.unsubscribe(watcher.on_completed)
    sample_reader.remove_handler(timestamp_handler)
    sample_reader.remove_handler(sample_handler)
    support_lib.stop()

    per_parameter = ", ".join(f"{name} {count}" for name, count in sample_handler.samples.items())
    if args.linear:
        print(f"linear interpolation: {linear_handler.points} points")
    print(f"samples per parameter: {per_parameter or 'none'}")
    print(
        f"summary: {timestamp_handler.windows} windows, {timestamp_handler.samples} samples "
        f"buffered, {result_handler.results} results delivered in {result_handler.batches} "
        f"batches, {watcher.completed} session(s) completed, "
        f"{sample_handler.out_of_order} out of order"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())

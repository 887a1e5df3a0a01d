"""Fuzz the reading pipeline with mutated packets; an uncaught exception, a hang or runaway memory
is a failure.

``fuzz_columnar.py`` fuzzes the native sample decoders alone. This script sends the same kind of
mutated packets (its seeds and mutator, wrapped in envelopes, plus markers, events and
configuration packets; sometimes the content is mutated, sometimes the envelope) through what the
library does with a record after it is read, in three stages:

1. **decoders** (the bulk: ``--packets``, 1M by default): each packet through the packet reader's
   envelope check (``parse_packet``) and, in batches, through ``read_session``'s collector
   (envelopes, sample decoding, markers, events, configuration; a ``SessionData`` assembled from
   every 100 batches);
2. **buffering and interpolation** (``--buffered``, 50,000): each packet through a sample reader
   and a data reader subscribed at 10 Hz with statistics, fed as a packet reader feeds them;
3. **full pipeline** (``--stored``, 4,000): packets written to an embedded store through the
   packet writer (mutated content) and the transport (mutated envelopes), then read back by a
   HISTORIC packet reader feeding buffering and interpolation, and by ``read_session``.

Every stage is bounded by ``--seconds`` as well (each gets its share); RSS may grow by at most
``--max-growth-mb`` over the run, and the address space is capped (``--address-space-mb``) so
that a huge allocation fails at once. An interpolation subscription that fails (a mutated
timestamp far from the others asks for a grid over the whole gap) must be isolated and reported
by ``failed_subscriptions``; the run counts those. Run: python tests/fuzz/fuzz_pipeline.py
[--packets N] [--buffered N] [--stored N] [--seconds S] [--seed K]
"""

from __future__ import annotations

import argparse
import datetime
import logging
import random
import resource
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
from fuzz_columnar import KINDS, mutate, seeds

from ma_dataplatforms_streaming_support_library.columnar import (
    ContentBatch,
    PacketDecodeError,
    encode_periodic_batch,
    wrap_packets,
)
from ma_dataplatforms_streaming_support_library.contracts.buffering.buffering_configuration import (
    BufferingConfiguration,
)
from ma_dataplatforms_streaming_support_library.contracts.interpolation.batch_result import (
    BatchResult,
)
from ma_dataplatforms_streaming_support_library.contracts.interpolation.i_batch_result_handler import (
    IBatchResultHandler,
)
from ma_dataplatforms_streaming_support_library.contracts.packet_reading.packet_reading_configuration import (
    PacketReadingConfiguration,
)
from ma_dataplatforms_streaming_support_library.contracts.packet_reading.packet_reading_type import (
    PacketReadingType,
)
from ma_dataplatforms_streaming_support_library.contracts.packet_reading.received_packet_dto import (
    ReceivedPacketDto,
)
from ma_dataplatforms_streaming_support_library.contracts.packet_reading.stream_info import (
    StreamInfo,
)
from ma_dataplatforms_streaming_support_library.contracts.packet_writing.packet_bytes import (
    PacketBytes,
)
from ma_dataplatforms_streaming_support_library.contracts.session_management.session_creation_info import (
    SessionCreationInfo,
)
from ma_dataplatforms_streaming_support_library.contracts.session_management.session_info import (
    SessionInfo,
)
from ma_dataplatforms_streaming_support_library.contracts.shared.event import Event
from ma_dataplatforms_streaming_support_library.contracts.shared.i_handler import IHandler
from ma_dataplatforms_streaming_support_library.contracts.shared.stream_api_configuration import (
    StreamingApiConfiguration,
)
from ma_dataplatforms_streaming_support_library.core.base.logger import Logger
from ma_dataplatforms_streaming_support_library.core.base.support_library_bootstrapper import (
    SupportLibraryBootstrapper,
)
from ma_dataplatforms_streaming_support_library.core.library.context import LibraryContext
from ma_dataplatforms_streaming_support_library.protos import open_data_pb2 as pb
from ma_dataplatforms_streaming_support_library.protos.packets import DecodeError, parse_packet
from ma_dataplatforms_streaming_support_library.sessions import read_session
from ma_dataplatforms_streaming_support_library.sessions.collect import SessionCollector
from ma_dataplatforms_streaming_support_library.transport.embedded import EmbeddedTransport

DATA_SOURCE = "Fuzz"
SESSION_KEY = "fuzz-session"
BATCH = 2_000
BATCHES_PER_SESSION = 100
TIMELINE_START_NS = 1_700_000_000 * 10**9
MUTATED_SHARE = 0.05
FED_SESSION_PACKETS = 200
#: parameters the seed packets name (their lists) that the data reader subscribes to
SUBSCRIBED = ["a:b", "c", "x", "é"]
#: the log records the library writes for bad input it skips (reported, counted, never raised)
_EXPECTED_ERRORS = ("corrupt record", "could not decode", "not an Open Data Packet", "skipped")
#: a failed subscription logs its error; run() counts these through failed_subscriptions
_SUBSCRIPTION_FAILED = "subscription 'fuzz' failed"


class Failures(logging.Handler):
    """Records every log record at ERROR except the library's reports of input it skipped (a
    record it could not decode, with the decode error attached, or a corrupt record) and of a
    failed subscription (counted apart)."""

    def __init__(self) -> None:
        super().__init__(logging.ERROR)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        error = record.exc_info[1] if record.exc_info else None
        if _SUBSCRIPTION_FAILED in record.getMessage():
            return
        expected = any(text in record.getMessage() for text in _EXPECTED_ERRORS) and (
            error is None or isinstance(error, (PacketDecodeError, DecodeError))
        )
        if not expected:
            self.records.append(record)


def rss_mb() -> float:
    """Resident memory now, in MB (Linux /proc; else the peak from getrusage)."""
    try:
        pages = int(Path("/proc/self/statm").read_text().split()[1])
        return pages * resource.getpagesize() / 1e6
    except OSError:
        return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1e3


def corpus(seed: int) -> list[bytes]:
    """Valid envelopes: fuzz_columnar's sample contents, plus markers, events and configuration."""
    contents = seeds(np.random.default_rng(seed))
    types = {KINDS[0]: "PeriodicData", KINDS[1]: "SynchroData", KINDS[2]: "RowData"}
    envelopes = []
    for kind, raws in contents.items():
        envelopes += wrap_packets(raws, types[kind], session_key=SESSION_KEY, ids=range(len(raws)))
    marker = pb.MarkerPacket(timestamp=10**18, label="lap", type="Lap", value=3)
    event = pb.EventPacket(timestamp=10**18 + 5, raw_values=[1.0, 2.5])
    event.data_format.data_format_identifier = 11
    configuration = pb.ConfigurationPacket(config_id="cfg")
    configuration.parameter_definitions.add(identifier="a:b", name="a", max_value=10.0)
    for type_name, message in (
        ("Marker", marker),
        ("Event", event),
        ("Configuration", configuration),
    ):
        envelopes += wrap_packets([message.SerializeToString()], type_name, session_key=SESSION_KEY)
    return envelopes


def mutated(rng: random.Random, envelopes: list[bytes]) -> bytes:
    """A seed envelope with its content mutated (as a writer would frame it) or its bytes mutated."""
    raw = rng.choice(envelopes)
    if rng.random() < 0.5:
        return mutate(rng, raw)
    packet = pb.Packet.FromString(raw)
    packet.content = mutate(rng, packet.content)
    return packet.SerializeToString()


def timeline(rng: random.Random, count: int, seconds: float) -> Iterator[bytes]:
    """A session as a logger writes it (50 ms periodic packets of two parameters, 10 ms apart,
    on the clock from ``TIMELINE_START_NS``), ``MUTATED_SHARE`` of its packets mutated: wild
    timestamps and broken packets arrive among good ones."""
    deadline = time.monotonic() + seconds
    values = np.random.default_rng(rng.randrange(2**32)).normal(size=(BATCH, 2, 5))
    for first in range(0, count, BATCH):
        if time.monotonic() > deadline:
            return
        starts = TIMELINE_START_NS + (first + np.arange(BATCH)) * 50_000_000
        contents = encode_periodic_batch(
            values, 1, start_times_ns=starts, interval_ns=10_000_000, data_format=["a:b", "c"]
        )
        good = wrap_packets(contents, "PeriodicData", session_key=SESSION_KEY)
        for raw in good[: count - first]:
            yield mutated(rng, [raw]) if rng.random() < MUTATED_SHARE else raw


def stream(
    rng: random.Random, envelopes: list[bytes], count: int, seconds: float
) -> Iterator[bytes]:
    """``count`` mutated packets, or as many as ``seconds`` allows."""
    deadline = time.monotonic() + seconds
    for done in range(count):
        if done % 256 == 0 and time.monotonic() > deadline:
            return
        yield mutated(rng, envelopes)


# stage 1 ---------------------------------------------------------------------------------------
def fuzz_decoders(
    context: LibraryContext, rng: random.Random, envelopes: list[bytes], count: int, seconds: float
) -> int:
    info = SessionInfo(SESSION_KEY, DATA_SOURCE, "fuzz")
    done = batches = 0
    batch: list[bytes] = []
    collector = SessionCollector(DATA_SOURCE, context.data_formats, warn=False)
    for raw in stream(rng, envelopes, count, seconds):
        parse_packet(raw)  # the packet reader's envelope check
        batch.append(raw)
        if len(batch) < BATCH:
            continue
        origins = [("Fuzz", 0, done + i) for i in range(len(batch))]
        collector.add_packets([""] * len(batch), ContentBatch.from_messages(batch), origins)
        done += len(batch)
        batch = []
        batches += 1
        if batches % BATCHES_PER_SESSION == 0:
            collector.finish(info, complete=True, location="fuzz")
            collector = SessionCollector(DATA_SOURCE, context.data_formats, warn=False)
    collector.finish(info, complete=True, location="fuzz")
    return done


# stage 2 ---------------------------------------------------------------------------------------
class FeedingReader:
    """What a sample reader uses of a packet reader: the events and one handler."""

    def __init__(self) -> None:
        self.configuration = PacketReadingConfiguration(data_source=DATA_SOURCE)
        self.session_reading_started: Event[SessionInfo] = Event("session_reading_started")
        self.stream_reading_completed: Event[StreamInfo] = Event("stream_reading_completed")
        self.session_reading_completed: Event[SessionInfo] = Event("session_reading_completed")
        self.handler: IHandler[ReceivedPacketDto] | None = None

    def set_handler(self, handler: IHandler[ReceivedPacketDto]) -> None:
        self.handler = handler

    def remove_handler(self, handler: IHandler[ReceivedPacketDto]) -> None:
        self.handler = None


class Batches(IBatchResultHandler):
    def __init__(self) -> None:
        self.count = 0

    def handle(self, batch: BatchResult) -> None:
        self.count += 1


class FedSessions:
    """The sessions a ``FeedingReader`` reads, one after another, ``FED_SESSION_PACKETS`` each:
    a wild timestamp spoils only the rest of its session (later samples arrive late)."""

    def __init__(self, reader: FeedingReader) -> None:
        self.reader = reader
        self.info = SessionInfo(SESSION_KEY, DATA_SOURCE, "fuzz")
        self.count = 0

    def start(self) -> None:
        self.count += 1
        self.info = SessionInfo(f"{SESSION_KEY}-{self.count}", DATA_SOURCE, "fuzz")
        self.reader.session_reading_started.raise_event(self.reader, self.info)

    def end(self) -> None:
        key = self.info.session_key
        self.reader.stream_reading_completed.raise_event(
            self.reader, StreamInfo(DATA_SOURCE, key, "")
        )
        self.reader.session_reading_completed.raise_event(self.reader, self.info)


def fuzz_buffering(
    library: Any, rng: random.Random, count: int, seconds: float
) -> tuple[int, int, list[str]]:
    """Sessions of packets, some mutated (``timeline``), through a sample reader and a 10 Hz
    data reader subscription. A subscription that fails is reported by ``failed_subscriptions``
    (isolated, never raised): its reasons are returned, and it is subscribed again for the next
    session."""
    buffering = started(
        library.get_sample_reader_api().create_service(BufferingConfiguration(SUBSCRIBED))
    )
    interpolation = started(library.get_data_reader_api().create_service())
    interpolation.set_sample_reader_service(buffering)
    batches = Batches()
    reasons: list[str] = []
    reader = FeedingReader()
    buffering.set_reader_service(reader)
    sessions = FedSessions(reader)
    assert interpolation.subscribe("fuzz", SUBSCRIBED, 10.0, batches)
    sessions.start()
    done = 0
    submitted = datetime.datetime.now(datetime.timezone.utc)
    for raw in timeline(rng, count, seconds):
        if parse_packet(raw) is None:
            continue  # the packet reader never hands such a record to a handler
        assert reader.handler is not None
        dto = ReceivedPacketDto(
            DATA_SOURCE, sessions.info.session_key, "", PacketBytes(raw), submitted
        )
        reader.handler.handle(dto)
        done += 1
        if done % FED_SESSION_PACKETS:
            continue
        sessions.end()
        failed = interpolation.failed_subscriptions
        if failed:
            reasons.extend(failed.values())
            interpolation.unsubscribe("fuzz")
            assert interpolation.subscribe("fuzz", SUBSCRIBED, 10.0, batches)
        sessions.start()
    sessions.end()
    reasons.extend(interpolation.failed_subscriptions.values())
    interpolation.stop()
    buffering.stop()
    return done, batches.count, reasons


# stage 3 ---------------------------------------------------------------------------------------
def started(result: Any) -> Any:
    assert result.success and result.data is not None, result.error_message
    result.data.initialise()
    result.data.start()
    return result.data


def fuzz_store(
    folder: Path, rng: random.Random, envelopes: list[bytes], count: int, seconds: float
) -> tuple[int, list[str]]:
    store = f"embedded:{folder / 'fuzz.db'}"
    library = SupportLibraryBootstrapper.bootstrap(
        StreamingApiConfiguration(store, timeout_seconds=10), Logger()
    ).create()
    library.initialise()
    try:
        sessions = started(library.get_session_manager_api().create_service())
        writer = started(library.get_writing_packet_api().create_service())
        key = sessions.create_new_session(SessionCreationInfo(DATA_SOURCE, "fuzz")).data.session_key
        raw_transport = EmbeddedTransport(folder / "fuzz.db")
        written = 0
        for raw in stream(rng, envelopes, count, seconds / 2):
            packet = parse_packet(raw)
            if packet is not None and packet.type:
                packet.session_key = key
                writer.write_data(DATA_SOURCE, "", key, PacketBytes(packet.SerializeToString()))
            else:
                raw_transport.produce(DATA_SOURCE, 0, key.encode(), raw)
            written += 1
        raw_transport.flush(10)
        raw_transport.close()
        assert writer.flush().success
        assert sessions.end_session(DATA_SOURCE, key).success
        reasons = read_back(library, key, seconds / 2)
        data = read_session(key, store)
        assert data.session_key == key and data.corrupt_records, "corrupt records not reported"
        return written, reasons
    finally:
        library.stop()


def read_back(library: Any, key: str, seconds: float) -> list[str]:
    """The session read HISTORIC into buffering and interpolation; the subscription failures."""
    reader = (
        library.get_reading_packet_api()
        .create_service_with_config(
            PacketReadingConfiguration(
                session_key=key,
                timeout_seconds=5,
                data_source=DATA_SOURCE,
                reading_type=PacketReadingType.HISTORIC,
            )
        )
        .data
    )
    reader.initialise()
    buffering = started(
        library.get_sample_reader_api().create_service(BufferingConfiguration(SUBSCRIBED))
    )
    interpolation = started(library.get_data_reader_api().create_service())
    interpolation.set_sample_reader_service(buffering)
    assert interpolation.subscribe("fuzz", SUBSCRIBED, 10.0, Batches())
    buffering.set_reader_service(reader)
    reader.start()
    if not reader.wait_until_finished(max(seconds, 30.0)):
        raise AssertionError("the packet reader did not finish: a hang")
    assert reader.failure is None, reader.failure
    return list(interpolation.failed_subscriptions.values())


# driver ----------------------------------------------------------------------------------------
def run(
    packets: int, buffered: int, stored: int, seconds: float, seed: int, max_growth_mb: float
) -> dict[str, int]:
    """The three stages; returns the packets each handled. Raises on any failure."""
    failures = Failures()
    package = logging.getLogger("ma_dataplatforms_streaming_support_library")
    package.addHandler(failures)
    rng = random.Random(seed)
    envelopes = corpus(seed)
    counts: dict[str, int] = {}
    try:
        with tempfile.TemporaryDirectory() as folder:
            library = SupportLibraryBootstrapper.bootstrap(
                StreamingApiConfiguration(f"memory:fuzz-{seed}-{time.monotonic_ns()}"), Logger()
            ).create()
            library.initialise()
            try:
                baseline = rss_mb()
                counts["decoders"] = fuzz_decoders(
                    library.context, rng, envelopes, packets, seconds * 0.6
                )
                counts["buffering"], counts["batches"], reasons = fuzz_buffering(
                    library, rng, buffered, seconds * 0.25
                )
            finally:
                library.stop()
            counts["stored"], stored_reasons = fuzz_store(
                Path(folder), rng, envelopes, stored, seconds * 0.15
            )
            reasons += stored_reasons
            counts["failed_subscriptions"] = len(reasons)
            if reasons:
                print(f"subscriptions failed (reported, isolated): {sorted(set(reasons))[:3]}")
            growth = rss_mb() - baseline
            if growth > max_growth_mb:
                raise AssertionError(f"RSS grew by {growth:.0f} MB (bound {max_growth_mb:.0f} MB)")
    finally:
        package.removeHandler(failures)
    if failures.records:
        messages = sorted({record.getMessage()[:200] for record in failures.records})
        raise AssertionError(f"{len(failures.records)} unexpected error records: {messages[:5]}")
    return counts


def limit_address_space(megabytes: int) -> None:
    """Cap this process's address space, so that an allocation sized by a wild timestamp fails
    at once as a MemoryError (which the library must catch and report) instead of the kernel
    granting it lazily and killing the process when it is touched."""
    limit = megabytes * 1_000_000
    _, hard = resource.getrlimit(resource.RLIMIT_AS)
    if hard == resource.RLIM_INFINITY or hard > limit:
        resource.setrlimit(resource.RLIMIT_AS, (limit, hard))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--packets", type=int, default=1_000_000)
    parser.add_argument("--buffered", type=int, default=50_000)
    parser.add_argument("--stored", type=int, default=4_000)
    parser.add_argument("--seconds", type=float, default=240.0)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--max-growth-mb", type=float, default=600.0)
    parser.add_argument("--address-space-mb", type=int, default=3_000)
    args = parser.parse_args()
    limit_address_space(args.address_space_mb)
    began = time.monotonic()
    counts = run(
        args.packets, args.buffered, args.stored, args.seconds, args.seed, args.max_growth_mb
    )
    print(
        f"fuzz-pipeline: {counts['decoders']:,} mutated packets through the envelope check and "
        f"read_session's decoders, {counts['buffering']:,} through buffering and interpolation "
        f"({counts['batches']:,} batches, {counts['failed_subscriptions']} subscription "
        f"failures reported), {counts['stored']:,} through the store, packet reader, "
        f"buffering, interpolation and read_session, in {time.monotonic() - began:.1f} s: "
        "no uncaught exception, no hang"
    )
    sys.exit(0)


if __name__ == "__main__":
    main()

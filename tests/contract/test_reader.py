"""Packet reading through the official API, on both transports."""

from __future__ import annotations

import threading
import time
from typing import Any

import pytest

from ma_dataplatforms_streaming_support_library.contracts.packet_reading.packet_reading_type import (
    PacketReadingType,
)
from ma_dataplatforms_streaming_support_library.errors import ReaderTimeoutError, StreamingError
from ma_dataplatforms_streaming_support_library.protos import open_data_pb2
from ma_dataplatforms_streaming_support_library.transport import Transport

from .conftest import (
    MAPPINGS,
    PARTITION_BASE,
    TOPIC_BASE,
    EventRecorder,
    Library,
    LibraryFactory,
    assert_event_order,
    create_session,
    end_session,
    envelope,
    historic_configuration,
    live_configuration,
    marker_packet,
    new_session_packet,
    packet,
    periodic_packet,
    start_reader,
    wait_for,
    write_session,
    write_stream_packets,
)

STREAMS = ["", "stream1", "stream2"]
STRATEGIES = pytest.mark.parametrize(
    "strategy", [TOPIC_BASE, PARTITION_BASE], ids=["topic", "partition"]
)


def expected_by_stream(written: dict[str, list[Any]]) -> dict[str, list[bytes]]:
    return {stream: [p.data for p in packets] for stream, packets in written.items()}


def writer_library(library_factory: LibraryFactory, strategy: Any = TOPIC_BASE) -> Library:
    return library_factory(strategy, partition_mappings=MAPPINGS)


# LIVE -----------------------------------------------------------------------------------------
@STRATEGIES
def test_live_reader_started_first_sees_every_packet_once_in_order_with_events(
    library_factory: LibraryFactory, data_source: str, strategy: Any
) -> None:
    reading = writer_library(library_factory, strategy)
    reader, recorder = start_reader(reading, live_configuration(data_source))
    writing = writer_library(library_factory, strategy)

    written = write_session(
        writing.session_service(),
        writing.writer_service(),
        data_source,
        streams=STREAMS,
        count=20,
    )

    recorder.wait_completed(written.session_key)
    reader.stop()
    assert recorder.packets_by_stream(written.session_key) == expected_by_stream(written.packets)
    assert_event_order(recorder.session_journal(written.session_key), STREAMS)
    for dto in recorder.packets(written.session_key):
        assert dto.data_source == data_source
        assert dto.session_key == written.session_key
    completed = recorder.entries("session_completed", written.session_key)[0][2]
    assert completed.historical is True


def test_live_reader_follows_sessions_one_after_another(
    library_factory: LibraryFactory, data_source: str
) -> None:
    reader, recorder = start_reader(library_factory(), live_configuration(data_source))
    writing = library_factory()
    sessions, writer = writing.session_service(), writing.writer_service()

    first = write_session(sessions, writer, data_source, streams=["", "stream1"], count=3)
    recorder.wait_completed(first.session_key)
    second = write_session(sessions, writer, data_source, streams=["", "stream1"], count=3)
    recorder.wait_completed(second.session_key)

    reader.stop()
    for written in (first, second):
        assert recorder.packets_by_stream(written.session_key) == expected_by_stream(
            written.packets
        )
        assert_event_order(recorder.session_journal(written.session_key), ["", "stream1"])


def test_live_reader_reads_a_session_already_live_at_start_from_its_first_packet(
    library_factory: LibraryFactory, data_source: str
) -> None:
    writing = library_factory()
    sessions, writer = writing.session_service(), writing.writer_service()
    key = create_session(sessions, data_source, "running").session_key
    early = write_stream_packets(writer, data_source, key, [""], 5)[""]

    reader, recorder = start_reader(library_factory(), live_configuration(data_source))
    late = write_stream_packets(writer, data_source, key, [""], 5, first_id=100)[""]
    end_session(sessions, writer, data_source, key, [""])

    recorder.wait_completed(key)
    reader.stop()
    delivered = recorder.packets_by_stream(key)[""]
    assert delivered[: len(early) + len(late)] == [p.data for p in early + late]


def test_live_reader_ignores_sessions_ended_before_it_started(
    library_factory: LibraryFactory, data_source: str
) -> None:
    writing = library_factory()
    sessions, writer = writing.session_service(), writing.writer_service()
    old = write_session(sessions, writer, data_source, count=2)

    reader, recorder = start_reader(library_factory(), live_configuration(data_source))
    new = write_session(sessions, writer, data_source, count=2)
    recorder.wait_completed(new.session_key)
    reader.stop()

    assert recorder.session_journal(old.session_key) == []


# HISTORIC -------------------------------------------------------------------------------------
@STRATEGIES
def test_historic_reader_reads_an_ended_session(
    library_factory: LibraryFactory, data_source: str, strategy: Any
) -> None:
    writing = writer_library(library_factory, strategy)
    written = write_session(
        writing.session_service(), writing.writer_service(), data_source, streams=STREAMS, count=10
    )

    reader, recorder = start_reader(
        writer_library(library_factory, strategy), historic_configuration(data_source)
    )

    recorder.wait_completed(written.session_key)
    reader.stop()
    assert recorder.packets_by_stream(written.session_key) == expected_by_stream(written.packets)
    assert_event_order(recorder.session_journal(written.session_key), STREAMS)
    assert recorder.entries("session_completed", written.session_key)[0][2].historical is True


def test_events_subscribed_right_after_set_handler_miss_nothing(
    library_factory: LibraryFactory, data_source: str
) -> None:
    """The official reader sample starts, sets its handler, and only then subscribes to events."""
    writing = writer_library(library_factory)
    written = write_session(
        writing.session_service(), writing.writer_service(), data_source, streams=STREAMS, count=5
    )
    reader = writer_library(library_factory).reader(historic_configuration(data_source))
    recorder = EventRecorder()
    reader.start()
    reader.set_handler(recorder)
    recorder.attach(reader)

    recorder.wait_completed(written.session_key)
    reader.stop()
    assert recorder.packets_by_stream(written.session_key) == expected_by_stream(written.packets)
    assert_event_order(recorder.session_journal(written.session_key), STREAMS)


def test_create_service_with_data_source_and_session_key_reads_that_session(
    library_factory: LibraryFactory, data_source: str
) -> None:
    """The official sample's historic path: ``create_service(data_source, session_key)``."""
    writing = library_factory()
    sessions, writer = writing.session_service(), writing.writer_service()
    wanted = write_session(sessions, writer, data_source, streams=["", "stream1"], count=5)
    other = write_session(sessions, writer, data_source, streams=["", "stream1"], count=5)

    reading = library_factory()
    result = reading.api.get_reading_packet_api().create_service(data_source, wanted.session_key)
    assert result.success, result.error_message
    reader = result.data
    recorder = EventRecorder().attach(reader)
    reader.initialise()
    reader.start()
    reader.set_handler(recorder)

    recorder.wait_completed(wanted.session_key)
    reader.stop()
    assert recorder.packets_by_stream(wanted.session_key) == expected_by_stream(wanted.packets)
    assert recorder.session_journal(other.session_key) == []
    assert_event_order(recorder.session_journal(wanted.session_key), ["", "stream1"])


def test_keyword_create_service_reads_a_session_still_live(
    library_factory: LibraryFactory, data_source: str
) -> None:
    writing = library_factory()
    sessions, writer = writing.session_service(), writing.writer_service()
    written = write_session(sessions, writer, data_source, count=3, end=False)

    reading = library_factory()
    result = reading.api.get_reading_packet_api().create_service(
        data_source=data_source, session_key=written.session_key
    )
    assert result.success, result.error_message
    reader = result.data
    recorder = EventRecorder().attach(reader)
    reader.initialise()
    reader.start()
    reader.set_handler(recorder)
    wait_for(lambda: len(recorder.packets(written.session_key)) == 4, message="first packets")
    end_session(sessions, writer, data_source, written.session_key, [""], written.packets)

    recorder.wait_completed(written.session_key)
    reader.stop()
    assert recorder.packets_by_stream(written.session_key) == expected_by_stream(written.packets)


# choosing sessions and streams ----------------------------------------------------------------
@pytest.mark.parametrize(
    ("pattern", "matching"),
    [
        ("Qual_*", {"Qual_1"}),
        ("qual_*", {"qual_2"}),  # case-sensitive
        ("*_1", {"Qual_1", "Race_1"}),
        ("*", {"Qual_1", "Race_1", "qual_2"}),
        ("", {"Qual_1", "Race_1", "qual_2"}),
    ],
)
def test_session_identifier_pattern_is_a_case_sensitive_glob(
    library_factory: LibraryFactory, data_source: str, pattern: str, matching: set[str]
) -> None:
    writing = library_factory()
    sessions, writer = writing.session_service(), writing.writer_service()
    # Matching sessions are written last: once they completed, any wrongly chosen earlier session
    # (earlier offsets in the same partitions) would have been delivered already.
    order = sorted(["Qual_1", "Race_1", "qual_2"], key=lambda name: name in matching)
    keys = {
        name: write_session(sessions, writer, data_source, identifier=name, count=2).session_key
        for name in order
    }

    reader, recorder = start_reader(
        library_factory(), historic_configuration(data_source, session_identifier_pattern=pattern)
    )
    for name in matching:
        recorder.wait_completed(keys[name])
    reader.stop()

    read = {name for name, key in keys.items() if recorder.session_journal(key)}
    assert read == matching


@pytest.mark.parametrize(
    ("streams", "exclude_main", "expected"),
    [
        (["stream1"], False, {"", "stream1"}),
        (["stream1"], True, {"stream1"}),
        ([], True, {"stream1", "stream2"}),
        ([], False, {"", "stream1", "stream2"}),
    ],
    ids=["subset", "subset-no-main", "all-no-main", "all"],
)
@STRATEGIES
def test_streams_subset_and_exclude_main_stream(
    library_factory: LibraryFactory,
    data_source: str,
    strategy: Any,
    streams: list[str],
    exclude_main: bool,
    expected: set[str],
) -> None:
    writing = writer_library(library_factory, strategy)
    written = write_session(
        writing.session_service(), writing.writer_service(), data_source, streams=STREAMS, count=3
    )
    configuration = historic_configuration(
        data_source, streams=streams, exclude_main_stream=exclude_main
    )

    reader, recorder = start_reader(writer_library(library_factory, strategy), configuration)

    recorder.wait_completed(written.session_key)
    reader.stop()
    by_stream = recorder.packets_by_stream(written.session_key)
    assert set(by_stream) == expected
    for stream in expected:
        assert by_stream[stream] == [p.data for p in written.packets[stream]]
    assert_event_order(recorder.session_journal(written.session_key), sorted(expected))


def test_other_data_sources_are_not_read(library_factory: LibraryFactory, data_source: str) -> None:
    reader, recorder = start_reader(library_factory(), live_configuration(data_source))
    writing = library_factory()
    sessions, writer = writing.session_service(), writing.writer_service()

    foreign = write_session(sessions, writer, data_source + "_other", count=2)
    mine = write_session(sessions, writer, data_source, count=2)
    recorder.wait_completed(mine.session_key)
    reader.stop()

    assert recorder.session_journal(foreign.session_key) == []


# delivery -------------------------------------------------------------------------------------
def test_packets_written_before_set_handler_are_not_lost(
    library_factory: LibraryFactory, data_source: str
) -> None:
    reading = library_factory()
    reader = reading.reader(live_configuration(data_source))
    recorder = EventRecorder().attach(reader)
    reader.start()
    writing = library_factory()
    written = write_session(
        writing.session_service(),
        writing.writer_service(),
        data_source,
        streams=["", "stream1"],
        count=5,
    )
    time.sleep(1.0)  # the session is written, ended and seen by the reader's library meanwhile

    reader.set_handler(recorder)

    recorder.wait_completed(written.session_key)
    reader.stop()
    assert recorder.packets_by_stream(written.session_key) == expected_by_stream(written.packets)
    assert_event_order(recorder.session_journal(written.session_key), ["", "stream1"])


def test_several_handlers_each_get_every_packet(
    library_factory: LibraryFactory, data_source: str
) -> None:
    reader = library_factory().reader(live_configuration(data_source))
    first, second = EventRecorder().attach(reader), EventRecorder()
    reader.start()
    reader.set_handler(first)
    reader.add_handler(second)
    writing = library_factory()

    written = write_session(
        writing.session_service(), writing.writer_service(), data_source, count=4
    )

    first.wait_completed(written.session_key)
    reader.stop()
    expected = expected_by_stream(written.packets)
    assert first.packets_by_stream(written.session_key) == expected
    assert second.packets_by_stream(written.session_key) == expected


def test_several_readers_in_one_process_read_independently(
    library_factory: LibraryFactory, data_source: str
) -> None:
    reading = library_factory()
    everything, every_recorder = start_reader(reading, live_configuration(data_source))
    subset, subset_recorder = start_reader(
        reading, live_configuration(data_source, streams=["stream1"], exclude_main_stream=True)
    )
    other_library_reader, other_recorder = start_reader(
        library_factory(), live_configuration(data_source)
    )
    writing = library_factory()
    sessions, writer = writing.session_service(), writing.writer_service()

    first = write_session(sessions, writer, data_source, streams=["", "stream1"], count=5)
    for recorder in (every_recorder, subset_recorder, other_recorder):
        recorder.wait_completed(first.session_key)
    everything.stop()  # stopping one reader leaves the others running
    second = write_session(sessions, writer, data_source, streams=["", "stream1"], count=5)
    subset_recorder.wait_completed(second.session_key)
    other_recorder.wait_completed(second.session_key)
    subset.stop()
    other_library_reader.stop()

    for written in (first, second):
        expected = expected_by_stream(written.packets)
        assert other_recorder.packets_by_stream(written.session_key) == expected
        assert subset_recorder.packets_by_stream(written.session_key) == {
            "stream1": expected["stream1"]
        }
    assert every_recorder.packets_by_stream(first.session_key) == expected_by_stream(first.packets)
    assert every_recorder.session_journal(second.session_key) == []


def test_a_slow_handler_loses_no_packets(library_factory: LibraryFactory, data_source: str) -> None:
    reading = library_factory()
    reader = reading.reader(live_configuration(data_source, timeout_seconds=30))
    recorder = EventRecorder(delay_s=0.02).attach(reader)
    reader.start()
    reader.set_handler(recorder)
    writing = library_factory()

    written = write_session(
        writing.session_service(),
        writing.writer_service(),
        data_source,
        streams=["", "stream1"],
        count=100,
    )

    recorder.wait_completed(written.session_key, timeout=60)
    reader.stop()
    assert recorder.packets_by_stream(written.session_key) == expected_by_stream(written.packets)
    assert_event_order(recorder.session_journal(written.session_key), ["", "stream1"])


def test_received_packet_dto_fields(library_factory: LibraryFactory, data_source: str) -> None:
    reader, recorder = start_reader(library_factory(), live_configuration(data_source))
    writing = library_factory()
    before = time.time()
    written = write_session(
        writing.session_service(), writing.writer_service(), data_source, count=1
    )

    recorder.wait_completed(written.session_key)
    reader.stop()
    dto = recorder.packets(written.session_key)[1]
    assert envelope(dto).type == "Marker"
    assert dto.packet_bytes.data == written.packets[""][1].data
    assert dto.stream == ""
    assert dto.submit_time.tzinfo is not None
    assert before - 60 < dto.submit_time.timestamp() < time.time() + 60


def test_a_packet_with_an_unknown_data_format_id_is_still_delivered(
    library_factory: LibraryFactory, data_source: str
) -> None:
    reader, recorder = start_reader(library_factory(), live_configuration(data_source))
    writing = library_factory()
    sessions, writer = writing.session_service(), writing.writer_service()
    key = create_session(sessions, data_source).session_key
    unknown_format = periodic_packet(key, 987654321, [1.0, 2.0])

    assert writer.write_data(data_source, "", key, new_session_packet(data_source, key)).success
    assert writer.write_data(data_source, "", key, unknown_format).success
    end_session(sessions, writer, data_source, key, [""])

    recorder.wait_completed(key)
    reader.stop()
    assert unknown_format.data in [dto.packet_bytes.data for dto in recorder.packets(key)]


# events ---------------------------------------------------------------------------------------
def test_session_info_updates_raise_session_info_updated(
    library_factory: LibraryFactory, data_source: str
) -> None:
    reader, recorder = start_reader(library_factory(), live_configuration(data_source))
    writing = library_factory()
    sessions, writer = writing.session_service(), writing.writer_service()
    written = write_session(sessions, writer, data_source, count=1, end=False)
    wait_for(lambda: recorder.entries("session_started", written.session_key), message="reading")

    assert sessions.update_session_details(data_source, written.session_key, {"Lap": "7"}).success
    updated = wait_for(
        lambda: recorder.entries("info_updated", written.session_key), message="info updated"
    )
    assert sessions.update_identifier(data_source, written.session_key, "renamed").success
    wait_for(
        lambda: any(e[2].identifier == "renamed" for e in recorder.entries("info_updated")),
        message="identifier update",
    )
    end_session(sessions, writer, data_source, written.session_key, [""])
    recorder.wait_completed(written.session_key)
    reader.stop()

    assert updated[0][2].details == {"Lap": "7"}
    journal = recorder.session_journal(written.session_key)
    kinds = [entry[0] for entry in journal]
    assert kinds.index("session_started") < kinds.index("info_updated")
    assert kinds.index("info_updated") < kinds.index("session_completed")


def test_coverage_cursor_packets_raise_coverage_cursor_received(
    library_factory: LibraryFactory, data_source: str
) -> None:
    reader, recorder = start_reader(library_factory(), live_configuration(data_source))
    writing = library_factory()
    sessions, writer = writing.session_service(), writing.writer_service()
    key = create_session(sessions, data_source).session_key
    cursor_time = time.time_ns()
    cursor = packet(
        "CoverageCursorInfo",
        key,
        open_data_pb2.CoverageCursorInfoPacket(
            data_source=data_source, coverage_cursor_time=cursor_time
        ).SerializeToString(),
    )

    assert writer.write_data(data_source, "", key, new_session_packet(data_source, key)).success
    assert writer.write_data(data_source, "", key, cursor).success
    end_session(sessions, writer, data_source, key, [""])

    recorder.wait_completed(key)
    reader.stop()
    coverage = recorder.entries("coverage", key)
    assert len(coverage) == 1
    info = coverage[0][2]
    assert (info.data_source, info.session_key, info.coverage_cursor_time) == (
        data_source,
        key,
        cursor_time,
    )
    assert cursor.data in [dto.packet_bytes.data for dto in recorder.packets(key)]


# errors while reading -------------------------------------------------------------------------
def test_a_raising_handler_is_logged_and_reading_continues(
    library_factory: LibraryFactory, data_source: str, caplog: pytest.LogCaptureFixture
) -> None:
    class Exploding(EventRecorder):
        def handle(self, packet: Any) -> None:
            super().handle(packet)
            raise RuntimeError("handler exploded on purpose")

    reading = library_factory()
    reader = reading.reader(live_configuration(data_source))
    recorder = Exploding().attach(reader)
    reader.start()
    reader.set_handler(recorder)
    writing = library_factory()

    written = write_session(
        writing.session_service(), writing.writer_service(), data_source, count=5
    )

    recorder.wait_completed(written.session_key)
    reader.stop()
    assert recorder.packets_by_stream(written.session_key) == expected_by_stream(written.packets)
    logged = [r for r in caplog.records if "handler exploded on purpose" in str(r.exc_info)]
    logged_by_library = reading.logger.find("handler exploded on purpose")
    assert logged or logged_by_library


def test_records_the_compiled_delivery_does_not_take_are_delivered_by_the_python_loop(
    library_factory: LibraryFactory, data_source: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    reading = library_factory()
    reader, recorder = start_reader(reading, live_configuration(data_source))
    # Records as lists, as someone else's transport might hand them: the compiled delivery
    # takes tuples only, so the reader's Python loop must deliver these. (Nothing is written
    # yet, so every poll with records goes through this.)
    deliver = reader._deliver
    monkeypatch.setattr(
        reader, "_deliver", lambda records, now: deliver(list(map(list, records)), now)
    )
    writing = library_factory()

    written = write_session(
        writing.session_service(), writing.writer_service(), data_source, count=5
    )

    recorder.wait_completed(written.session_key)
    reader.stop()
    assert recorder.packets_by_stream(written.session_key) == expected_by_stream(written.packets)
    assert all(
        type(dto.packet_bytes.data) is bytes for dto in recorder.packets(written.session_key)
    )


def test_a_corrupted_record_is_reported_and_reading_continues(
    library_factory: LibraryFactory, data_source: str, transport: Transport
) -> None:
    reading = library_factory()
    reader, recorder = start_reader(reading, live_configuration(data_source))
    writing = library_factory()
    sessions, writer = writing.session_service(), writing.writer_service()
    key = create_session(sessions, data_source).session_key
    assert writer.write_data(data_source, "", key, new_session_packet(data_source, key)).success
    wait_for(lambda: recorder.packets(key), message="first packet")
    garbage = b"\xff\xfe\x00 this is not a protobuf Packet \x07\x07"
    garbage_offset = transport.end_offsets(data_source)[0]

    transport.produce(data_source, 0, key.encode(), garbage)
    transport.flush(10)
    after = write_stream_packets(writer, data_source, key, [""], 3)[""]
    end_session(sessions, writer, data_source, key, [""])

    recorder.wait_completed(key)
    reader.stop()
    delivered = [dto.packet_bytes.data for dto in recorder.packets(key)]
    assert [p.data for p in after] == [d for d in delivered if d in {p.data for p in after}]
    reports = reading.logger.find(data_source, str(garbage_offset))
    assert reports, reading.logger.messages
    assert any(f"{data_source}:0" in r or "partition 0" in r for r in reports), reports


def test_historic_reader_of_an_unknown_session_times_out_with_a_warning(
    library_factory: LibraryFactory, data_source: str
) -> None:
    reading = library_factory()
    unknown = "00000000-0000-4000-8000-000000000000"
    reader, recorder = start_reader(
        reading, historic_configuration(data_source, session_key=unknown, timeout_seconds=1)
    )

    wait_for(lambda: reading.logger.find(unknown), message="timeout warning")
    reader.stop()  # no exception without raise_exception_on_timeout
    assert recorder.journal == []


@pytest.mark.parametrize("by", ["session_key", "pattern"])
def test_historic_timeout_is_raised_from_stop_when_asked(
    library_factory: LibraryFactory, data_source: str, by: str
) -> None:
    reading = library_factory()
    if by == "session_key":
        configuration = historic_configuration(
            data_source, session_key="00000000-0000-4000-8000-000000000001", timeout_seconds=1
        )
        expected = "00000000-0000-4000-8000-000000000001"
    else:
        configuration = historic_configuration(
            data_source, session_identifier_pattern="NothingMatches*", timeout_seconds=1
        )
        expected = "NothingMatches*"
    configuration.raise_exception_on_timeout = True
    reader, _recorder = start_reader(reading, configuration)

    wait_for(lambda: reading.logger.find(expected), message="timeout warning")
    with pytest.raises(TimeoutError, match=expected.replace("*", r"\*")):
        reader.stop()
    reader.stop()  # raised once; stop() stays idempotent


def test_idle_stream_completes_after_the_timeout_with_a_warning(
    library_factory: LibraryFactory, data_source: str
) -> None:
    writing = library_factory()
    sessions, writer = writing.session_service(), writing.writer_service()
    # Written like a writer that crashed: no EndOfSession packet, session never ended. Written
    # before the reader starts, so that no pause of the writer can look like the idle timeout.
    written = write_session(sessions, writer, data_source, count=2, end=False)
    reading = library_factory()
    configuration = live_configuration(data_source, timeout_seconds=2)
    configuration.raise_exception_on_timeout = True

    reader, recorder = start_reader(reading, configuration)

    recorder.wait_completed(written.session_key)
    with pytest.raises(TimeoutError, match=written.session_key) as raised:
        reader.stop()
    # The official API's TimeoutError, and the library's own error class.
    assert isinstance(raised.value, ReaderTimeoutError)
    assert isinstance(raised.value, StreamingError)
    assert recorder.packets_by_stream(written.session_key) == expected_by_stream(written.packets)
    assert_event_order(recorder.session_journal(written.session_key), [""])
    assert reading.logger.find(written.session_key, levels=("warning",))


def test_stop_during_reading_is_clean(library_factory: LibraryFactory, data_source: str) -> None:
    writing = library_factory()
    written = write_session(
        writing.session_service(), writing.writer_service(), data_source, count=60
    )
    reading = library_factory()
    reading.session_service()  # the library's own threads run before the reader's start
    reader = reading.reader(historic_configuration(data_source))
    recorder = EventRecorder(delay_s=0.1).attach(reader)
    before = {thread.ident for thread in threading.enumerate()}
    reader.start()
    reader.set_handler(recorder)
    wait_for(lambda: len(recorder.packets(written.session_key)) >= 3, message="reading under way")
    mine = [t for t in threading.enumerate() if t.ident not in before and t.is_alive()]

    reader.stop()

    delivered = len(recorder.packets(written.session_key))
    assert delivered < 62
    for thread in mine:
        thread.join(5)
        assert not thread.is_alive(), thread.name
    time.sleep(0.3)
    assert len(recorder.packets(written.session_key)) == delivered  # nothing after stop()
    reader.stop()
    reader.remove_handler(recorder)


def test_reading_type_both_reads_ended_and_new_sessions(
    library_factory: LibraryFactory, data_source: str
) -> None:
    writing = library_factory()
    sessions, writer = writing.session_service(), writing.writer_service()
    old = write_session(sessions, writer, data_source, count=2)
    reader, recorder = start_reader(
        library_factory(), live_configuration(data_source, reading_type=PacketReadingType.BOTH)
    )
    new = write_session(sessions, writer, data_source, count=2)

    recorder.wait_completed(old.session_key)
    recorder.wait_completed(new.session_key)
    reader.stop()
    for written in (old, new):
        assert recorder.packets_by_stream(written.session_key) == expected_by_stream(
            written.packets
        )


# bad input ------------------------------------------------------------------------------------
BAD_CONFIGURATIONS = [
    ("session_key-none", {"session_key": None}, "session_key"),
    ("session_key-int", {"session_key": 5}, "session_key"),
    ("timeout-zero", {"timeout_seconds": 0}, "timeout_seconds"),
    ("timeout-negative", {"timeout_seconds": -3}, "timeout_seconds"),
    ("timeout-str", {"timeout_seconds": "10"}, "timeout_seconds"),
    ("data_source-none", {"data_source": None}, "data_source"),
    ("data_source-empty", {"data_source": ""}, "data_source"),
    ("data_source-illegal", {"data_source": "bad data source!"}, "data_source"),
    ("data_source-too-long", {"data_source": "d" * 250}, "data_source"),
    ("pattern-none", {"session_identifier_pattern": None}, "session_identifier_pattern"),
    ("reading_type-unknown", {"reading_type": 7}, "reading_type"),
    ("streams-none", {"streams": None}, "streams"),
    ("streams-str", {"streams": "stream1"}, "streams"),
    ("streams-int", {"streams": [1]}, "streams"),
    ("streams-illegal", {"streams": ["bad/stream"]}, "stream"),
]


@pytest.mark.parametrize(
    ("case", "overrides", "named"), BAD_CONFIGURATIONS, ids=[c[0] for c in BAD_CONFIGURATIONS]
)
def test_create_service_with_config_rejects_bad_configuration(
    library: Library, data_source: str, case: str, overrides: dict[str, Any], named: str
) -> None:
    configuration = live_configuration(data_source)
    for name, value in overrides.items():
        setattr(configuration, name, value)

    result = library.api.get_reading_packet_api().create_service_with_config(configuration)

    assert not result.success
    assert result.data is None
    assert named in result.error_message


@pytest.mark.parametrize("config", [None, "config", {"data_source": "x"}])
def test_create_service_with_config_rejects_a_non_configuration(
    library: Library, config: Any
) -> None:
    result = library.api.get_reading_packet_api().create_service_with_config(config)

    assert not result.success
    assert "config" in result.error_message


BAD_CREATE = [
    ("ds-empty", ("", "{key}"), "data_source"),
    ("ds-int", (5, "{key}"), "data_source"),
    ("ds-illegal", ("no spaces allowed", "{key}"), "data_source"),
    ("key-none", ("{ds}", None), "session_key"),
    ("key-empty", ("{ds}", ""), "session_key"),
    ("key-int", ("{ds}", 17), "session_key"),
]


@pytest.mark.parametrize(("case", "arguments", "named"), BAD_CREATE, ids=[c[0] for c in BAD_CREATE])
def test_create_service_rejects_bad_arguments(
    library: Library, data_source: str, case: str, arguments: tuple[Any, ...], named: str
) -> None:
    values = {"{ds}": data_source, "{key}": "33333333-3333-4333-8333-333333333333"}
    resolved = [values.get(a, a) if isinstance(a, str) else a for a in arguments]

    result = library.api.get_reading_packet_api().create_service(*resolved)

    assert not result.success
    assert named in result.error_message


@pytest.mark.parametrize("handler", [None, object(), "handler"])
def test_set_handler_rejects_a_non_handler(
    library: Library, data_source: str, handler: Any
) -> None:
    reader = library.reader(live_configuration(data_source))

    with pytest.raises(TypeError, match="handler"):
        reader.set_handler(handler)
    reader.remove_handler(EventRecorder())  # removing an unknown handler does not raise


# completion and separation --------------------------------------------------------------------
def test_a_session_ended_without_end_of_session_packets_completes_at_its_end_offsets(
    library_factory: LibraryFactory, data_source: str
) -> None:
    """The recorded end offsets complete the streams, not the idle timeout."""
    reading = library_factory()
    configuration = live_configuration(data_source, timeout_seconds=120)
    configuration.raise_exception_on_timeout = True
    reader, recorder = start_reader(reading, configuration)
    writing = library_factory()
    sessions, writer = writing.session_service(), writing.writer_service()
    key = create_session(sessions, data_source).session_key
    written = write_stream_packets(writer, data_source, key, ["", "stream1"], 5)

    assert sessions.end_session(data_source, key).success  # no EndOfSession packets on streams

    recorder.wait_completed(key)
    reader.stop()  # no TimeoutError: nothing timed out
    assert recorder.packets_by_stream(key) == expected_by_stream(written)
    assert_event_order(recorder.session_journal(key), ["", "stream1"])


def test_interleaved_sessions_are_separated_by_session_key(
    library_factory: LibraryFactory, data_source: str
) -> None:
    writing = library_factory()
    sessions, writer = writing.session_service(), writing.writer_service()
    first = create_session(sessions, data_source, "first").session_key
    second = create_session(sessions, data_source, "second").session_key
    written: dict[str, dict[str, list[Any]]] = {first: {}, second: {}}
    for index in range(10):
        for key in (first, second):
            for stream, packets in write_stream_packets(
                writer, data_source, key, ["", "stream1"], 1, first_id=index
            ).items():
                written[key].setdefault(stream, []).extend(packets)
    for key in (first, second):
        assert sessions.end_session(data_source, key).success

    reader, recorder = start_reader(
        library_factory(), historic_configuration(data_source, session_key=first)
    )
    recorder.wait_completed(first)
    reader.stop()

    assert recorder.packets_by_stream(first) == expected_by_stream(written[first])
    assert recorder.session_journal(second) == []


def test_essential_packets_and_format_definitions_are_delivered_as_written(
    library_factory: LibraryFactory, data_source: str
) -> None:
    """Essential packets come once (from their own stream, not the essentials copy); data format
    definitions written during the session (key "") are not session records."""
    reader, recorder = start_reader(library_factory(), live_configuration(data_source))
    writing = library_factory()
    sessions, writer = writing.session_service(), writing.writer_service()
    formats = writing.format_service()
    key = create_session(sessions, data_source).session_key
    stream_packets: dict[str, list[Any]] = {"": [], "stream1": []}
    for stream in stream_packets:
        stream_packets[stream].append(new_session_packet(data_source, key))
        config = packet("Configuration", key, b"", essential=True, packet_id=7)
        stream_packets[stream].append(config)
        for data in stream_packets[stream][-2:]:
            assert writer.write_data(data_source, stream, key, data).success
    assert formats.get_parameter_data_format_id(data_source, ["mid:session"]).success
    after = marker_packet(key, "after the definition")
    assert writer.write_data(data_source, "", key, after).success
    stream_packets[""].append(after)
    end_session(sessions, writer, data_source, key, list(stream_packets), stream_packets)

    recorder.wait_completed(key)
    reader.stop()
    assert recorder.packets_by_stream(key) == expected_by_stream(stream_packets)


def test_session_association_info_updated(
    library_factory: LibraryFactory, data_source: str
) -> None:
    reader, recorder = start_reader(library_factory(), live_configuration(data_source))
    writing = library_factory()
    sessions, writer = writing.session_service(), writing.writer_service()
    associate = create_session(sessions, data_source, "associate").session_key
    written = write_session(sessions, writer, data_source, identifier="main", count=1, end=False)
    wait_for(lambda: recorder.entries("session_started", written.session_key), message="reading")

    assert sessions.add_associate_session(data_source, written.session_key, associate).success
    detected = wait_for(
        lambda: recorder.entries("association", written.session_key), message="association"
    )
    end_session(sessions, writer, data_source, written.session_key, [""])
    recorder.wait_completed(written.session_key)
    reader.stop()

    info = detected[0][2]
    assert info.main_session_info.associate_session_keys == [associate]
    assert info.associate_session_info.session_key == associate


def test_live_reader_keeps_waiting_for_sessions_beyond_its_timeout(
    library_factory: LibraryFactory, data_source: str
) -> None:
    """The idle timeout applies to sessions being read, not to the wait for the next one."""
    reading = library_factory()
    configuration = live_configuration(data_source, timeout_seconds=3)
    configuration.raise_exception_on_timeout = True
    writing = library_factory()
    writing.writer_service()  # connected before the reader starts waiting
    reader, recorder = start_reader(reading, configuration)
    time.sleep(4)

    written = write_session(
        writing.session_service(), writing.writer_service(), data_source, count=2
    )

    recorder.wait_completed(written.session_key)
    reader.stop()  # no TimeoutError
    assert recorder.packets_by_stream(written.session_key) == expected_by_stream(written.packets)


def test_a_reader_without_handler_warns_after_its_timeout(
    library_factory: LibraryFactory, data_source: str
) -> None:
    reading = library_factory()
    reader = reading.reader(live_configuration(data_source, timeout_seconds=1))
    reader.start()

    wait_for(lambda: reading.logger.find("set_handler"), message="no-handler warning")
    reader.stop()


def test_partition_base_unmapped_stream_reads_as_the_main_stream(
    library_factory: LibraryFactory, data_source: str
) -> None:
    reader, recorder = start_reader(
        library_factory(PARTITION_BASE, partition_mappings=MAPPINGS),
        live_configuration(data_source),
    )
    writing = library_factory(PARTITION_BASE, partition_mappings=MAPPINGS)
    sessions, writer = writing.session_service(), writing.writer_service()
    key = create_session(sessions, data_source).session_key
    main = write_stream_packets(writer, data_source, key, [""], 2)[""]
    unmapped = write_stream_packets(writer, data_source, key, ["unmapped"], 2, first_id=10)[
        "unmapped"
    ]
    mapped = write_stream_packets(writer, data_source, key, ["stream1"], 2, first_id=20)["stream1"]
    end_session(sessions, writer, data_source, key, ["", "stream1"])

    recorder.wait_completed(key)
    reader.stop()
    by_stream = recorder.packets_by_stream(key)
    assert set(by_stream) == {"", "stream1"}
    assert by_stream[""][:4] == [p.data for p in main + unmapped]
    assert by_stream["stream1"][:2] == [p.data for p in mapped]


def test_live_reader_reads_concurrent_sessions_each_exactly_once(
    library_factory: LibraryFactory, data_source: str
) -> None:
    reader, recorder = start_reader(library_factory(), live_configuration(data_source))
    results: dict[int, Any] = {}
    errors: list[BaseException] = []

    def write(index: int) -> None:
        try:
            writing = library_factory()
            results[index] = write_session(
                writing.session_service(),
                writing.writer_service(),
                data_source,
                streams=["", "stream1"],
                count=40,
            )
        except BaseException as exc:  # reported by the main thread
            errors.append(exc)

    threads = [threading.Thread(target=write, args=(i,)) for i in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(120)

    assert errors == []
    for written in results.values():
        recorder.wait_completed(written.session_key, timeout=60)
    reader.stop()
    for written in results.values():
        assert recorder.packets_by_stream(written.session_key) == expected_by_stream(
            written.packets
        )
        assert_event_order(recorder.session_journal(written.session_key), ["", "stream1"])


def test_historic_reader_delivers_records_a_late_writer_left_past_the_end_offsets(
    library_factory: LibraryFactory, data_source: str, transport: Transport
) -> None:
    """A C# writer records end offsets before flushing; its trailing records that
    were stored when the end became known still belong to the session."""
    writing = library_factory()
    sessions, writer = writing.session_service(), writing.writer_service()
    key = create_session(sessions, data_source).session_key
    written = write_stream_packets(writer, data_source, key, [""], 3)[""]
    assert sessions.end_session(data_source, key).success  # no EndOfSession packet on the stream
    late = [marker_packet(key, f"late-{i}", 50 + i) for i in range(2)]
    for data in late:
        transport.produce(data_source, 0, key.encode(), data.data)
    transport.flush(10)

    reader, recorder = start_reader(
        library_factory(), historic_configuration(data_source, session_key=key)
    )
    recorder.wait_completed(key)
    reader.stop()

    assert recorder.packets_by_stream(key) == {"": [p.data for p in written + late]}


def test_a_raising_event_subscriber_does_not_stop_reading(
    library_factory: LibraryFactory, data_source: str
) -> None:
    reading = library_factory()
    reader = reading.reader(live_configuration(data_source))

    def explode(sender: object, info: object) -> None:
        raise RuntimeError("subscriber exploded on purpose")

    reader.stream_reading_started.subscribe(explode)
    reader.session_reading_started.subscribe(explode)
    recorder = EventRecorder().attach(reader)
    reader.start()
    reader.set_handler(recorder)
    writing = library_factory()

    written = write_session(
        writing.session_service(),
        writing.writer_service(),
        data_source,
        streams=["", "stream1"],
        count=3,
    )

    recorder.wait_completed(written.session_key)
    reader.stop()
    assert recorder.packets_by_stream(written.session_key) == expected_by_stream(written.packets)


def test_a_session_key_of_another_data_source_is_not_read(
    library_factory: LibraryFactory, data_source: str
) -> None:
    """modules §5.2: only sessions of the configured data source, even when a key is given."""
    writing = library_factory()
    written = write_session(
        writing.session_service(), writing.writer_service(), data_source + "_other", count=2
    )
    reading = library_factory()
    configuration = historic_configuration(
        data_source, session_key=written.session_key, timeout_seconds=1
    )

    reader, recorder = start_reader(reading, configuration)

    wait_for(lambda: reading.logger.find(written.session_key), message="timeout warning")
    reader.stop()
    assert recorder.journal == []


def test_session_info_updated_never_comes_before_session_reading_started(
    library_factory: LibraryFactory, data_source: str
) -> None:
    reader, recorder = start_reader(library_factory(), live_configuration(data_source))
    writing = library_factory()
    sessions, writer = writing.session_service(), writing.writer_service()
    key = create_session(sessions, data_source).session_key
    time.sleep(1.0)  # the reader has picked the session up, but no packet exists yet

    assert sessions.update_session_details(data_source, key, {"Phase": "before data"}).success
    time.sleep(1.0)
    assert writer.write_data(data_source, "", key, new_session_packet(data_source, key)).success
    wait_for(lambda: recorder.entries("session_started", key), message="reading")
    assert sessions.update_session_details(data_source, key, {"Phase": "during"}).success
    wait_for(lambda: recorder.entries("info_updated", key), message="update during reading")
    end_session(sessions, writer, data_source, key, [""])
    recorder.wait_completed(key)
    reader.stop()

    kinds = [entry[0] for entry in recorder.session_journal(key)]
    assert kinds[0] == "session_started", kinds
    assert kinds[-1] == "session_completed", kinds


def test_a_reader_behind_its_backlog_does_not_time_streams_out(
    library_factory: LibraryFactory, data_source: str
) -> None:
    """A slow handler leaves records waiting in the log: the stream is not idle, so nothing may be
    completed early (and nothing lost) by the idle timeout, which is shorter than the backlog."""
    reading = library_factory()
    configuration = live_configuration(data_source, timeout_seconds=2)
    configuration.raise_exception_on_timeout = True
    reader = reading.reader(configuration)
    recorder = EventRecorder(delay_s=0.01).attach(reader)
    reader.start()
    reader.set_handler(recorder)
    writing = library_factory()
    sessions, writer = writing.session_service(), writing.writer_service()
    key = create_session(sessions, data_source).session_key
    written: dict[str, list[Any]] = {"": [], "stream1": []}
    for stream, packets in written.items():
        packets.append(new_session_packet(data_source, key))
        assert writer.write_data(data_source, stream, key, packets[0]).success
    wait_for(lambda: len(recorder.entries("stream_started", key)) == 2, message="both streams")

    for stream in written:  # a backlog of ~3 s of handling per stream
        written[stream].extend(
            write_stream_packets(writer, data_source, key, [stream], 300)[stream]
        )
    end_session(sessions, writer, data_source, key, list(written), written)

    recorder.wait_completed(key, timeout=60)
    reader.stop()  # no TimeoutError: no stream was idle
    assert recorder.packets_by_stream(key) == expected_by_stream(written)
    assert_event_order(recorder.session_journal(key), ["", "stream1"])

"""Packet writing through the official API, on both transports."""

from __future__ import annotations

from typing import Any

import pytest

from ma_dataplatforms_streaming_support_library.contracts.packet_writing.info_type import InfoType
from ma_dataplatforms_streaming_support_library.contracts.packet_writing.packet_bytes import (
    PacketBytes,
)
from ma_dataplatforms_streaming_support_library.contracts.shared.stream_api_configuration import (
    StreamingApiConfiguration,
)
from ma_dataplatforms_streaming_support_library.core.base.support_library_bootstrapper import (
    SupportLibraryBootstrapper,
)
from ma_dataplatforms_streaming_support_library.protos import open_data_pb2
from ma_dataplatforms_streaming_support_library.transport import (
    BROKER_ENVIRONMENT_VARIABLE,
    Record,
    Transport,
)

from .conftest import (
    MAPPINGS,
    PARTITION_BASE,
    TOPIC_BASE,
    Library,
    LibraryFactory,
    RecordingLogger,
    create_session,
    historic_configuration,
    marker_packet,
    packet,
    read_all,
    session_info_packets,
    start_reader,
)


def records_by_place(
    transport: Transport, topics: list[str]
) -> dict[tuple[str, int], list[Record]]:
    places: dict[tuple[str, int], list[Record]] = {}
    for topic in topics:
        for record in read_all(transport, topic):
            places.setdefault((record.topic, record.partition), []).append(record)
    return places


def values(records: list[Record]) -> list[bytes]:
    return [record.value for record in records]


# routing --------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("strategy", "expected"),
    [
        (
            TOPIC_BASE,
            {
                "": ("{ds}", 0),
                "stream1": ("{ds}.stream1", 0),
                "stream2": ("{ds}.stream2", 0),
                "unmapped": ("{ds}.unmapped", 0),
            },
        ),
        (
            PARTITION_BASE,
            {
                "": ("{ds}", 0),
                "stream1": ("{ds}", 1),
                "stream2": ("{ds}", 2),
                "unmapped": ("{ds}", 0),  # the Stream API merges unmapped streams into the main one
            },
        ),
    ],
    ids=["topic", "partition"],
)
def test_packets_land_at_the_stream_topic_partition_and_key(
    library_factory: LibraryFactory,
    data_source: str,
    transport: Transport,
    strategy: Any,
    expected: dict[str, tuple[str, int]],
) -> None:
    library = library_factory(strategy, partition_mappings=MAPPINGS)
    sessions = library.session_service()
    writer = library.writer_service()
    key = create_session(sessions, data_source).session_key
    written: dict[str, list[bytes]] = {}
    for stream in expected:
        for index in range(3):
            data = marker_packet(key, f"{stream}-{index}", index)
            assert writer.write_data(data_source, stream, key, data).success
            written.setdefault(stream, []).append(data.data)
    assert sessions.end_session(data_source, key).success  # flushes before recording end offsets

    topics = sorted({place.format(ds=data_source) for place, _ in expected.values()})
    places = records_by_place(transport, topics)
    wanted: dict[tuple[str, int], list[bytes]] = {}
    for stream, (topic, partition) in expected.items():
        wanted.setdefault((topic.format(ds=data_source), partition), []).extend(written[stream])
    for place, data in wanted.items():
        records = places.get(place, [])
        assert sorted(values(records)) == sorted(data), place  # bytes preserved exactly
        assert {record.key for record in records} == {key.encode()}, place
    for place, records in places.items():
        if place not in wanted:
            assert records == [], place
    if strategy == PARTITION_BASE:
        # Within one partition the log keeps write order.
        main = values(places[(data_source, 0)])
        assert [v for v in main if v in written[""]] == written[""]
        assert [v for v in main if v in written["unmapped"]] == written["unmapped"]


def test_a_packet_naming_another_session_is_refused_and_not_written(
    library: Library, data_source: str, transport: Transport
) -> None:
    """Readers find a session's packets by the record key (the session_key argument): a packet
    whose envelope names another session would be read as the wrong session's, so it is refused."""
    sessions = library.session_service()
    writer = library.writer_service()
    key = create_session(sessions, data_source).session_key
    data = marker_packet("some-other-key", "mismatch")

    result = writer.write_data(data_source, "", key, data)
    assert not result.success
    assert "names session 'some-other-key'" in result.error_message
    assert writer.write_data(data_source, "", key, marker_packet(key, "matching")).success
    assert sessions.end_session(data_source, key).success

    assert not [r for r in read_all(transport, data_source) if r.value == data.data]


@pytest.mark.parametrize("strategy", [TOPIC_BASE, PARTITION_BASE], ids=["topic", "partition"])
def test_essential_packets_are_also_written_to_the_essentials_topic(
    library_factory: LibraryFactory, data_source: str, transport: Transport, strategy: Any
) -> None:
    library = library_factory(strategy, partition_mappings=MAPPINGS)
    sessions = library.session_service()
    writer = library.writer_service()
    key = create_session(sessions, data_source).session_key
    essential = packet("Configuration", key, b"\x0a\x03cfg", essential=True)
    ordinary = marker_packet(key, "ordinary")

    assert writer.write_data(data_source, "stream1", key, essential).success
    assert writer.write_data(data_source, "stream1", key, ordinary).success
    assert sessions.end_session(data_source, key).success

    essentials = read_all(transport, f"{data_source}_essential")
    assert [(r.value, r.key) for r in essentials] == [(essential.data, key.encode())]
    stream_place = (
        (f"{data_source}.stream1", 0)
        if strategy == TOPIC_BASE
        else (data_source, MAPPINGS["stream1"])
    )
    topic, partition = stream_place
    own = [r for r in read_all(transport, topic) if r.partition == partition]
    assert values(own) == [essential.data, ordinary.data]


def test_write_info_goes_to_session_info_keyed_by_the_packet_session_key(
    library: Library, data_source: str, transport: Transport
) -> None:
    sessions = library.session_service()
    writer = library.writer_service()
    key = create_session(sessions, data_source).session_key
    content = open_data_pb2.SessionInfoPacket(
        data_source=data_source, identifier="from write_info", details={"Lap": "3"}
    ).SerializeToString()
    info = packet("SessionInfo", key, content)

    result = writer.write_info(info, InfoType.SESSION_INFO)

    assert result.success, result.error_message
    assert writer.write_info(info).success  # default info type
    writer.stop()  # flushes
    records = session_info_packets(transport, key)
    assert [record.value for record, _ in records][1:] == [info.data, info.data]
    # The session services apply it like any SessionInfo update.
    got = sessions.get_session_info(data_source, key)
    assert got.data is not None
    assert got.data.identifier == "from write_info"
    assert got.data.details == {"Lap": "3"}


def test_bytes_are_preserved_exactly_including_unknown_fields(
    library: Library, data_source: str, transport: Transport
) -> None:
    sessions = library.session_service()
    writer = library.writer_service()
    key = create_session(sessions, data_source).session_key
    # A Packet followed by an unknown field (number 99, varint): must be stored byte for byte.
    data = PacketBytes(marker_packet(key, "x").data + b"\x98\x06\x01")

    assert writer.write_data(data_source, "", key, data).success
    writer.stop()  # flushes

    assert data.data in values(read_all(transport, data_source))


def test_stop_flushes_so_a_reader_sees_everything_written_before(
    library_factory: LibraryFactory, data_source: str, transport: Transport
) -> None:
    library = library_factory()
    sessions = library.session_service()
    writer = library.writer_service()
    key = create_session(sessions, data_source).session_key
    written = [marker_packet(key, f"m{i}", i) for i in range(50)]
    for data in written:
        assert writer.write_data(data_source, "", key, data).success

    writer.stop()

    # Visible at once through an independent connection to the same store/broker.
    assert [d.data for d in written] == [
        r.value for r in read_all(transport, data_source) if r.key == key.encode()
    ]
    assert sessions.end_session(data_source, key).success
    reader, recorder = start_reader(
        library_factory(), historic_configuration(data_source, session_key=key)
    )
    recorder.wait_completed(key)
    reader.stop()
    assert [dto.packet_bytes.data for dto in recorder.packets(key)] == [d.data for d in written]


def test_write_info_with_system_status_type_still_goes_to_session_info(
    library: Library, data_source: str, transport: Transport
) -> None:
    sessions = library.session_service()
    writer = library.writer_service()
    key = create_session(sessions, data_source).session_key
    status = packet("SystemStatus", key, b"")

    assert writer.write_info(status, InfoType.SYSTEM_STATUS).success
    writer.stop()  # flushes

    assert status.data in [record.value for record, _ in session_info_packets(transport, key)]


# bad input ------------------------------------------------------------------------------------
GOOD = "{good}"
BAD_WRITES = [
    ("ds-none", (None, "", "{key}", GOOD), "data_source"),
    ("ds-int", (3, "", "{key}", GOOD), "data_source"),
    ("ds-empty", ("", "", "{key}", GOOD), "data_source"),
    ("ds-illegal", ("bad ds!", "", "{key}", GOOD), "data_source"),
    ("ds-too-long", ("d" * 250, "", "{key}", GOOD), "data_source"),
    ("stream-none", ("{ds}", None, "{key}", GOOD), "stream"),
    ("stream-int", ("{ds}", 1, "{key}", GOOD), "stream"),
    ("stream-illegal", ("{ds}", "tele/metry", "{key}", GOOD), "stream"),
    ("stream-too-long", ("{ds}", "s" * 240, "{key}", GOOD), "stream"),
    ("key-none", ("{ds}", "", None, GOOD), "session_key"),
    ("key-int", ("{ds}", "", 42, GOOD), "session_key"),
    ("key-empty", ("{ds}", "", "", GOOD), "session_key"),
    ("key-unknown", ("{ds}", "", "22222222-2222-4222-8222-222222222222", GOOD), "2222"),
    ("key-other-ds", ("{ds}_other", "", "{key}", GOOD), "data_source"),
    ("packet-none", ("{ds}", "", "{key}", None), "packet_bytes"),
    ("packet-raw-bytes", ("{ds}", "", "{key}", b"\x0a\x01x"), "packet_bytes"),
    ("packet-random-bytes", ("{ds}", "", "{key}", "{random}"), "packet_bytes"),
    ("packet-empty-type", ("{ds}", "", "{key}", "{untyped}"), "packet_bytes"),
    ("packet-empty", ("{ds}", "", "{key}", "{empty}"), "packet_bytes"),
]


@pytest.mark.parametrize(("case", "arguments", "named"), BAD_WRITES, ids=[c[0] for c in BAD_WRITES])
def test_write_data_rejects_bad_input(
    library: Library,
    data_source: str,
    transport: Transport,
    case: str,
    arguments: tuple[Any, ...],
    named: str,
) -> None:
    sessions = library.session_service()
    writer = library.writer_service()
    key = create_session(sessions, data_source).session_key
    values: dict[str, Any] = {
        "{ds}": data_source,
        "{ds}_other": data_source + "_other",
        "{key}": key,
        GOOD: marker_packet(key, "good"),
        "{random}": PacketBytes(bytes(range(255, 0, -7)) * 3),
        "{untyped}": packet("", key, b"content"),
        "{empty}": PacketBytes(b""),
    }
    create_session(sessions, data_source + "_other")
    resolved = [values.get(a, a) if isinstance(a, str) else a for a in arguments]

    result = writer.write_data(*resolved)

    assert not result.success, result
    assert named in result.error_message
    assert sessions.end_session(data_source, key).success
    assert [r for r in read_all(transport, data_source) if r.key == key.encode()] == []


def test_write_data_to_an_ended_session_fails(
    library: Library, data_source: str, transport: Transport
) -> None:
    sessions = library.session_service()
    writer = library.writer_service()
    key = create_session(sessions, data_source).session_key
    assert sessions.end_session(data_source, key).success

    result = writer.write_data(data_source, "", key, marker_packet(key, "late"))

    assert not result.success
    assert key in result.error_message and "ended" in result.error_message
    writer.stop()
    assert [r for r in read_all(transport, data_source) if r.key == key.encode()] == []


BAD_INFOS = [
    ("packet-none", (None,), "packet_bytes"),
    ("packet-raw-bytes", (b"\x0a\x01x",), "packet_bytes"),
    ("packet-random-bytes", ("{random}",), "packet_bytes"),
    ("packet-empty-type", ("{untyped}",), "packet_bytes"),
    ("packet-no-session-key", ("{keyless}",), "session_key"),
    ("info-type-unknown", (GOOD, 99), "info_type"),
    ("info-type-str", (GOOD, "SESSION_INFO"), "info_type"),
    ("info-type-none", (GOOD, None), "info_type"),
]


@pytest.mark.parametrize(("case", "arguments", "named"), BAD_INFOS, ids=[c[0] for c in BAD_INFOS])
def test_write_info_rejects_bad_input(
    library: Library,
    data_source: str,
    transport: Transport,
    case: str,
    arguments: tuple[Any, ...],
    named: str,
) -> None:
    sessions = library.session_service()
    writer = library.writer_service()
    key = create_session(sessions, data_source).session_key
    values: dict[str, Any] = {
        GOOD: packet("SessionInfo", key, b""),
        "{random}": PacketBytes(bytes(range(255, 0, -7)) * 3),
        "{untyped}": packet("", key, b"content"),
        "{keyless}": packet("SessionInfo", "", b""),
    }
    resolved = [values.get(a, a) if isinstance(a, str) else a for a in arguments]
    before = transport.end_offsets("SessionInfo")

    result = writer.write_info(*resolved)

    assert not result.success, result
    assert named in result.error_message
    writer.stop()
    assert transport.end_offsets("SessionInfo") == before


def test_packet_bytes_rejects_non_bytes() -> None:
    with pytest.raises(TypeError, match="bytes"):
        PacketBytes("not bytes")  # type: ignore[arg-type]


def test_a_writer_writes_to_a_session_created_by_another_library(
    library_factory: LibraryFactory, data_source: str, transport: Transport
) -> None:
    sessions = library_factory().session_service()
    key = create_session(sessions, data_source).session_key
    writer = library_factory().writer_service()
    data = marker_packet(key, "from elsewhere")

    result = writer.write_data(data_source, "", key, data)

    assert result.success, result.error_message
    writer.stop()
    assert data.data in [r.value for r in read_all(transport, data_source) if r.key == key.encode()]


def test_a_packet_too_large_for_the_broker_fails_and_is_not_reported_as_written(
    library: Library, data_source: str, transport: Transport
) -> None:
    sessions = library.session_service()
    writer = library.writer_service()
    key = create_session(sessions, data_source).session_key
    huge = packet("Marker", key, b"\x00" * 1_500_000)

    result = writer.write_data(data_source, "", key, huge)

    assert not result.success
    assert result.error_message
    small = marker_packet(key, "still works")
    assert writer.write_data(data_source, "", key, small).success
    writer.stop()
    assert [r.value for r in read_all(transport, data_source) if r.key == key.encode()] == [
        small.data
    ]


# the C# call shapes and options ---------------------------------------------------------------
def test_write_data_and_write_info_take_a_protobuf_packet(
    library: Library, data_source: str, transport: Transport
) -> None:
    sessions = library.session_service()
    writer = library.writer_service()
    key = create_session(sessions, data_source).session_key
    data = open_data_pb2.Packet.FromString(marker_packet(key, "as a Packet").data)
    info = open_data_pb2.Packet(type="SessionInfo", session_key=key, content=b"")

    assert writer.write_data(data_source, "", key, data).success
    assert writer.write_info(info).success
    assert sessions.end_session(data_source, key).success

    written = [r.value for r in read_all(transport, data_source) if r.key == key.encode()]
    assert written == [data.SerializeToString()]
    infos = [record.value for record, _ in session_info_packets(transport, key)]
    assert info.SerializeToString() in infos


def test_a_protobuf_packet_without_a_type_is_refused(library: Library, data_source: str) -> None:
    sessions = library.session_service()
    writer = library.writer_service()
    key = create_session(sessions, data_source).session_key

    result = writer.write_data(data_source, "", key, open_data_pb2.Packet(session_key=key))

    assert not result.success and "packet_bytes" in result.error_message


def test_without_session_management_writes_are_not_checked_against_sessions(
    broker_list: str, data_source: str, transport: Transport, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv(BROKER_ENVIRONMENT_VARIABLE, raising=False)
    configuration = StreamingApiConfiguration(
        broker_list, TOPIC_BASE, [], 10, integrate_session_management=False
    )
    api = SupportLibraryBootstrapper.bootstrap(configuration, RecordingLogger()).create()
    api.start()
    try:
        refused = api.get_session_manager_api().create_service()
        writer = api.get_writing_packet_api().create_service().data
        writer.start()
        key = "33333333-3333-4333-8333-333333333333"
        written = writer.write_data(data_source, "", key, marker_packet(key, "unchecked"))
        writer.stop()
    finally:
        api.stop()

    assert not refused.success and "integrate_session_management" in refused.error_message
    assert written.success, written.error_message
    assert [r.key for r in read_all(transport, data_source)] == [key.encode()]

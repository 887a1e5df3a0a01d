"""Session management through the official API, on both transports."""

from __future__ import annotations

import datetime
import threading
import uuid
from typing import Any

import pytest

from ma_dataplatforms_streaming_support_library.contracts.packet_writing.packet_bytes import (
    PacketBytes,
)
from ma_dataplatforms_streaming_support_library.contracts.session_management.session_creation_info import (
    SessionCreationInfo,
)
from ma_dataplatforms_streaming_support_library.contracts.session_management.session_detail import (
    SessionDetail,
)
from ma_dataplatforms_streaming_support_library.contracts.session_management.session_info import (
    SessionInfo,
)
from ma_dataplatforms_streaming_support_library.protos import open_data_pb2
from ma_dataplatforms_streaming_support_library.transport import Transport

from .conftest import (
    MAPPINGS,
    PARTITION_BASE,
    TOPIC_BASE,
    Library,
    LibraryFactory,
    create_session,
    marker_packet,
    session_info_packets,
    wait_for,
    write_stream_packets,
)

FIELDS = (
    "session_key",
    "data_source",
    "identifier",
    "type",
    "version",
    "utc_offset",
    "details",
    "associate_session_keys",
)


def fields(info: SessionInfo) -> dict[str, Any]:
    return {name: getattr(info, name) for name in FIELDS}


class SessionEvents:
    """Records the four session-service events as ``(event, session_key, args)``."""

    def __init__(self, service: Any) -> None:
        self.seen: list[tuple[str, str, Any]] = []
        self._lock = threading.Lock()
        service.live_session_started.subscribe(self.on_started)
        service.live_session_ended.subscribe(self.on_ended)
        service.live_session_state_change.subscribe(self.on_changed)
        service.new_association_detected.subscribe(self.on_association)

    def _add(self, name: str, key: str, args: Any) -> None:
        with self._lock:
            self.seen.append((name, key, args))

    def on_started(self, sender: object, info: SessionInfo) -> None:
        self._add("started", info.session_key, info)

    def on_ended(self, sender: object, info: SessionInfo) -> None:
        self._add("ended", info.session_key, info)

    def on_changed(self, sender: object, info: SessionInfo) -> None:
        self._add("changed", info.session_key, info)

    def on_association(self, sender: object, info: Any) -> None:
        self._add("association", info.main_session_info.session_key, info)

    def of(self, name: str, key: str) -> list[Any]:
        with self._lock:
            return [args for event, k, args in self.seen if event == name and k == key]


# create / get ---------------------------------------------------------------------------------
def test_create_then_get_session_info_returns_identical_fields(
    library: Library, data_source: str
) -> None:
    sessions = library.session_service()
    offset = datetime.timedelta(hours=5, minutes=30)
    created = sessions.create_new_session(
        SessionCreationInfo(
            data_source,
            "Qualifying 1",
            "VirtualSession",
            7,
            offset,
            [SessionDetail("Driver", "A"), SessionDetail("Track", "B")],
            [],
        )
    )
    assert created.success, created.error_message
    info = created.data
    assert info is not None
    assert (info.data_source, info.identifier, info.type, info.version) == (
        data_source,
        "Qualifying 1",
        "VirtualSession",
        7,
    )
    assert info.utc_offset == offset
    assert info.details == {"Driver": "A", "Track": "B"}
    assert info.associate_session_keys == []
    assert info.historical is False

    got = sessions.get_session_info(data_source, info.session_key)

    assert got.success, got.error_message
    assert got.data is not None
    assert fields(got.data) == fields(info)
    assert got.data.historical is False


def test_session_key_is_a_lowercase_hyphenated_uuid4(library: Library, data_source: str) -> None:
    sessions = library.session_service()

    keys = [create_session(sessions, data_source).session_key for _ in range(3)]

    for key in keys:
        parsed = uuid.UUID(key)
        assert parsed.version == 4
        assert str(parsed) == key  # lowercase, hyphenated, no braces
    assert len(set(keys)) == 3


def test_created_session_reads_back_identically_in_another_library(
    library_factory: LibraryFactory, data_source: str
) -> None:
    writer_side = library_factory().session_service()
    info = create_session(
        writer_side,
        data_source,
        "Race",
        details={"Weather": "dry"},
        utc_offset=datetime.timedelta(hours=-4),
        version=3,
    )
    reader_side = library_factory().session_service()

    got = reader_side.get_session_info(data_source, info.session_key)

    assert got.success, got.error_message
    assert got.data is not None
    assert fields(got.data) == fields(info)


def test_get_all_sessions_includes_sessions_of_another_library(
    library_factory: LibraryFactory, data_source: str
) -> None:
    first = library_factory().session_service()
    before = create_session(first, data_source, "before")
    second = library_factory().session_service()  # started after `before` was created
    after = create_session(first, data_source, "after")  # created while `second` runs

    result = second.get_all_sessions()

    assert result.success, result.error_message
    assert isinstance(result.data, list)
    keys = [info.session_key for info in result.data]
    assert before.session_key in keys
    assert after.session_key in keys
    mine = [info for info in result.data if info.data_source == data_source]
    assert [info.identifier for info in mine] == ["before", "after"]  # creation order


# updates --------------------------------------------------------------------------------------
def test_update_identifier(library_factory: LibraryFactory, data_source: str) -> None:
    sessions = library_factory().session_service()
    info = create_session(sessions, data_source, "old name")

    result = sessions.update_identifier(data_source, info.session_key, "new name")

    assert result.success, result.error_message
    assert result.data is not None and result.data.identifier == "new name"
    other = library_factory().session_service().get_session_info(data_source, info.session_key)
    assert other.data is not None and other.data.identifier == "new name"


@pytest.mark.parametrize("as_list", [True, False], ids=["SessionDetail-list", "dict"])
def test_update_session_details_merges(library: Library, data_source: str, as_list: bool) -> None:
    sessions = library.session_service()
    info = create_session(sessions, data_source, details={"Created": "yes"})

    def details(**items: str) -> Any:
        return [SessionDetail(k, v) for k, v in items.items()] if as_list else dict(items)

    first = sessions.update_session_details(data_source, info.session_key, details(A="1"))
    second = sessions.update_session_details(data_source, info.session_key, details(A="2", B="3"))

    assert first.success and second.success, (first.error_message, second.error_message)
    assert first.data is not None and first.data.details == {"Created": "yes", "A": "1"}
    assert second.data is not None
    assert second.data.details == {"Created": "yes", "A": "2", "B": "3"}
    got = sessions.get_session_info(data_source, info.session_key)
    assert got.data is not None and got.data.details == {"Created": "yes", "A": "2", "B": "3"}


def test_add_associate_session_is_deduplicated(library: Library, data_source: str) -> None:
    sessions = library.session_service()
    main = create_session(sessions, data_source, "main")
    associate = create_session(sessions, data_source, "associate")

    first = sessions.add_associate_session(data_source, main.session_key, associate.session_key)
    second = sessions.add_associate_session(data_source, main.session_key, associate.session_key)

    assert first.success, first.error_message
    assert first.data is not None
    assert first.data.associate_session_keys == [associate.session_key]
    assert second.success, second.error_message
    assert second.data is not None
    assert second.data.associate_session_keys == [associate.session_key]
    got = sessions.get_session_info(data_source, main.session_key)
    assert got.data is not None and got.data.associate_session_keys == [associate.session_key]


def test_add_associate_session_with_unknown_associate_key_fails(
    library: Library, data_source: str
) -> None:
    sessions = library.session_service()
    main = create_session(sessions, data_source, "main")
    unknown = str(uuid.uuid4())

    result = sessions.add_associate_session(data_source, main.session_key, unknown)

    assert not result.success
    assert result.data is None
    assert unknown in result.error_message
    got = sessions.get_session_info(data_source, main.session_key)
    assert got.data is not None and got.data.associate_session_keys == []


# ending ---------------------------------------------------------------------------------------
def test_end_session_makes_it_historical(library: Library, data_source: str) -> None:
    sessions = library.session_service()
    info = create_session(sessions, data_source)

    result = sessions.end_session(data_source, info.session_key)

    assert result.success, result.error_message
    assert result.data is not None and result.data.historical is True
    got = sessions.get_session_info(data_source, info.session_key)
    assert got.data is not None and got.data.historical is True
    listed = {i.session_key: i for i in sessions.get_all_sessions().data or []}
    assert listed[info.session_key].historical is True


def test_end_session_twice_fails_and_writes_nothing(
    library: Library, data_source: str, transport: Transport
) -> None:
    sessions = library.session_service()
    info = create_session(sessions, data_source)
    assert sessions.end_session(data_source, info.session_key).success
    written_before = len(session_info_packets(transport, info.session_key))

    again = sessions.end_session(data_source, info.session_key)

    assert not again.success
    assert info.session_key in again.error_message
    assert "ended" in again.error_message
    assert len(session_info_packets(transport, info.session_key)) == written_before == 2
    got = sessions.get_session_info(data_source, info.session_key)
    assert got.data is not None and got.data.historical is True


# events ---------------------------------------------------------------------------------------
def test_live_session_started_fires_once_only_for_sessions_created_after_start(
    library_factory: LibraryFactory, data_source: str
) -> None:
    creator = library_factory().session_service()
    existing = create_session(creator, data_source, "existing")
    listener_library = library_factory()
    listener = listener_library.session_service(start=False)
    events = SessionEvents(listener)
    listener.start()

    from_other = create_session(creator, data_source, "from other library")
    own = create_session(listener, data_source, "own")
    sentinel = create_session(creator, data_source, "sentinel")
    # Events come in log order: once the sentinel's arrived, any duplicate would have too.
    wait_for(lambda: events.of("started", sentinel.session_key), message="sentinel started")

    assert events.of("started", existing.session_key) == []
    assert len(events.of("started", from_other.session_key)) == 1
    assert len(events.of("started", own.session_key)) == 1
    started = events.of("started", own.session_key)[0]
    assert started.identifier == "own" and started.historical is False


def test_live_session_ended_fires_once_with_historical_args(
    library_factory: LibraryFactory, data_source: str
) -> None:
    sessions = library_factory().session_service(start=False)
    events = SessionEvents(sessions)
    sessions.start()
    info = create_session(sessions, data_source)
    sentinel = create_session(sessions, data_source, "sentinel")

    assert sessions.end_session(data_source, info.session_key).success
    assert not sessions.end_session(data_source, info.session_key).success
    assert sessions.end_session(data_source, sentinel.session_key).success
    wait_for(lambda: events.of("ended", sentinel.session_key), message="sentinel ended")

    ended = events.of("ended", info.session_key)
    assert len(ended) == 1
    assert ended[0].historical is True


def test_new_association_detected(library_factory: LibraryFactory, data_source: str) -> None:
    creator = library_factory().session_service()
    watcher = library_factory().session_service(start=False)
    events = SessionEvents(watcher)
    watcher.start()
    main = create_session(creator, data_source, "main")
    associate = create_session(creator, data_source, "associate")

    assert creator.add_associate_session(data_source, main.session_key, associate.session_key)
    assert creator.add_associate_session(data_source, main.session_key, associate.session_key)
    sentinel = create_session(creator, data_source, "sentinel")
    wait_for(lambda: events.of("started", sentinel.session_key), message="sentinel started")

    detected = events.of("association", main.session_key)
    assert len(detected) == 1
    assert detected[0].main_session_info.session_key == main.session_key
    assert detected[0].main_session_info.associate_session_keys == [associate.session_key]
    assert detected[0].associate_session_info.session_key == associate.session_key
    assert detected[0].group == main.session_key  # a main session names its association group


def test_live_session_state_change_on_identifier_update(
    library_factory: LibraryFactory, data_source: str
) -> None:
    sessions = library_factory().session_service(start=False)
    events = SessionEvents(sessions)
    sessions.start()
    info = create_session(sessions, data_source, "before")

    assert sessions.update_identifier(data_source, info.session_key, "after").success

    changed = wait_for(lambda: events.of("changed", info.session_key), message="state change")
    assert changed[0].identifier == "after"


# on the wire ----------------------------------------------------------------------------------
def _offset_map(transport: Transport, entries: list[tuple[str, int]]) -> dict[str, int]:
    return {
        f"{topic}:{partition}": transport.end_offsets(topic).get(partition, 0)
        for topic, partition in entries
    }


@pytest.mark.parametrize("strategy", [TOPIC_BASE, PARTITION_BASE], ids=["topic", "partition"])
def test_new_session_and_end_of_session_records_on_the_wire(
    library_factory: LibraryFactory, data_source: str, transport: Transport, strategy: Any
) -> None:
    mappings = MAPPINGS if strategy == PARTITION_BASE else None
    library = library_factory(strategy, partition_mappings=mappings)
    sessions = library.session_service()
    writer = library.writer_service()
    streams = ["", "stream1", "stream2"]
    # An earlier session leaves records behind, so that start offsets are not all 0.
    earlier = create_session(sessions, data_source, "earlier")
    write_stream_packets(writer, data_source, earlier.session_key, streams, 3)
    essential = marker_packet(earlier.session_key, "essential", essential=True)
    assert writer.write_data(data_source, "", earlier.session_key, essential).success
    assert sessions.end_session(data_source, earlier.session_key).success

    if strategy == TOPIC_BASE:
        entries = [
            (data_source, 0),
            (f"{data_source}_essential", 0),
            (f"{data_source}.stream1", 0),
            (f"{data_source}.stream2", 0),
        ]
    else:
        entries = [
            (data_source, 0),
            (f"{data_source}_essential", 0),
            (data_source, 1),
            (data_source, 2),
        ]
    expected_start = _offset_map(transport, entries)
    assert expected_start[f"{data_source}:0"] > 0
    assert expected_start[f"{data_source}_essential:0"] > 0

    info = create_session(sessions, data_source, "on the wire")
    key = info.session_key
    write_stream_packets(writer, data_source, key, streams, 4)
    assert sessions.end_session(data_source, key).success
    expected_end = _offset_map(transport, entries)

    records = session_info_packets(transport, key)
    assert [envelope.type for _, envelope in records] == ["NewSession", "EndOfSession"]
    for record, envelope in records:
        assert record.topic == "SessionInfo"
        assert record.key == key.encode()
        assert envelope.session_key == key
    new_session = open_data_pb2.NewSessionPacket.FromString(records[0][1].content)
    assert new_session.data_source == data_source
    assert new_session.session_info.identifier == "on the wire"
    assert new_session.session_info.data_source == data_source
    assert dict(new_session.topic_partition_offsets) == expected_start
    end = open_data_pb2.EndOfSessionPacket.FromString(records[1][1].content)
    assert end.data_source == data_source
    assert dict(end.topic_partition_offsets) == expected_end
    for stream_entry in entries:
        name = f"{stream_entry[0]}:{stream_entry[1]}"
        if not name.startswith(f"{data_source}_essential"):
            assert expected_end[name] > expected_start[name], name


def test_update_writes_a_full_session_info_snapshot(
    library: Library, data_source: str, transport: Transport
) -> None:
    sessions = library.session_service()
    info = create_session(sessions, data_source, "snap", details={"A": "1"})

    assert sessions.update_session_details(data_source, info.session_key, {"B": "2"}).success

    records = session_info_packets(transport, info.session_key)
    assert [envelope.type for _, envelope in records] == ["NewSession", "SessionInfo"]
    snapshot = open_data_pb2.SessionInfoPacket.FromString(records[1][1].content)
    assert snapshot.data_source == data_source
    assert snapshot.identifier == "snap"
    assert dict(snapshot.details) == {"A": "1", "B": "2"}


# bad input ------------------------------------------------------------------------------------
LONG = "x" * 250
BAD_CREATION = [
    ("none", None, "session_creation_info"),
    ("dict", {"data_source": "x"}, "session_creation_info"),
    ("data_source-none", SessionCreationInfo(None), "data_source"),  # type: ignore[arg-type]
    ("data_source-int", SessionCreationInfo(5), "data_source"),  # type: ignore[arg-type]
    ("data_source-empty", SessionCreationInfo(""), "data_source"),
    ("data_source-illegal", SessionCreationInfo("bad name/with*chars"), "data_source"),
    ("data_source-too-long", SessionCreationInfo(LONG), "data_source"),
    ("identifier-int", SessionCreationInfo("ds", 5), "identifier"),  # type: ignore[arg-type]
    ("type-none", SessionCreationInfo("ds", "i", None), "type"),  # type: ignore[arg-type]
    ("version-negative", SessionCreationInfo("ds", "i", "Session", -1), "version"),
    ("version-str", SessionCreationInfo("ds", "i", "Session", "1"), "version"),  # type: ignore[arg-type]
    ("version-too-big", SessionCreationInfo("ds", "i", "Session", 2**32), "version"),
    ("utc_offset-int", SessionCreationInfo("ds", "i", "Session", 1, 3600), "utc_offset"),  # type: ignore[arg-type]
    (
        "associate_session_keys-int",
        SessionCreationInfo("ds", "i", "Session", 1, None, [], [5]),  # type: ignore[list-item]
        "associate_session_keys",
    ),
    (
        "associate_session_keys-str",
        SessionCreationInfo("ds", "i", "Session", 1, None, [], "abc"),  # type: ignore[arg-type]
        "associate_session_keys",
    ),
]


@pytest.mark.parametrize(
    ("case", "argument", "named"), BAD_CREATION, ids=[c[0] for c in BAD_CREATION]
)
def test_create_new_session_rejects_bad_input(
    library: Library, transport: Transport, case: str, argument: Any, named: str
) -> None:
    sessions = library.session_service()
    before = transport.end_offsets("SessionInfo")

    result = sessions.create_new_session(argument)

    assert not result.success
    assert result.data is None
    assert named in result.error_message
    assert transport.end_offsets("SessionInfo") == before  # nothing written


def test_session_creation_info_rejects_malformed_details() -> None:
    with pytest.raises(TypeError, match="details"):
        SessionCreationInfo("ds", "i", "Session", 1, None, ["not a detail"])


UNKNOWN_KEY = "11111111-1111-4111-8111-111111111111"
# (case, method, arguments with "{ds}"/"{key}" placeholders, the argument the message must name)
BAD_CALLS = [
    ("get_session_info-ds-none", "get_session_info", (None, "{key}"), "data_source"),
    ("get_session_info-ds-int", "get_session_info", (3, "{key}"), "data_source"),
    ("get_session_info-ds-empty", "get_session_info", ("", "{key}"), "data_source"),
    ("get_session_info-key-none", "get_session_info", ("{ds}", None), "session_key"),
    ("get_session_info-key-int", "get_session_info", ("{ds}", 7), "session_key"),
    ("get_session_info-key-unknown", "get_session_info", ("{ds}", UNKNOWN_KEY), UNKNOWN_KEY),
    ("get_session_info-other-ds", "get_session_info", ("{ds}_other", "{key}"), "data_source"),
    ("update_identifier-ds-none", "update_identifier", (None, "{key}", "n"), "data_source"),
    ("update_identifier-key-none", "update_identifier", ("{ds}", None, "n"), "session_key"),
    ("update_identifier-key-unknown", "update_identifier", ("{ds}", UNKNOWN_KEY, "n"), UNKNOWN_KEY),
    ("update_identifier-new-none", "update_identifier", ("{ds}", "{key}", None), "new_identifier"),
    ("update_identifier-new-int", "update_identifier", ("{ds}", "{key}", 4), "new_identifier"),
    ("details-ds-none", "update_session_details", (None, "{key}", {"a": "b"}), "data_source"),
    (
        "details-key-unknown",
        "update_session_details",
        ("{ds}", UNKNOWN_KEY, {"a": "b"}),
        UNKNOWN_KEY,
    ),
    ("details-none", "update_session_details", ("{ds}", "{key}", None), "session_details"),
    ("details-str", "update_session_details", ("{ds}", "{key}", "a=b"), "session_details"),
    ("details-int-items", "update_session_details", ("{ds}", "{key}", [1, 2]), "session_details"),
    ("details-int-value", "update_session_details", ("{ds}", "{key}", {"a": 1}), "session_details"),
    ("associate-ds-none", "add_associate_session", (None, "{key}", "{key2}"), "data_source"),
    ("associate-key-none", "add_associate_session", ("{ds}", None, "{key2}"), "session_key"),
    (
        "associate-key-unknown",
        "add_associate_session",
        ("{ds}", UNKNOWN_KEY, "{key2}"),
        UNKNOWN_KEY,
    ),
    ("associate-none", "add_associate_session", ("{ds}", "{key}", None), "adding_associate_key"),
    ("associate-int", "add_associate_session", ("{ds}", "{key}", 9), "adding_associate_key"),
    ("associate-self", "add_associate_session", ("{ds}", "{key}", "{key}"), "itself"),
    ("end-ds-none", "end_session", (None, "{key}"), "data_source"),
    ("end-ds-int", "end_session", (1.5, "{key}"), "data_source"),
    ("end-key-none", "end_session", ("{ds}", None), "session_key"),
    ("end-key-unknown", "end_session", ("{ds}", UNKNOWN_KEY), UNKNOWN_KEY),
    ("end-other-ds", "end_session", ("{ds}_other", "{key}"), "data_source"),
]


@pytest.mark.parametrize(
    ("case", "method", "arguments", "named"), BAD_CALLS, ids=[c[0] for c in BAD_CALLS]
)
def test_session_methods_reject_bad_input(
    library: Library,
    data_source: str,
    transport: Transport,
    case: str,
    method: str,
    arguments: tuple[Any, ...],
    named: str,
) -> None:
    sessions = library.session_service()
    main = create_session(sessions, data_source, "main")
    other = create_session(sessions, data_source, "other")
    values = {"{ds}": data_source, "{key}": main.session_key, "{key2}": other.session_key}
    values["{ds}_other"] = data_source + "_other"
    resolved = [values.get(a, a) if isinstance(a, str) else a for a in arguments]
    written = len(session_info_packets(transport, main.session_key))

    result = getattr(sessions, method)(*resolved)

    assert not result.success, result
    assert result.data is None
    assert named in result.error_message
    assert len(session_info_packets(transport, main.session_key)) == written
    got = sessions.get_session_info(data_source, main.session_key)
    assert got.data is not None and fields(got.data) == fields(main)


def packet_bytes(packet_type: str, key: str, content: bytes) -> bytes:
    return open_data_pb2.Packet(
        type=packet_type, session_key=key, content=content
    ).SerializeToString()


def test_a_corrupted_session_info_record_is_skipped(
    library_factory: LibraryFactory, data_source: str, transport: Transport
) -> None:
    sessions = library_factory().session_service()
    key = create_session(sessions, data_source, "before").session_key
    transport.produce("SessionInfo", None, key.encode(), b"\xff\xfe not a Packet \x00")
    transport.produce(
        "SessionInfo", None, key.encode(), packet_bytes("SessionInfo", key, b"\xff\xff")
    )
    transport.flush(10)

    after = create_session(sessions, data_source, "after")
    fresh = library_factory().session_service()

    listed = fresh.get_all_sessions()
    assert listed.success, listed.error_message
    mine = {i.session_key: i.identifier for i in listed.data or [] if i.data_source == data_source}
    assert mine == {key: "before", after.session_key: "after"}
    assert sessions.update_identifier(data_source, key, "renamed").success


def test_partial_session_info_never_clears_fields(library: Library, data_source: str) -> None:
    """Empty fields of an update never clear a value; details are only added."""
    sessions = library.session_service()
    writer = library.writer_service()
    info = create_session(sessions, data_source, "keep me", details={"A": "1"}, version=5)
    partial = open_data_pb2.SessionInfoPacket(data_source=data_source, details={"B": "2"})

    assert writer.write_info(
        PacketBytes(packet_bytes("SessionInfo", info.session_key, partial.SerializeToString()))
    ).success
    sessions.update_identifier(data_source, info.session_key, "")
    assert sessions.update_session_details(data_source, info.session_key, {}).success

    got = sessions.get_session_info(data_source, info.session_key)
    assert got.data is not None
    assert (got.data.identifier, got.data.type, got.data.version) == ("keep me", "Session", 5)
    assert got.data.details == {"A": "1", "B": "2"}


def test_utc_offset_defaults_to_the_local_offset(library: Library, data_source: str) -> None:
    sessions = library.session_service()
    local = datetime.datetime.now().astimezone().utcoffset()

    info = create_session(sessions, data_source)

    assert info.utc_offset == local
    assert isinstance(info.version, int) and info.version == 1
    assert info.type == "Session"

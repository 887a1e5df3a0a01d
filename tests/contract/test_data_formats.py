"""Data format management through the official API, on both transports."""

from __future__ import annotations

import threading
from typing import Any

import pytest

from ma_dataplatforms_streaming_support_library.contracts.data_format_management.data_format_info import (
    DataFormatInfo,
)
from ma_dataplatforms_streaming_support_library.contracts.data_format_management.data_format_info_type import (
    DataFormatInfoType,
)
from ma_dataplatforms_streaming_support_library.protos import open_data_pb2
from ma_dataplatforms_streaming_support_library.transport import Transport

from .conftest import Library, LibraryFactory, read_all, wait_for

PARAMETERS = ["vCar:Chassis", "nEngine:Engine", "gLat:Chassis"]


def format_id(service: Any, data_source: str, parameters: list[str]) -> int:
    result = service.get_parameter_data_format_id(data_source, parameters)
    assert result.success, result.error_message
    assert result.data is not None
    assert result.data.parameter_list == parameters
    return int(result.data.data_format_id)


class FormatEvents:
    def __init__(self, service: Any) -> None:
        self.seen: list[DataFormatInfo] = []
        self._lock = threading.Lock()
        service.data_format_info_updated.subscribe(self.on_updated)

    def on_updated(self, sender: object, info: DataFormatInfo) -> None:
        with self._lock:
            self.seen.append(info)

    def ids(self, data_source: str) -> set[int]:
        with self._lock:
            return {
                i
                for info in self.seen
                if info.data_source == data_source
                for i in info.data_formats
            }

    def of(self, data_source: str, key: str) -> list[DataFormatInfo]:
        with self._lock:
            return [
                info for info in self.seen if info.data_source == data_source and info.key == key
            ]


def test_same_list_twice_gives_the_same_id(library: Library, data_source: str) -> None:
    formats = library.format_service()

    assert format_id(formats, data_source, PARAMETERS) == format_id(
        formats, data_source, PARAMETERS
    )


def test_many_lists_at_once_give_the_ids_one_at_a_time_would(
    library: Library, library_factory: LibraryFactory, data_source: str
) -> None:
    formats = library.format_service()
    known = format_id(formats, data_source, ["a:X"])
    result = formats.get_parameter_data_format_ids(  # type: ignore[attr-defined]
        data_source, [["b:X"], ["a:X"], ["b:X"], ["c:X", "a:X"]]
    )
    assert result.success, result.error_message
    ids = [info.data_format_id for info in result.data]
    assert ids[1] == known and ids[0] == ids[2] and len(set(ids)) == 3
    other = library_factory().format_service()  # another library learns them from the log
    assert format_id(other, data_source, ["c:X", "a:X"]) == ids[3]
    refused = formats.get_parameter_data_format_ids(  # type: ignore[attr-defined]
        data_source, [["ok:X"], []]
    )
    assert not refused.success and "get_parameter_data_format_ids" in refused.error_message


def test_different_order_gives_a_different_id(library: Library, data_source: str) -> None:
    formats = library.format_service()

    forward = format_id(formats, data_source, PARAMETERS)
    backward = format_id(formats, data_source, list(reversed(PARAMETERS)))

    assert forward != backward


def test_id_is_an_unsigned_64_bit_int_that_fits_the_protobuf_field(
    library: Library, data_source: str
) -> None:
    formats = library.format_service()

    data_format_id = format_id(formats, data_source, ["Sin:MyApp"])

    assert type(data_format_id) is int
    assert 0 <= data_format_id <= 2**64 - 1
    field = open_data_pb2.SampleDataFormat(data_format_identifier=data_format_id)
    assert field.data_format_identifier == data_format_id


def test_same_list_in_another_data_source_gives_another_id(
    library: Library, data_source: str
) -> None:
    formats = library.format_service()

    assert format_id(formats, data_source, PARAMETERS) != format_id(
        formats, data_source + "_rig2", PARAMETERS
    )


def test_get_parameters_list_round_trip_in_order(library: Library, data_source: str) -> None:
    formats = library.format_service()
    data_format_id = format_id(formats, data_source, PARAMETERS)

    result = formats.get_parameters_list(data_source, data_format_id)

    assert result.success, result.error_message
    assert result.data is not None
    assert result.data.parameter_list == PARAMETERS
    assert all(type(p) is str for p in result.data.parameter_list)
    assert result.data.data_format_id == data_format_id


def test_ids_created_in_another_library_resolve_and_are_reused(
    library_factory: LibraryFactory, data_source: str
) -> None:
    already_running = library_factory().format_service()
    creator = library_factory().format_service()
    data_format_id = format_id(creator, data_source, PARAMETERS)
    started_later = library_factory().format_service()  # replays <ds>_essential at start

    for service in (already_running, started_later):
        result = service.get_parameters_list(data_source, data_format_id)
        assert result.success, result.error_message
        assert result.data is not None and result.data.parameter_list == PARAMETERS
        assert format_id(service, data_source, PARAMETERS) == data_format_id


def test_unknown_id_fails_naming_the_id_and_data_source(library: Library, data_source: str) -> None:
    formats = library.format_service()
    format_id(formats, data_source, PARAMETERS)
    unknown = 12345678901234567

    result = formats.get_parameters_list(data_source, unknown)

    assert not result.success
    assert result.data is None
    assert str(unknown) in result.error_message
    assert data_source in result.error_message


def test_an_id_of_one_data_source_is_unknown_in_another(library: Library, data_source: str) -> None:
    formats = library.format_service()
    data_format_id = format_id(formats, data_source, PARAMETERS)

    result = formats.get_parameters_list(data_source + "_other", data_format_id)

    assert not result.success
    assert str(data_format_id) in result.error_message


def test_data_format_info_updated_fires_for_replayed_and_new_formats(
    library_factory: LibraryFactory, data_source: str
) -> None:
    creator = library_factory().format_service()
    first = format_id(creator, data_source, ["a:x"])
    second = format_id(creator, data_source, ["b:x", "c:x"])
    watcher = library_factory().format_service(start=False)
    events = FormatEvents(watcher)

    watcher.start()
    wait_for(lambda: {first, second} <= events.ids(data_source), message="replayed formats")
    third = format_id(creator, data_source, ["d:x"])
    own = format_id(watcher, data_source, ["e:x"])

    wait_for(lambda: {third, own} <= events.ids(data_source), message="new formats learned")
    replayed = events.of(data_source, "b:x,c:x")
    assert len(replayed) == 1
    assert replayed[0].identifiers == ["b:x", "c:x"]
    assert replayed[0].data_formats == [second]
    assert replayed[0].data_format_info_type == DataFormatInfoType.PARAMETERS
    assert len(events.of(data_source, "d:x")) == 1


def test_event_formats(library_factory: LibraryFactory, data_source: str) -> None:
    formats = library_factory().format_service()

    created = formats.get_event_data_format_id(data_source, "PitLaneEntry")
    again = formats.get_event_data_format_id(data_source, "PitLaneEntry")
    other = formats.get_event_data_format_id(data_source, "PitLaneExit")

    assert created.success and again.success and other.success, created.error_message
    assert created.data is not None and again.data is not None and other.data is not None
    assert created.data.data_format_id == again.data.data_format_id
    assert created.data.data_format_id != other.data.data_format_id
    assert created.data.event_name == "PitLaneEntry"
    resolved = (
        library_factory().format_service().get_event(data_source, created.data.data_format_id)
    )
    assert resolved.success, resolved.error_message
    assert resolved.data is not None and resolved.data.event_name == "PitLaneEntry"
    # An event format is not a parameter format.
    assert not formats.get_parameters_list(data_source, created.data.data_format_id).success


def test_get_data_source_data_format_info_lists_every_format(
    library: Library, data_source: str
) -> None:
    formats = library.format_service()
    parameters = format_id(formats, data_source, PARAMETERS)
    event = formats.get_event_data_format_id(data_source, "Flag").data
    assert event is not None

    result = formats.get_data_source_data_format_info(data_source)

    assert result.success, result.error_message
    by_key = {(info.key, info.data_format_info_type): info for info in result.data or []}
    assert by_key[(",".join(PARAMETERS), DataFormatInfoType.PARAMETERS)].data_formats == [
        parameters
    ]
    assert by_key[("Flag", DataFormatInfoType.EVENT)].data_formats == [event.data_format_id]


def test_definitions_on_the_wire(library: Library, data_source: str, transport: Transport) -> None:
    formats = library.format_service()
    data_format_id = format_id(formats, data_source, PARAMETERS)

    for topic in (f"{data_source}_essential", data_source):
        definitions = []
        for record in read_all(transport, topic):
            envelope = open_data_pb2.Packet.FromString(record.value)
            if envelope.type == "DataFormatDefinition":
                definitions.append((record, envelope))
        assert len(definitions) == 1, topic
        record, envelope = definitions[0]
        assert (record.partition, record.key) == (0, b""), topic  # empty, not null
        assert envelope.is_essential is True
        assert envelope.session_key == ""
        definition = open_data_pb2.DataFormatDefinitionPacket.FromString(envelope.content)
        assert definition.identifier == data_format_id
        assert definition.type == open_data_pb2.DATA_FORMAT_TYPE_PARAMETER
        assert list(definition.parameter_identifiers.parameter_identifiers) == PARAMETERS


# bad input ------------------------------------------------------------------------------------
# (case, method, arguments with "{ds}"/"{id}" placeholders, what the message must name)
BAD_CALLS = [
    ("id-ds-none", "get_parameter_data_format_id", (None, ["a"]), "data_source"),
    ("id-ds-int", "get_parameter_data_format_id", (12, ["a"]), "data_source"),
    ("id-ds-empty", "get_parameter_data_format_id", ("", ["a"]), "data_source"),
    ("id-ds-illegal", "get_parameter_data_format_id", ("a b", ["a"]), "data_source"),
    ("id-ds-too-long", "get_parameter_data_format_id", ("d" * 250, ["a"]), "data_source"),
    ("id-params-none", "get_parameter_data_format_id", ("{ds}", None), "parameter_identifiers"),
    ("id-params-str", "get_parameter_data_format_id", ("{ds}", "vCar"), "parameter_identifiers"),
    ("id-params-empty", "get_parameter_data_format_id", ("{ds}", []), "parameter_identifiers"),
    ("id-params-int", "get_parameter_data_format_id", ("{ds}", [1, 2]), "parameter_identifiers"),
    (
        "id-params-blank",
        "get_parameter_data_format_id",
        ("{ds}", ["a", ""]),
        "parameter_identifiers",
    ),
    ("list-ds-none", "get_parameters_list", (None, "{id}"), "data_source"),
    ("list-ds-empty", "get_parameters_list", ("", "{id}"), "data_source"),
    ("list-id-none", "get_parameters_list", ("{ds}", None), "data_format_id"),
    ("list-id-str", "get_parameters_list", ("{ds}", "123"), "data_format_id"),
    ("list-id-float", "get_parameters_list", ("{ds}", 1.0), "data_format_id"),
    ("list-id-bool", "get_parameters_list", ("{ds}", True), "data_format_id"),
    ("list-id-negative", "get_parameters_list", ("{ds}", -1), "data_format_id"),
    ("list-id-too-big", "get_parameters_list", ("{ds}", 2**64), "data_format_id"),
    ("list-id-unknown", "get_parameters_list", ("{ds}", 424242), "424242"),
    ("event-ds-none", "get_event_data_format_id", (None, "Flag"), "data_source"),
    ("event-name-none", "get_event_data_format_id", ("{ds}", None), "event_name"),
    ("event-name-empty", "get_event_data_format_id", ("{ds}", ""), "event_name"),
    ("event-name-list", "get_event_data_format_id", ("{ds}", ["Flag"]), "event_name"),
    ("get-event-ds-none", "get_event", (None, "{id}"), "data_source"),
    ("get-event-id-str", "get_event", ("{ds}", "1"), "data_format_id"),
    ("get-event-id-unknown", "get_event", ("{ds}", 424242), "424242"),
    ("info-ds-none", "get_data_source_data_format_info", (None,), "data_source"),
    ("info-ds-illegal", "get_data_source_data_format_info", ("a*b",), "data_source"),
]


@pytest.mark.parametrize(
    ("case", "method", "arguments", "named"), BAD_CALLS, ids=[c[0] for c in BAD_CALLS]
)
def test_data_format_methods_reject_bad_input(
    library: Library,
    data_source: str,
    case: str,
    method: str,
    arguments: tuple[Any, ...],
    named: str,
) -> None:
    formats = library.format_service()
    existing = format_id(formats, data_source, PARAMETERS)
    values: dict[str, Any] = {"{ds}": data_source, "{id}": existing}
    resolved = [values.get(a, a) if isinstance(a, str) else a for a in arguments]

    result = getattr(formats, method)(*resolved)

    assert not result.success, result
    assert result.data is None
    assert named in result.error_message


def test_libraries_racing_to_create_the_same_format_agree_on_one_id(
    library_factory: LibraryFactory, data_source: str
) -> None:
    services = [library_factory().format_service() for _ in range(3)]
    answers: list[int] = []
    errors: list[BaseException] = []
    barrier = threading.Barrier(len(services))

    def create(service: Any) -> None:
        try:
            barrier.wait(10)
            answers.append(format_id(service, data_source, PARAMETERS))
        except BaseException as exc:  # reported by the main thread
            errors.append(exc)

    threads = [threading.Thread(target=create, args=(s,)) for s in services]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)

    assert errors == []
    assert len(set(answers)) == 1, answers
    later = library_factory().format_service()
    assert format_id(later, data_source, PARAMETERS) == answers[0]

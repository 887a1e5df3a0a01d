"""Support library and service lifecycle through the official API."""

from __future__ import annotations

import os
import socket
import threading
from pathlib import Path
from typing import Any

import pytest

from ma_dataplatforms_streaming_support_library.contracts.session_management.session_creation_info import (
    SessionCreationInfo,
)
from ma_dataplatforms_streaming_support_library.contracts.session_management.session_info import (
    SessionInfo,
)
from ma_dataplatforms_streaming_support_library.contracts.shared.stream_api_configuration import (
    StreamingApiConfiguration,
)
from ma_dataplatforms_streaming_support_library.core.base.logger import Logger
from ma_dataplatforms_streaming_support_library.core.base.support_library_bootstrapper import (
    SupportLibraryBootstrapper,
)
from ma_dataplatforms_streaming_support_library.transport import BROKER_ENVIRONMENT_VARIABLE

from .conftest import (
    TOPIC_BASE,
    EventRecorder,
    Library,
    LibraryFactory,
    RecordingLogger,
    create_session,
    historic_configuration,
    live_configuration,
    marker_packet,
    packet,
    start_reader,
    wait_for,
    write_session,
)

# (service kind, method, arguments): one call per public ApiResult method of every service
CALLS = [
    ("session", "create_new_session", (SessionCreationInfo("ds_lifecycle"),)),
    ("session", "get_all_sessions", ()),
    ("session", "get_session_info", ("ds_lifecycle", "{key}")),
    ("session", "update_identifier", ("ds_lifecycle", "{key}", "x")),
    ("session", "update_session_details", ("ds_lifecycle", "{key}", {"a": "b"})),
    ("session", "add_associate_session", ("ds_lifecycle", "{key}", "{key2}")),
    (
        "session",
        "add_associate_session",
        ("ds_lifecycle", "{key}", "44444444-4444-4444-8444-444444444444"),
    ),
    ("session", "end_session", ("ds_lifecycle", "{key}")),
    ("format", "get_parameter_data_format_id", ("ds_lifecycle", ["a"])),
    ("format", "get_parameters_list", ("ds_lifecycle", 1)),
    ("format", "get_event_data_format_id", ("ds_lifecycle", "e")),
    ("format", "get_event", ("ds_lifecycle", 1)),
    ("format", "get_data_source_data_format_info", ("ds_lifecycle",)),
    ("writer", "write_data", ("ds_lifecycle", "", "{key}", "{packet}")),
    ("writer", "write_info", ("{packet}",)),
]
CALL_IDS = [f"{kind}-{method}-{index}" for index, (kind, method, _) in enumerate(CALLS)]


def new_service(library: Library, kind: str) -> Any:
    module = {
        "session": library.api.get_session_manager_api,
        "format": library.api.get_data_format_manager_api,
        "writer": library.api.get_writing_packet_api,
    }[kind]()
    result = module.create_service()
    assert result.success, result.error_message
    return result.data


def call(service: Any, method: str, arguments: tuple[Any, ...], keys: tuple[str, str]) -> Any:
    values: dict[str, Any] = {"{key}": keys[0], "{key2}": keys[1]}
    values["{packet}"] = marker_packet(keys[0], "lifecycle")
    resolved = [values.get(a, a) if isinstance(a, str) else a for a in arguments]
    return getattr(service, method)(*resolved)


def two_sessions(library: Library) -> tuple[str, str]:
    sessions = library.session_service()
    return (
        create_session(sessions, "ds_lifecycle").session_key,
        create_session(sessions, "ds_lifecycle").session_key,
    )


# services that are not running ----------------------------------------------------------------
@pytest.mark.parametrize(("kind", "method", "arguments"), CALLS, ids=CALL_IDS)
def test_a_service_not_started_fails_clearly(
    library: Library, kind: str, method: str, arguments: tuple[Any, ...]
) -> None:
    keys = two_sessions(library)
    service = new_service(library, kind)
    service.initialise()  # initialised, not started

    result = call(service, method, arguments, keys)

    assert not result.success
    assert result.data is None
    assert method in result.error_message
    assert "start" in result.error_message


@pytest.mark.parametrize(("kind", "method", "arguments"), CALLS, ids=CALL_IDS)
def test_a_stopped_service_fails_clearly(
    library: Library, kind: str, method: str, arguments: tuple[Any, ...]
) -> None:
    keys = two_sessions(library)
    service = new_service(library, kind)
    service.initialise()
    service.start()
    service.stop()

    result = call(service, method, arguments, keys)

    assert not result.success
    assert "stopped" in result.error_message


@pytest.mark.parametrize(("kind", "method", "arguments"), CALLS, ids=CALL_IDS)
def test_a_service_of_a_stopped_library_fails_clearly(
    library: Library, kind: str, method: str, arguments: tuple[Any, ...]
) -> None:
    keys = two_sessions(library)
    service = new_service(library, kind)
    service.initialise()
    service.start()
    library.stop()

    result = call(service, method, arguments, keys)

    assert not result.success
    assert result.error_message


def test_create_service_before_initialise_fails(broker_list: str, monkeypatch: Any) -> None:
    monkeypatch.delenv(BROKER_ENVIRONMENT_VARIABLE, raising=False)
    configuration = StreamingApiConfiguration(broker_list, TOPIC_BASE, [], 10)
    api = SupportLibraryBootstrapper.bootstrap(configuration, Logger()).create()

    results = [
        api.get_session_manager_api().create_service(),
        api.get_data_format_manager_api().create_service(),
        api.get_writing_packet_api().create_service(),
        api.get_reading_packet_api().create_service(),
        api.get_reading_packet_api().create_service_with_config(live_configuration("ds")),
    ]

    for result in results:
        assert not result.success
        assert result.data is None
        assert "initialise" in result.error_message
    api.stop()  # stopping a library never initialised is harmless


def test_create_service_after_library_stop_fails(library: Library) -> None:
    library.stop()

    result = library.api.get_session_manager_api().create_service()

    assert not result.success
    assert result.error_message


def test_each_create_service_returns_a_new_independent_service(library: Library) -> None:
    first = library.session_service()
    second = library.session_service()

    assert first is not second
    assert first.id != second.id
    first.stop()
    assert second.get_all_sessions().success


def test_service_state_properties(library: Library) -> None:
    service = new_service(library, "session")
    assert (service.is_initialised, service.is_started) == (False, False)
    service.initialise()
    assert (service.is_initialised, service.is_started) == (True, False)
    service.start()
    assert service.is_started is True
    service.stop()
    assert service.is_started is False
    assert library.api.is_initialised is True


def test_stop_is_idempotent_everywhere(library: Library, data_source: str) -> None:
    sessions = library.session_service()
    formats = library.format_service()
    writer = library.writer_service()
    reader, _recorder = start_reader(library, live_configuration(data_source))

    for service in (reader, writer, formats, sessions):
        service.stop()
        service.stop()
    library.stop()
    library.stop()


def test_initialise_and_start_twice_are_harmless(library: Library, data_source: str) -> None:
    library.api.initialise()
    library.api.start()
    sessions = library.session_service()
    sessions.initialise()
    sessions.start()

    assert create_session(sessions, data_source).historical is False


def test_a_stopped_service_cannot_be_restarted(library: Library) -> None:
    sessions = library.session_service()
    sessions.stop()

    sessions.start()

    assert not sessions.get_all_sessions().success


# the samples' shutdown orders -----------------------------------------------------------------
def test_writer_sample_shutdown_order_does_not_raise(library: Library, data_source: str) -> None:
    sessions = library.session_service()
    formats = library.format_service()
    writer = library.writer_service()
    write_session(sessions, writer, data_source, count=2)
    assert formats.get_parameter_data_format_id(data_source, ["a"]).success

    sessions.stop()
    formats.stop()
    writer.stop()
    library.stop()


def test_reader_sample_shutdown_order_does_not_raise(
    library_factory: LibraryFactory, data_source: str
) -> None:
    reading = library_factory()
    reader = reading.reader(live_configuration(data_source))
    handler = EventRecorder()
    notifier = EventRecorder()

    reader.session_reading_started.subscribe(notifier.on_session_started)
    reader.session_reading_completed.subscribe(notifier.on_session_completed)
    reader.start()
    reader.set_handler(handler)
    writing = library_factory()
    written = write_session(
        writing.session_service(), writing.writer_service(), data_source, count=2
    )
    notifier.wait_completed(written.session_key)

    # Fresh bound methods, compared by equality (the sample re-creates them).
    reader.session_reading_started.unsubscribe(notifier.on_session_started)
    reader.session_reading_completed.unsubscribe(notifier.on_session_completed)
    reader.stop()
    reader.remove_handler(handler)
    reading.stop()


def test_unsubscribe_with_a_fresh_bound_method_stops_the_events(
    library_factory: LibraryFactory, data_source: str
) -> None:
    class Notifier:
        def __init__(self) -> None:
            self.started: list[str] = []

        def on_started(self, sender: object, info: SessionInfo) -> None:
            self.started.append(info.session_key)

    watching = library_factory().session_service(start=False)
    notifier = Notifier()
    assert watching.live_session_started.subscribe(notifier.on_started) is None
    watching.start()
    creator = library_factory().session_service()
    first = create_session(creator, data_source).session_key
    wait_for(lambda: first in notifier.started, message="first session event")

    assert watching.live_session_started.unsubscribe(notifier.on_started) is None
    second = create_session(creator, data_source).session_key
    sentinel_seen: list[str] = []
    watching.live_session_started.subscribe(lambda _s, info: sentinel_seen.append(info.session_key))
    third = create_session(creator, data_source).session_key
    wait_for(lambda: third in sentinel_seen, message="sentinel event")

    assert notifier.started == [first]
    assert second not in notifier.started


def test_library_stop_stops_running_services_and_readers(
    library_factory: LibraryFactory, data_source: str
) -> None:
    library = library_factory()
    reader, recorder = start_reader(
        library, historic_configuration(data_source, timeout_seconds=60)
    )
    sessions = library.session_service()

    library.stop()

    assert reader.is_started is False
    assert sessions.is_started is False
    assert recorder.journal == []


def test_services_are_safe_to_use_from_several_threads(library: Library, data_source: str) -> None:
    sessions = library.session_service()
    formats = library.format_service()
    writer = library.writer_service()
    key = create_session(sessions, data_source).session_key
    failures: list[str] = []
    answers: dict[int, set[int]] = {n: set() for n in range(10)}

    def work(index: int) -> None:
        for n in range(10):
            result = writer.write_data(data_source, "", key, marker_packet(key, f"{index}-{n}"))
            if not result.success:
                failures.append(result.error_message)
            ids = formats.get_parameter_data_format_id(data_source, [f"p{n}"])
            if not ids.success or ids.data is None:
                failures.append(ids.error_message)
            else:
                answers[n].add(ids.data.data_format_id)

    threads = [threading.Thread(target=work, args=(i,)) for i in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)

    assert failures == []
    assert all(len(ids) == 1 for ids in answers.values()), answers
    listed = formats.get_data_source_data_format_info(data_source).data or []
    for n in range(10):
        same_key = [info for info in listed if info.key == f"p{n}"]
        assert len(same_key) == 1 and len(same_key[0].data_formats) == 1, same_key


# configuration and the store ------------------------------------------------------------------
def _initialise(broker_list: str, timeout_seconds: float = 10) -> Any:
    configuration = StreamingApiConfiguration(broker_list, TOPIC_BASE, [], timeout_seconds)
    api = SupportLibraryBootstrapper.bootstrap(configuration, RecordingLogger()).create()
    api.initialise()
    return api


@pytest.fixture
def no_broker_override(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(BROKER_ENVIRONMENT_VARIABLE, raising=False)


def test_an_embedded_store_path_that_is_a_directory_fails_naming_it(
    tmp_path: Path, no_broker_override: None
) -> None:
    directory = tmp_path / "a-directory"
    directory.mkdir()

    with pytest.raises(Exception, match="a-directory") as raised:
        _initialise(f"embedded:{directory}")

    assert str(directory) in str(raised.value)


def test_an_embedded_store_under_a_file_fails_naming_the_path(
    tmp_path: Path, no_broker_override: None
) -> None:
    blocker = tmp_path / "plain-file"
    blocker.write_text("not a directory")
    path = blocker / "store.db"

    with pytest.raises(Exception, match="plain-file") as raised:
        _initialise(f"embedded:{path}")

    assert str(path) in str(raised.value)


@pytest.mark.skipif(hasattr(os, "geteuid") and os.geteuid() == 0, reason="root ignores permissions")
def test_an_embedded_store_in_a_read_only_directory_fails_naming_the_path(
    tmp_path: Path, no_broker_override: None
) -> None:
    read_only = tmp_path / "read-only"
    read_only.mkdir()
    read_only.chmod(0o500)
    try:
        with pytest.raises(Exception, match="read-only"):
            _initialise(f"embedded:{read_only / 'store.db'}")
    finally:
        read_only.chmod(0o700)


def test_an_existing_file_that_is_not_a_store_fails_naming_it(
    tmp_path: Path, no_broker_override: None
) -> None:
    path = tmp_path / "garbage.db"
    path.write_bytes(b"this is not an SQLite database, just text " * 100)

    with pytest.raises(Exception, match=r"garbage\.db"):
        api = _initialise(f"embedded:{path}")
        # Some stores only notice on first use: that must fail clearly too.
        api.start()
        sessions = api.get_session_manager_api().create_service().data
        sessions.initialise()
        sessions.start()


def test_the_environment_variable_overrides_the_broker_list(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    store = tmp_path / "override.db"
    monkeypatch.setenv(BROKER_ENVIRONMENT_VARIABLE, f"embedded:{store}")

    api = _initialise("127.0.0.1:1", timeout_seconds=2)  # would be unreachable Kafka
    try:
        api.start()
        sessions = api.get_session_manager_api().create_service().data
        sessions.initialise()
        sessions.start()
        assert create_session(sessions, "ds_override").session_key
    finally:
        api.stop()
    assert store.exists()


@pytest.mark.kafka
def test_an_unreachable_kafka_broker_fails_initialise_naming_it(no_broker_override: None) -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    address = f"127.0.0.1:{port}"

    with pytest.raises(Exception, match=address.replace(".", r"\.")):
        _initialise(address, timeout_seconds=2)


def test_write_info_needs_no_data_source(library: Library, data_source: str) -> None:
    sessions = library.session_service()
    writer = library.writer_service()
    key = create_session(sessions, data_source).session_key

    assert writer.write_info(packet("SessionInfo", key, b"")).success

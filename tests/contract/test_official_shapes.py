"""C# call shapes and configuration options of the official API, on both transports."""

from __future__ import annotations

import datetime
import time
from pathlib import Path
from typing import Any

import pytest

from ma_dataplatforms_streaming_support_library.contracts.shared.retry_mode import RetryMode
from ma_dataplatforms_streaming_support_library.contracts.shared.retry_policy import RetryPolicy
from ma_dataplatforms_streaming_support_library.contracts.shared.stream_api_configuration import (
    StreamingApiConfiguration,
)
from ma_dataplatforms_streaming_support_library.core.base.support_library_bootstrapper import (
    SupportLibraryBootstrapper,
)
from ma_dataplatforms_streaming_support_library.errors import TransportError
from ma_dataplatforms_streaming_support_library.transport import BROKER_ENVIRONMENT_VARIABLE

from .conftest import (
    TOPIC_BASE,
    EventRecorder,
    Library,
    LibraryFactory,
    RecordingLogger,
    create_session,
    end_session,
    live_configuration,
    new_session_packet,
    write_stream_packets,
)


@pytest.fixture
def no_broker_override(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(BROKER_ENVIRONMENT_VARIABLE, raising=False)


def _bootstrap(broker_list: str, logger: Any = None, **options: Any) -> Any:
    configuration = StreamingApiConfiguration(broker_list, TOPIC_BASE, [], 10, **options)
    return SupportLibraryBootstrapper.bootstrap(configuration, logger or RecordingLogger()).create()


# call shapes ----------------------------------------------------------------------------------
def test_create_service_takes_a_packet_reading_configuration(
    library: Library, data_source: str
) -> None:
    configuration = live_configuration(data_source, timeout_seconds=7)

    created = library.api.get_reading_packet_api().create_service(configuration)
    with_a_key = library.api.get_reading_packet_api().create_service(configuration, "some-key")

    assert created.success, created.error_message
    assert created.data.configuration is configuration
    assert not with_a_key.success and "session_key" in with_a_key.error_message


def test_with_lib_starts_the_library_and_stops_it_with_its_services(
    broker_list: str, data_source: str, no_broker_override: None
) -> None:
    api = _bootstrap(broker_list)

    with api as entered:
        assert entered is api and api.is_initialised
        sessions = api.get_session_manager_api().create_service().data
        sessions.start()
        assert create_session(sessions, data_source).session_key

    assert not api.is_initialised
    assert not sessions.is_started


def test_a_session_read_by_key_is_read_to_its_end_across_a_pause_longer_than_timeout_seconds(
    library_factory: LibraryFactory, data_source: str
) -> None:
    writing = library_factory()
    reading = library_factory(timeout_seconds=1)
    sessions, writer = writing.session_service(), writing.writer_service()
    key = create_session(sessions, data_source).session_key
    assert writer.write_data(data_source, "", key, new_session_packet(data_source, key)).success
    created = reading.api.get_reading_packet_api().create_service(data_source, key)
    assert created.success, created.error_message
    reader = created.data
    recorder = EventRecorder().attach(reader)
    reader.start()
    reader.set_handler(recorder)

    write_stream_packets(writer, data_source, key, [""], 5)
    writer.flush()
    time.sleep(2.5)  # the writer pauses for longer than the library's timeout_seconds
    write_stream_packets(writer, data_source, key, [""], 5, first_id=6)
    end_session(sessions, writer, data_source, key, [""])
    recorder.wait_completed(key)
    reader.stop()

    assert len(recorder.packets(key)) == 12  # NewSession, 10 markers, EndOfSession
    assert reading.logger.find(key, "no packet") == []


# configuration options ------------------------------------------------------------------------
def test_without_data_format_management_only_own_formats_resolve_and_are_still_published(
    library_factory: LibraryFactory,
    broker_list: str,
    data_source: str,
    no_broker_override: None,
) -> None:
    shared = library_factory().format_service()
    theirs = shared.get_parameter_data_format_id(data_source, ["a", "b"]).data.data_format_id
    api = _bootstrap(broker_list, integrate_data_format_management=False)
    api.start()
    try:
        isolated = api.get_data_format_manager_api().create_service().data
        isolated.start()
        unknown = isolated.get_parameters_list(data_source, theirs)
        mine = isolated.get_parameter_data_format_id(data_source, ["a", "b"])
        own = isolated.get_parameters_list(data_source, mine.data.data_format_id)
    finally:
        api.stop()

    assert not unknown.success  # the essentials topic was not replayed
    assert mine.success and mine.data.data_format_id != theirs
    assert own.success and own.data.parameter_list == ["a", "b"]
    # definitions are still published: a library that replays them knows both ids
    published = shared.get_parameters_list(data_source, mine.data.data_format_id)
    assert published.success and published.data.parameter_list == ["a", "b"]


def test_the_first_connection_is_retried_as_the_retry_policy_allows(
    tmp_path: Path, no_broker_override: None
) -> None:
    blocker = tmp_path / "plain-file"
    blocker.write_text("not a directory")
    logger = RecordingLogger()
    policy = RetryPolicy(2, datetime.timedelta(milliseconds=50), RetryMode.FINITE)
    api = _bootstrap(f"embedded:{blocker / 'store.db'}", logger, retry_policy=policy)

    with pytest.raises(TransportError, match="plain-file"):
        api.initialise()

    retries = logger.find("connecting to the broker failed", levels=("warning",))
    assert [message.split("; ")[-1] for message in retries] == [
        "retry 1/2 in 0.05 s",
        "retry 2/2 in 0.05 s",
    ]

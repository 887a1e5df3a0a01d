"""The official API with ``broker_list="grpc://host:port"``: every service over a Stream API
server (ours, on both stores), against the same sessions read and written in process."""

from __future__ import annotations

import math
from collections.abc import Callable, Iterator
from typing import Any

import numpy as np
import pytest

from ma_dataplatforms_streaming_support_library import (
    Parameter,
    list_sessions,
    open_session_writer,
    read_session,
)
from ma_dataplatforms_streaming_support_library.contracts.shared.stream_api_configuration import (
    StreamingApiConfiguration,
)
from ma_dataplatforms_streaming_support_library.core.base.logger import Logger
from ma_dataplatforms_streaming_support_library.core.base.support_library_bootstrapper import (
    SupportLibraryBootstrapper,
)
from ma_dataplatforms_streaming_support_library.errors import (
    ConfigurationError,
    SessionNotFoundError,
    TransportError,
)
from ma_dataplatforms_streaming_support_library.server import ServerOptions, StreamApiServer

from .conftest import (
    TOPIC_BASE,
    Library,
    LibraryFactory,
    RecordingLogger,
    assert_event_order,
    create_session,
    historic_configuration,
    live_configuration,
    marker_packet,
    periodic_packet,
    start_reader,
    wait_for,
    write_session,
)

STREAMS = ("", "s1")


@pytest.fixture
def server(broker_list: str) -> Iterator[StreamApiServer]:
    configuration = StreamingApiConfiguration(broker_list, TOPIC_BASE, [], 10)
    started = StreamApiServer(
        configuration, ServerOptions(host="127.0.0.1", port=0, key_generator_port=None)
    ).start()
    yield started
    started.stop(1)


@pytest.fixture
def remote(server: StreamApiServer, data_source: str) -> Iterator[Callable[[], Library]]:
    """``make()`` → a started support library whose broker is the server (``grpc://``)."""
    made: list[Library] = []

    def make() -> Library:
        address = f"grpc://127.0.0.1:{server.port}?data_sources={data_source}"
        logger = RecordingLogger()
        api = SupportLibraryBootstrapper.bootstrap(
            StreamingApiConfiguration(address, TOPIC_BASE, [], 10), logger
        ).create()
        api.initialise()
        api.start()
        made.append(Library(api, logger, address, TOPIC_BASE))
        return made[-1]

    yield make
    for library in reversed(made):
        library.stop()


def test_sessions_over_grpc(remote: Callable[[], Library], data_source: str) -> None:
    library = remote()
    sessions = library.session_service()
    started: list[Any] = []
    sessions.live_session_started.subscribe(lambda _, info: started.append(info.session_key))
    info = create_session(sessions, data_source, "first", details={"a": "1"})
    other = create_session(sessions, data_source, "second")
    assert info.identifier == "first" and info.details == {"a": "1"} and not info.historical
    assert sessions.update_identifier(data_source, info.session_key, "renamed").data.identifier == (
        "renamed"
    )
    updated = sessions.update_session_details(data_source, info.session_key, {"b": "2"}).data
    assert updated is not None and updated.details == {"a": "1", "b": "2"}
    associated = sessions.add_associate_session(data_source, info.session_key, other.session_key)
    assert associated.data is not None and associated.data.associate_session_keys == [
        other.session_key
    ]
    listed = sessions.get_all_sessions().data or []
    assert [s.session_key for s in listed] == [info.session_key, other.session_key]
    ended = sessions.end_session(data_source, info.session_key)
    assert ended.success and ended.data is not None and ended.data.historical
    again = sessions.end_session(data_source, info.session_key)
    assert not again.success and "already ended" in again.error_message
    unknown = sessions.get_session_info(data_source, "no-such-key")
    assert not unknown.success and "not a known session" in unknown.error_message
    wrong = sessions.get_session_info("other", info.session_key)
    assert not wrong.success and "belongs to data source" in wrong.error_message
    wait_for(lambda: len(started) == 2, message="start notifications")


def test_data_formats_are_the_servers(
    remote: Callable[[], Library], library: Library, data_source: str
) -> None:
    formats = remote().format_service()
    made = formats.get_parameter_data_format_id(data_source, ["b:App", "a:App"]).data
    assert made is not None
    local = library.format_service().get_parameters_list(data_source, made.data_format_id).data
    assert local is not None and local.parameter_list == ["b:App", "a:App"]
    again = formats.get_parameter_data_format_id(data_source, ["b:App", "a:App"]).data
    assert again is not None and again.data_format_id == made.data_format_id
    event = formats.get_event_data_format_id(data_source, "Lap").data
    assert event is not None
    assert formats.get_event(data_source, event.data_format_id).data.event_name == "Lap"
    unknown = formats.get_parameters_list(data_source, 12345)
    assert not unknown.success and "12345" in unknown.error_message
    assert not formats.get_parameter_data_format_id(data_source, []).success


def test_written_over_grpc_reads_in_process(
    remote: Callable[[], Library], library: Library, broker_list: str, data_source: str
) -> None:
    client = remote()
    writer = client.writer_service()
    formats = client.format_service()
    format_id = formats.get_parameter_data_format_id(data_source, ["x:App"]).data
    assert format_id is not None
    written = write_session(client.session_service(), writer, data_source, streams=STREAMS)
    sessions = client.session_service()
    # A second session carries samples, to be read back through read_session.
    info = create_session(sessions, data_source, "samples")
    for index in range(3):
        data = periodic_packet(info.session_key, format_id.data_format_id, [index, index + 0.5])
        assert writer.write_data(data_source, "", info.session_key, data).success
    assert sessions.end_session(data_source, info.session_key).success

    reader, recorder = start_reader(
        library, historic_configuration(data_source, session_key=written.session_key)
    )
    recorder.wait_completed(written.session_key)
    reader.stop()
    assert recorder.packets_by_stream(written.session_key) == {
        stream: [p.data for p in packets] for stream, packets in written.packets.items()
    }
    values = read_session(info.session_key, broker_list).parameter("x:App").values
    assert sorted(values) == [0, 0.5, 1, 1.5, 2, 2.5]


@pytest.mark.parametrize("live", [False, True], ids=["historic", "live"])
def test_written_in_process_reads_over_grpc(
    remote: Callable[[], Library], library: Library, data_source: str, live: bool
) -> None:
    sessions, writer = library.session_service(), library.writer_service()
    if live:
        reader, recorder = start_reader(remote(), live_configuration(data_source))
        written = write_session(sessions, writer, data_source, streams=STREAMS, count=20)
    else:
        written = write_session(sessions, writer, data_source, streams=STREAMS, count=20)
        reader, recorder = start_reader(remote(), historic_configuration(data_source))
    recorder.wait_completed(written.session_key)
    reader.stop()
    assert recorder.packets_by_stream(written.session_key) == {
        stream: [p.data for p in packets] for stream, packets in written.packets.items()
    }
    assert_event_order(recorder.session_journal(written.session_key), STREAMS)


def test_refused_writes_fail(remote: Callable[[], Library], data_source: str) -> None:
    client = remote()
    writer = client.writer_service()
    unknown = writer.write_data(data_source, "", "no-such-key", marker_packet("no-such-key", "m"))
    assert not unknown.success and "not a known session" in unknown.error_message
    written = write_session(client.session_service(), writer, data_source, count=1)
    ended = writer.write_data(
        data_source, "", written.session_key, marker_packet(written.session_key, "late")
    )
    assert not ended.success and "has ended" in ended.error_message
    assert not writer.write_data(data_source, "", written.session_key, b"junk").success  # type: ignore[arg-type]
    assert writer.flush().success


def test_bad_addresses(server: StreamApiServer, library_factory: LibraryFactory) -> None:
    for address, error in (
        ("grpc://", ConfigurationError),
        (f"grpc://127.0.0.1:{server.port}?colour=red", ConfigurationError),
        ("grpc://127.0.0.1:1", TransportError),
    ):
        api = SupportLibraryBootstrapper.bootstrap(
            StreamingApiConfiguration(address, TOPIC_BASE, [], 1), Logger()
        ).create()
        with pytest.raises(error):
            api.initialise()


def _rich_session(broker_list: str, data_source: str) -> str:
    """A session of every sample kind, written in process with the session writer."""
    t0 = 1_700_000_000_000_000_000
    ms = 1_000_000
    parameters = {"vCar:Chassis": Parameter(units="km/h", frequency_hz=100)}
    with open_session_writer(
        broker_list, data_source=data_source, identifier="rich", parameters=parameters
    ) as writer:
        writer.write_periodic(
            ["vCar:Chassis", "rpm:Engine"], t0, 10 * ms, np.arange(600.0).reshape(2, 300)
        )
        writer.write_periodic("gear:Car", t0, 10 * ms, np.arange(300, dtype=np.int32) % 8)
        stamps = t0 + np.array([0, 3, 7, 20]) * ms
        writer.write_rows(stamps, {"gLat:Chassis": np.array([0.1, math.nan, math.inf, -0.0])})
        writer.marker("Lap 2", t0 + 10 * ms, type="Lap Trigger", value=2)
        writer.event("Pit Entry", t0 + 11 * ms, values=[1.0, 42.0])
    return writer.session_key


def test_read_session_over_grpc_gives_what_the_store_gives(
    server: StreamApiServer, broker_list: str, data_source: str
) -> None:
    key = _rich_session(broker_list, data_source)
    address = f"grpc://127.0.0.1:{server.port}"
    local, remote = read_session(key, broker_list), read_session(key, address)
    assert remote.complete and remote.session_info.session_key == key
    assert (
        sorted(remote.series)
        == sorted(local.series)
        == [
            "gLat:Chassis",
            "gear:Car",
            "rpm:Engine",
            "vCar:Chassis",
        ]
    )
    for name, series in local.series.items():
        theirs = remote.series[name]
        np.testing.assert_array_equal(theirs.timestamps, series.timestamps)
        np.testing.assert_array_equal(theirs.values, series.values)
        np.testing.assert_array_equal(theirs.status, series.status)
        assert theirs.units == series.units
    assert remote.parameter("vCar:Chassis").units == "km/h"
    assert remote.markers == local.markers and remote.events == local.events
    assert remote.packet_counts == local.packet_counts

    one = read_session(key, address, parameters=["rpm:Engine"], end=1_700_000_000_500_000_000)
    assert list(one.series) == ["rpm:Engine"] and one.series["rpm:Engine"].values.size == 50
    with pytest.raises(KeyError, match="vCar:Chasis"):
        read_session(key, address, parameters=["vCar:Chasis"])


def test_read_session_over_grpc_refuses_what_it_cannot_do(
    server: StreamApiServer, broker_list: str, data_source: str
) -> None:
    address = f"grpc://127.0.0.1:{server.port}"
    with pytest.raises(SessionNotFoundError, match="no-such-key"):
        read_session("no-such-key", address)
    key = _rich_session(broker_list, data_source)
    with pytest.raises(SessionNotFoundError, match="of data source 'Other'"):
        read_session(key, address, data_source="Other")
    with pytest.raises(ConfigurationError, match="partition_mappings"):
        read_session(key, address, partition_mappings={"s1": 1})
    with pytest.raises(ConfigurationError, match="is a Stream API server"):
        list_sessions(address)

"""Each input failure of the reliability probe, as a test that failed before its fix.

Oversized partitions and arguments (5), corrupt envelopes in a packet reader (6), commas in
parameter identifiers (7), store file modes (8), and errors that were tracebacks, raw exceptions or
silent successes (9). Everything runs through the public API on an embedded store of the test's
own, except the TLS hint, which needs a plaintext Kafka broker.
"""

from __future__ import annotations

import datetime
import math
import os
import stat
from collections.abc import Iterator
from pathlib import Path

import pytest

from ma_dataplatforms_streaming_support_library import read_session
from ma_dataplatforms_streaming_support_library.cli.main import main as cli_main
from ma_dataplatforms_streaming_support_library.contracts.buffering.buffering_configuration import (
    BufferingConfiguration,
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
from ma_dataplatforms_streaming_support_library.contracts.packet_writing.packet_bytes import (
    PacketBytes,
)
from ma_dataplatforms_streaming_support_library.contracts.session_management.session_creation_info import (
    SessionCreationInfo,
)
from ma_dataplatforms_streaming_support_library.contracts.shared.i_handler import IHandler
from ma_dataplatforms_streaming_support_library.contracts.shared.stream_api_configuration import (
    StreamingApiConfiguration,
)
from ma_dataplatforms_streaming_support_library.core.base.logger import Logger
from ma_dataplatforms_streaming_support_library.core.base.support_library_bootstrapper import (
    SupportLibraryBootstrapper,
)
from ma_dataplatforms_streaming_support_library.core.library.support_lib_api import SupportLibApi
from ma_dataplatforms_streaming_support_library.errors import ConfigurationError, TransportError
from ma_dataplatforms_streaming_support_library.protos import open_data_pb2 as pb
from ma_dataplatforms_streaming_support_library.transport import BROKER_ENVIRONMENT_VARIABLE
from ma_dataplatforms_streaming_support_library.transport.embedded import EmbeddedTransport
from ma_dataplatforms_streaming_support_library.transport.kafka.transport import KafkaTransport

DATA_SOURCE = "Inputs"


@pytest.fixture
def store(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    monkeypatch.delenv(BROKER_ENVIRONMENT_VARIABLE, raising=False)
    return f"embedded:{tmp_path / 'inputs.db'}"


@pytest.fixture
def library(store: str) -> Iterator[SupportLibApi]:
    api = SupportLibraryBootstrapper.bootstrap(
        StreamingApiConfiguration(store, timeout_seconds=5), Logger()
    ).create()
    api.initialise()
    yield api
    api.stop()


def _started(result: object) -> object:
    service = result.data  # type: ignore[attr-defined]
    assert service is not None, result.error_message  # type: ignore[attr-defined]
    service.initialise()
    service.start()
    return service


def _packet(packet_type: str, session_key: str, content: bytes = b"") -> PacketBytes:
    envelope = pb.Packet(type=packet_type, session_key=session_key, content=content)
    return PacketBytes(envelope.SerializeToString())


def _session(library: SupportLibApi, identifier: str = "inputs") -> tuple[object, str]:
    sessions = _started(library.get_session_manager_api().create_service())
    created = sessions.create_new_session(  # type: ignore[attr-defined]
        SessionCreationInfo(data_source=DATA_SOURCE, identifier=identifier)
    )
    assert created.success, created.error_message
    return sessions, created.data.session_key


# 5: sizes ---------------------------------------------------------------------------------------
def test_a_partition_beyond_the_documented_maximum_is_refused_at_configuration() -> None:
    with pytest.raises(ValueError, match=r"partition_mappings: .* 1…10000"):
        StreamingApiConfiguration("embedded:", partition_mappings={"a": 2**40})
    assert StreamingApiConfiguration(partition_mappings={"a": 10_000}).partition_mappings == {
        "a": 10_000
    }


def test_a_five_megabyte_session_key_gets_a_short_message(library: SupportLibApi) -> None:
    sessions, _ = _session(library)
    result = sessions.get_session_info(DATA_SOURCE, "k" * 5_000_000)  # type: ignore[attr-defined]
    assert not result.success
    assert "session_key" in result.error_message and "too long" in result.error_message
    assert len(result.error_message) < 300


def test_an_oversized_detail_value_is_refused(library: SupportLibApi) -> None:
    sessions, key = _session(library)
    result = sessions.update_session_details(  # type: ignore[attr-defined]
        DATA_SOURCE, key, {"big": "v" * 1_000_000}
    )
    assert not result.success
    assert "session_details value of 'big'" in result.error_message
    assert len(result.error_message) < 300


# 6: corrupt envelopes in the packet reader --------------------------------------------------------
class _Recorder(IHandler[ReceivedPacketDto]):
    def __init__(self) -> None:
        self.packets: list[bytes] = []

    def handle(self, obj: ReceivedPacketDto) -> None:
        self.packets.append(obj.packet_bytes.data)


def test_every_unparseable_envelope_is_reported_counted_and_never_delivered(
    library: SupportLibApi, store: str, caplog: pytest.LogCaptureFixture
) -> None:
    sessions, key = _session(library)
    writer = _started(library.get_writing_packet_api().create_service())
    good = [
        _packet("Marker", key, pb.MarkerPacket(label=f"m{i}").SerializeToString()) for i in range(3)
    ]
    # Each starts with 0x0A, the first byte of a real envelope: a truncated length, a type field
    # running past the end, and a valid type followed by a broken field.
    corrupt = [b"\x0a\xff", b"\x0a\x05ab", b"\x0a\x06Marker\x22\x09abc"]
    raw = EmbeddedTransport(store.removeprefix("embedded:"))
    try:
        assert writer.write_data(DATA_SOURCE, "", key, good[0]).success  # type: ignore[attr-defined]
        writer.flush()  # type: ignore[attr-defined]
        for value in corrupt:
            raw.produce(DATA_SOURCE, 0, key.encode(), value)
        raw.flush(5)
    finally:
        raw.close()
    for packet in good[1:]:
        assert writer.write_data(DATA_SOURCE, "", key, packet).success  # type: ignore[attr-defined]
    writer.flush()  # type: ignore[attr-defined]
    assert sessions.end_session(DATA_SOURCE, key).success  # type: ignore[attr-defined]

    reader = _started(
        library.get_reading_packet_api().create_service_with_config(
            PacketReadingConfiguration(
                session_key=key,
                timeout_seconds=5,
                data_source=DATA_SOURCE,
                reading_type=PacketReadingType.HISTORIC,
            )
        )
    )
    recorder = _Recorder()
    reader.set_handler(recorder)  # type: ignore[attr-defined]
    assert reader.wait_until_finished(30)  # type: ignore[attr-defined]

    assert [p for p in recorder.packets if p.startswith(b"\x0a\x06Marker")] == [
        g.data for g in good
    ]
    assert not set(corrupt) & set(recorder.packets)
    assert reader.corrupt_records == len(corrupt)  # type: ignore[attr-defined]
    reported = [r.getMessage() for r in caplog.records if "corrupt record" in r.getMessage()]
    assert len(reported) == len(corrupt)
    assert all(f"{DATA_SOURCE}:0 offset" in line for line in reported)


# 7: commas in parameter identifiers -------------------------------------------------------------
def test_a_comma_in_a_parameter_identifier_never_shares_an_id(
    library: SupportLibApi, store: str
) -> None:
    formats = _started(library.get_data_format_manager_api().create_service())
    refused = formats.get_parameter_data_format_id(DATA_SOURCE, ["a,b"])  # type: ignore[attr-defined]
    assert not refused.success
    assert "parameter_identifiers" in refused.error_message and "','" in refused.error_message

    # Another writer defines ["x,y"]: it must not be reused for the list ["x", "y"].
    foreign = pb.DataFormatDefinitionPacket(
        identifier=424242,
        type=pb.DATA_FORMAT_TYPE_PARAMETER,
        parameter_identifiers=pb.ParameterList(parameter_identifiers=["x,y"]),
    )
    raw = EmbeddedTransport(store.removeprefix("embedded:"))
    try:
        raw.create_topics({f"{DATA_SOURCE}_essential": 1})
        value = pb.Packet(
            type="DataFormatDefinition", is_essential=True, content=foreign.SerializeToString()
        ).SerializeToString()
        raw.produce(f"{DATA_SOURCE}_essential", 0, b"", value)
        raw.flush(5)
    finally:
        raw.close()
    pair = formats.get_parameter_data_format_id(DATA_SOURCE, ["x", "y"])  # type: ignore[attr-defined]
    assert pair.success, pair.error_message
    assert pair.data.data_format_id != 424242
    listed = formats.get_parameters_list(DATA_SOURCE, 424242)  # type: ignore[attr-defined]
    assert listed.success and listed.data.parameter_list == ["x,y"]
    # Lists without commas keep the Stream API's key and id.
    again = formats.get_parameter_data_format_id(DATA_SOURCE, ["x", "y"])  # type: ignore[attr-defined]
    assert again.data.data_format_id == pair.data.data_format_id


# 8: store file modes ----------------------------------------------------------------------------
def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


@pytest.fixture
def umask_022() -> Iterator[None]:
    previous = os.umask(0o022)
    yield
    os.umask(previous)


@pytest.mark.usefixtures("umask_022")
def test_a_new_store_and_its_folders_are_private(tmp_path: Path) -> None:
    path = tmp_path / "new" / "deeper" / "s.db"
    transport = EmbeddedTransport(path)
    try:
        transport.create_topics({"t": 1})
        transport.produce("t", 0, b"k", b"v")
        transport.flush(5)
        modes = {name: _mode(path.with_name(name)) for name in ("s.db", "s.db-wal", "s.db-shm")}
        assert modes == {"s.db": 0o600, "s.db-wal": 0o600, "s.db-shm": 0o600}
        assert _mode(tmp_path / "new") == _mode(tmp_path / "new" / "deeper") == 0o700
    finally:
        transport.close()


@pytest.mark.usefixtures("umask_022")
def test_an_existing_store_keeps_its_mode(tmp_path: Path) -> None:
    path = tmp_path / "shared.db"
    EmbeddedTransport(path).close()
    path.chmod(0o644)
    EmbeddedTransport(path).close()
    assert _mode(path) == 0o644


# 9: errors ---------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "argv",
    [
        ["sessions", "--timeout", "-1"],
        ["sessions", "--timeout", "0"],
        ["sessions", "--timeout", "nan"],
        ["tail", "--duration", "-1"],
        ["tail", "--duration", "nan"],
    ],
    ids=["timeout-negative", "timeout-zero", "timeout-nan", "duration-negative", "duration-nan"],
)
def test_bad_cli_seconds_are_usage_errors_not_tracebacks(
    argv: list[str], store: str, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as exit_info:
        cli_main(["--broker", store, *argv])
    assert exit_info.value.code == 2
    err = capsys.readouterr().err
    assert argv[1] in err and "Traceback" not in err


def test_set_reader_service_none_names_the_argument_and_keeps_the_reader(
    library: SupportLibApi,
) -> None:
    buffering = _started(library.get_sample_reader_api().create_service(BufferingConfiguration()))
    with pytest.raises(TypeError, match="reading_service"):
        buffering.set_reader_service(None)  # type: ignore[attr-defined]
    assert buffering.subscribe(5) is False  # type: ignore[attr-defined]
    assert buffering.subscribe(["p:A"]) is True  # type: ignore[attr-defined]


@pytest.mark.parametrize(
    ("mappings", "error"),
    [(5, TypeError), ({"a": 0}, ValueError), ("ab", TypeError)],
    ids=["int", "partition-zero", "string"],
)
def test_bad_partition_mappings_name_the_argument(mappings: object, error: type) -> None:
    with pytest.raises(error, match="partition_mappings"):
        StreamingApiConfiguration(partition_mappings=mappings)  # type: ignore[arg-type]


def test_session_creation_refuses_what_it_used_to_accept(library: SupportLibApi) -> None:
    sessions, _ = _session(library)
    cases = {
        "identifier": SessionCreationInfo(data_source=DATA_SOURCE, identifier="\udc80"),
        "associate_session_keys": SessionCreationInfo(
            data_source=DATA_SOURCE, associate_session_keys=["no-such-session"]
        ),
        "utc_offset": SessionCreationInfo(
            data_source=DATA_SOURCE, utc_offset=datetime.timedelta(days=10**8)
        ),
    }
    for argument, info in cases.items():
        result = sessions.create_new_session(info)  # type: ignore[attr-defined]
        assert not result.success, argument
        assert argument in result.error_message


def test_writes_that_used_to_succeed_silently_are_refused(library: SupportLibApi) -> None:
    _, key = _session(library)
    writer = _started(library.get_writing_packet_api().create_service())
    mismatch = writer.write_data(DATA_SOURCE, "", key, _packet("Marker", "another-key"))  # type: ignore[attr-defined]
    unknown = writer.write_info(_packet("SessionInfo", "no-such-session"))  # type: ignore[attr-defined]
    garbage = writer.write_info(_packet("SessionInfo", key, b"\xff\xff\xff"))  # type: ignore[attr-defined]
    assert "names session 'another-key'" in mismatch.error_message
    assert "not a known session" in unknown.error_message
    assert "content is not a serialized SessionInfo" in garbage.error_message
    assert writer.write_data(DATA_SOURCE, "", key, _packet("Marker", key)).success  # type: ignore[attr-defined]


def test_read_session_checks_its_arguments_before_reading(
    library: SupportLibApi, store: str
) -> None:
    sessions, key = _session(library)
    assert sessions.end_session(DATA_SOURCE, key).success  # type: ignore[attr-defined]
    bad = {
        "data_source": {"data_source": 5},
        "streams": {"streams": "abc"},
        "progress": {"progress": 5},
        "partition_mappings": {"partition_mappings": {"a": 0}},
    }
    for argument, kwargs in bad.items():
        with pytest.raises(ConfigurationError, match=argument):
            read_session(key, store, **kwargs)  # type: ignore[arg-type]
    assert read_session(key, store, progress=lambda done, total: None).session_key == key


@pytest.mark.kafka
def test_tls_against_a_plaintext_broker_hints_at_the_mismatch(kafka_bootstrap: str) -> None:
    with pytest.raises(TransportError, match=r"security\.protocol is SSL.*plaintext listener"):
        KafkaTransport(kafka_bootstrap, {"security.protocol": "SSL"}, timeout_s=3)


def test_nan_is_not_a_duration_anywhere() -> None:
    with pytest.raises(ValueError, match="timeout_seconds"):
        StreamingApiConfiguration(timeout_seconds=math.nan)

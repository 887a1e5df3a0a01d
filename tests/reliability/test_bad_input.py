"""Bad input to every public method, configuration class, session function and CLI command.

One table: each row names a call with one bad argument and what it must give back — a failed
``ApiResult`` whose message holds a fragment (naming the argument), a specific exception class
with a fragment, ``False`` with an error logged, or a CLI exit code with a fragment on stderr and
no traceback. After every row the services the table shares are checked to still work: no bad
call may kill a service thread or leave a service half-changed.
"""

from __future__ import annotations

import asyncio
import datetime
import logging
import math
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from ma_dataplatforms_streaming_support_library.aio import AsyncPacketWriter, packets
from ma_dataplatforms_streaming_support_library.cli.main import main as cli_main
from ma_dataplatforms_streaming_support_library.contracts.buffering.buffering_configuration import (
    BufferingConfiguration,
)
from ma_dataplatforms_streaming_support_library.contracts.buffering.sample_data import SampleData
from ma_dataplatforms_streaming_support_library.contracts.interpolation.batch_result import (
    BatchResult,
)
from ma_dataplatforms_streaming_support_library.contracts.interpolation.fill_mode import FillMode
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
from ma_dataplatforms_streaming_support_library.contracts.packet_writing.info_type import InfoType
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
from ma_dataplatforms_streaming_support_library.errors import (
    ConfigurationError,
    SessionNotFoundError,
    StoreNotFoundError,
    StreamingError,
)
from ma_dataplatforms_streaming_support_library.protos import open_data_pb2 as pb
from ma_dataplatforms_streaming_support_library.sessions import (
    Parameter,
    SessionStore,
    copy_session,
    list_sessions,
    open_session_writer,
    read_session,
)
from ma_dataplatforms_streaming_support_library.transport import BROKER_ENVIRONMENT_VARIABLE

DS = "BadInput"
LONG = "x" * 5_000_000
SURROGATE = "bad\udc80"


# expectations -----------------------------------------------------------------------------------
@dataclass(frozen=True)
class Fails:
    """A failed ApiResult whose message holds ``fragment``."""

    fragment: str


@dataclass(frozen=True)
class Raises:
    """``error`` raised, its message holding ``fragment``."""

    error: type[BaseException]
    fragment: str


@dataclass(frozen=True)
class Refused:
    """``False`` returned and an error logged holding ``fragment``."""

    fragment: str


@dataclass(frozen=True)
class Exits:
    """The CLI exits with ``code``, ``fragment`` on stderr, no traceback."""

    code: int
    fragment: str


Expect = Fails | Raises | Refused | Exits


@dataclass
class Env:
    """Started services on one embedded store, shared by every row."""

    store: str
    tmp: Path
    api: Any = None
    sessions: Any = None
    formats: Any = None
    writer: Any = None
    reader: Any = None
    buffering: Any = None
    interpolation: Any = None
    live_key: str = ""
    ended_key: str = ""
    format_id: int = 0
    delivered: list[ReceivedPacketDto] = field(default_factory=list)

    def packet(
        self, packet_type: str = "Marker", key: str | None = None, content: bytes = b""
    ) -> PacketBytes:
        envelope = pb.Packet(
            type=packet_type, session_key=self.live_key if key is None else key, content=content
        )
        return PacketBytes(envelope.SerializeToString())


class _Handler(IHandler[ReceivedPacketDto]):
    def __init__(self, sink: list[ReceivedPacketDto]) -> None:
        self.sink = sink

    def handle(self, obj: ReceivedPacketDto) -> None:
        self.sink.append(obj)


class _Batches(IBatchResultHandler):
    def handle(self, batch: BatchResult) -> None:
        pass


class _Samples(IHandler[SampleData]):
    def handle(self, obj: SampleData) -> None:
        pass


def _started(result: Any) -> Any:
    assert result.success and result.data is not None, result.error_message
    result.data.initialise()
    result.data.start()
    return result.data


@pytest.fixture(scope="module")
def env(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Env]:
    tmp = tmp_path_factory.mktemp("bad-input")
    store = f"embedded:{tmp / 'bad.db'}"
    found = Env(store, tmp)
    found.api = SupportLibraryBootstrapper.bootstrap(
        StreamingApiConfiguration(store, timeout_seconds=5), Logger()
    ).create()
    found.api.initialise()
    found.sessions = _started(found.api.get_session_manager_api().create_service())
    found.formats = _started(found.api.get_data_format_manager_api().create_service())
    found.writer = _started(found.api.get_writing_packet_api().create_service())
    ended = found.sessions.create_new_session(SessionCreationInfo(DS, "ended"))
    found.ended_key = ended.data.session_key
    found.sessions.end_session(DS, found.ended_key)
    found.live_key = found.sessions.create_new_session(
        SessionCreationInfo(DS, "live")
    ).data.session_key
    found.format_id = found.formats.get_parameter_data_format_id(DS, ["p:A"]).data.data_format_id
    found.reader = _started(
        found.api.get_reading_packet_api().create_service_with_config(
            PacketReadingConfiguration(data_source=DS, reading_type=PacketReadingType.LIVE)
        )
    )
    found.reader.set_handler(_Handler(found.delivered))
    found.buffering = _started(
        found.api.get_sample_reader_api().create_service(BufferingConfiguration())
    )
    found.interpolation = _started(found.api.get_data_reader_api().create_service())
    yield found
    found.api.stop()


def _healthy(env: Env) -> None:
    """Every shared service still answers and the reader's thread still delivers."""
    before = len(env.delivered)
    assert env.writer.write_data(DS, "", env.live_key, env.packet()).success
    assert env.writer.flush().success
    assert env.sessions.get_session_info(DS, env.live_key).success
    assert env.formats.get_parameters_list(DS, env.format_id).success
    deadline = 200
    while len(env.delivered) == before and deadline:
        import time

        time.sleep(0.02)
        deadline -= 1
    assert len(env.delivered) > before, "the packet reader no longer delivers"
    for service in (env.buffering, env.interpolation, env.reader):
        assert service.is_started


# rows --------------------------------------------------------------------------------------------
Call = Callable[[Env], Any]
ROWS: list[tuple[str, Call, Expect]] = []


def row(name: str, call: Call, expect: Expect) -> None:
    ROWS.append((name, call, expect))


def _config(**kwargs: Any) -> Call:
    return lambda env: StreamingApiConfiguration(**kwargs)


# StreamingApiConfiguration
for name, kwargs, error, fragment in [
    ("broker-int", {"broker_list": 5}, TypeError, "broker_list"),
    ("broker-bytes", {"broker_list": b"x"}, TypeError, "broker_list"),
    ("strategy-0", {"stream_creation_strategy": 0}, ValueError, "stream_creation_strategy"),
    ("strategy-str", {"stream_creation_strategy": "x"}, ValueError, "stream_creation_strategy"),
    ("strategy-none", {"stream_creation_strategy": None}, ValueError, "stream_creation_strategy"),
    ("props-str", {"additional_properties": "a=b"}, TypeError, "additional_properties"),
    ("props-int", {"additional_properties": 5}, TypeError, "additional_properties"),
    ("props-no-equals", {"additional_properties": ["ab"]}, ValueError, "additional_properties"),
    (
        "props-triple",
        {"additional_properties": [("a", "b", "c")]},
        ValueError,
        "additional_properties",
    ),
    ("props-empty-key", {"additional_properties": {"": "v"}}, ValueError, "additional_properties"),
    ("props-int-key", {"additional_properties": {5: "v"}}, ValueError, "additional_properties"),
    ("timeout-zero", {"timeout_seconds": 0}, ValueError, "timeout_seconds"),
    ("timeout-negative", {"timeout_seconds": -1}, ValueError, "timeout_seconds"),
    ("timeout-nan", {"timeout_seconds": math.nan}, ValueError, "timeout_seconds"),
    ("timeout-inf", {"timeout_seconds": math.inf}, ValueError, "timeout_seconds"),
    ("timeout-huge", {"timeout_seconds": 1e12}, ValueError, "timeout_seconds"),
    ("timeout-str", {"timeout_seconds": "10"}, ValueError, "timeout_seconds"),
    ("timeout-bool", {"timeout_seconds": True}, ValueError, "timeout_seconds"),
    ("mappings-int", {"partition_mappings": 5}, TypeError, "partition_mappings"),
    ("mappings-str", {"partition_mappings": "a"}, TypeError, "partition_mappings"),
    ("mappings-zero", {"partition_mappings": {"a": 0}}, ValueError, "partition_mappings"),
    ("mappings-negative", {"partition_mappings": {"a": -1}}, ValueError, "partition_mappings"),
    ("mappings-2e40", {"partition_mappings": {"a": 2**40}}, ValueError, "1…10000"),
    ("mappings-10001", {"partition_mappings": {"a": 10_001}}, ValueError, "1…10000"),
    ("mappings-float", {"partition_mappings": {"a": 1.5}}, ValueError, "partition_mappings"),
    ("mappings-bool", {"partition_mappings": {"a": True}}, ValueError, "partition_mappings"),
    ("mappings-empty-stream", {"partition_mappings": {"": 1}}, ValueError, "stream name"),
    ("mappings-int-stream", {"partition_mappings": {5: 1}}, ValueError, "stream name"),
    ("mappings-long-stream", {"partition_mappings": {"s" * 300: 1}}, ValueError, "at most 249"),
    (
        "mappings-shared",
        {"partition_mappings": {"a": 1, "b": 1}},
        ValueError,
        "one stream per partition",
    ),
    ("mappings-bad-item", {"partition_mappings": [("a",)]}, TypeError, "partition_mappings"),
    (
        "mappings-too-many",
        {"partition_mappings": {f"s{i}": i + 1 for i in range(10_001)}},
        ValueError,
        "more than 10000",
    ),
    ("retry-str", {"retry_policy": "x"}, TypeError, "retry_policy"),
    ("port-negative", {"stream_api_port": -1}, ValueError, "stream_api_port"),
    ("port-big", {"stream_api_port": 70_000}, ValueError, "stream_api_port"),
    ("port-str", {"stream_api_port": "1"}, ValueError, "stream_api_port"),
    ("flag-int", {"integrate_session_management": 1}, TypeError, "integrate_session_management"),
    ("flag-none", {"batching_responses": None}, TypeError, "batching_responses"),
    (
        "keygen-no-address",
        {"use_remote_key_generator": True},
        ValueError,
        "remote_key_generator_service_address",
    ),
    (
        "keygen-int-address",
        {"remote_key_generator_service_address": 5},
        TypeError,
        "remote_key_generator_service_address",
    ),
    (
        "init-timeout-negative",
        {"initialisation_timeout_seconds": -1},
        ValueError,
        "initialisation_timeout_seconds",
    ),
    (
        "init-timeout-nan",
        {"initialisation_timeout_seconds": math.nan},
        ValueError,
        "initialisation_timeout_seconds",
    ),
]:
    row(f"config-{name}", _config(**kwargs), Raises(error, fragment))

# BufferingConfiguration (validated when a sample reader is created)
for name, kwargs, fragment in [
    ("window-zero", {"buffering_window_length": 0}, "buffering_window_length"),
    ("window-nan", {"buffering_window_length": math.nan}, "buffering_window_length"),
    ("window-str", {"buffering_window_length": "1"}, "buffering_window_length"),
    ("slide-zero", {"sliding_window_percentage": 0}, "sliding_window_percentage"),
    ("slide-101", {"sliding_window_percentage": 101}, "sliding_window_percentage"),
    ("merge-str", {"merge_strategy": "x"}, "merge_strategy"),
    ("subscribed-str", {"subscribed_parameters": "abc"}, "subscribed_parameters"),
    ("subscribed-ints", {"subscribed_parameters": [1, 2]}, "subscribed_parameters"),
]:
    row(
        f"buffering-config-{name}",
        lambda env, kw=kwargs: env.api.get_sample_reader_api().create_service(
            BufferingConfiguration(**kw)
        ),
        Fails(fragment),
    )


def _create_session(**fields: Any) -> Call:
    def call(env: Env) -> Any:
        return env.sessions.create_new_session(SessionCreationInfo(**{"data_source": DS, **fields}))

    return call


# create_new_session
row(
    "create-not-info",
    lambda env: env.sessions.create_new_session("x"),
    Fails("session_creation_info"),
)
row(
    "create-none", lambda env: env.sessions.create_new_session(None), Fails("session_creation_info")
)
for name, fields, fragment in [
    ("ds-none", {"data_source": None}, "data_source"),
    ("ds-empty", {"data_source": ""}, "data_source"),
    ("ds-int", {"data_source": 5}, "data_source"),
    ("ds-space", {"data_source": "a b"}, "data_source"),
    ("ds-slash", {"data_source": "a/b"}, "data_source"),
    ("ds-dotdot", {"data_source": ".."}, "data_source"),
    ("ds-long", {"data_source": "d" * 300}, "data_source"),
    ("ds-huge", {"data_source": LONG}, "data_source"),
    ("ds-unicode", {"data_source": "données"}, "data_source"),
    ("identifier-int", {"identifier": 5}, "identifier"),
    ("identifier-none", {"identifier": None}, "identifier"),
    ("identifier-surrogate", {"identifier": SURROGATE}, "lone surrogate"),
    ("identifier-huge", {"identifier": LONG}, "too long"),
    ("type-int", {"type": 5}, "type"),
    ("type-surrogate", {"type": SURROGATE}, "type"),
    ("version-negative", {"version": -1}, "version"),
    ("version-2e32", {"version": 2**32}, "version"),
    ("version-bool", {"version": True}, "version"),
    ("version-str", {"version": "1"}, "version"),
    ("utc-int", {"utc_offset": 5}, "utc_offset"),
    ("utc-1e8-days", {"utc_offset": datetime.timedelta(days=10**8)}, "utc_offset"),
    ("utc-25h", {"utc_offset": datetime.timedelta(hours=25)}, "utc_offset"),
    ("utc-minus-25h", {"utc_offset": datetime.timedelta(hours=-25)}, "utc_offset"),
    ("associates-str", {"associate_session_keys": "abc"}, "associate_session_keys"),
    ("associates-ints", {"associate_session_keys": [5]}, "associate_session_keys"),
    ("associates-empty-key", {"associate_session_keys": [""]}, "associate_session_keys"),
    ("associates-unknown", {"associate_session_keys": ["no-such-session"]}, "not a known session"),
    ("associates-huge-key", {"associate_session_keys": [LONG]}, "too long"),
    (
        "associates-too-many",
        {"associate_session_keys": [f"k{i}" for i in range(10_001)]},
        "at most 10000",
    ),
    ("details-value-huge", {"details": {"k": LONG}}, "details value"),
    ("details-key-huge", {"details": {LONG: "v"}}, "details key"),
    ("details-key-empty", {"details": {"": "v"}}, "details key"),
    ("details-surrogate", {"details": {"k": SURROGATE}}, "lone surrogate"),
    ("details-too-many", {"details": {f"k{i}": "v" for i in range(10_001)}}, "at most 10000"),
]:
    row(f"create-{name}", _create_session(**fields), Fails(fragment))
row(
    "create-details-str",
    lambda env: SessionCreationInfo(DS, details="abc"),
    Raises(TypeError, "details"),
)
row(
    "create-details-int-value",
    lambda env: SessionCreationInfo(DS, details={"k": 5}),
    Raises(TypeError, "details"),
)
row(
    "create-details-bad-item",
    lambda env: SessionCreationInfo(DS, details=[5]),
    Raises(TypeError, "details"),
)

# lookups and updates of sessions
KEY_CASES = [
    ("none", None, "session_key"),
    ("int", 5, "session_key"),
    ("empty", "", "session_key"),
    ("huge", LONG, "too long"),
    ("surrogate", SURROGATE, "session_key"),
    ("unknown", "no-such-session", "not a known session"),
]
for name, key, fragment in KEY_CASES:
    row(
        f"get-info-key-{name}",
        lambda env, k=key: env.sessions.get_session_info(DS, k),
        Fails(fragment),
    )
    row(
        f"update-identifier-key-{name}",
        lambda env, k=key: env.sessions.update_identifier(DS, k, "n"),
        Fails(fragment),
    )
    row(
        f"update-details-key-{name}",
        lambda env, k=key: env.sessions.update_session_details(DS, k, {"a": "b"}),
        Fails(fragment),
    )
    row(
        f"add-associate-key-{name}",
        lambda env, k=key: env.sessions.add_associate_session(DS, k, env.ended_key),
        Fails(fragment),
    )
    row(
        f"end-session-key-{name}",
        lambda env, k=key: env.sessions.end_session(DS, k),
        Fails(fragment),
    )
for name, data_source, fragment in [
    ("none", None, "data_source"),
    ("int", 5, "data_source"),
    ("empty", "", "data_source"),
    ("other", "Other", "belongs to data source"),
]:
    row(
        f"get-info-ds-{name}",
        lambda env, d=data_source: env.sessions.get_session_info(d, env.live_key),
        Fails(fragment),
    )
    row(
        f"end-session-ds-{name}",
        lambda env, d=data_source: env.sessions.end_session(d, env.live_key),
        Fails(fragment),
    )
row(
    "end-session-twice",
    lambda env: env.sessions.end_session(DS, env.ended_key),
    Fails("already ended"),
)
for name, value, fragment in [
    ("int", 5, "new_identifier"),
    ("none", None, "new_identifier"),
    ("surrogate", SURROGATE, "lone surrogate"),
    ("huge", LONG, "too long"),
]:
    row(
        f"update-identifier-{name}",
        lambda env, v=value: env.sessions.update_identifier(DS, env.live_key, v),
        Fails(fragment),
    )
for name, value, fragment in [
    ("none", None, "session_details"),
    ("str", "abc", "session_details"),
    ("ints", [5], "session_details"),
    ("int-value", {"k": 5}, "session_details"),
    ("huge-value", {"k": LONG}, "session_details value"),
    ("huge-key", {LONG: "v"}, "session_details key"),
    ("surrogate-value", {"k": SURROGATE}, "lone surrogate"),
    ("too-many", {f"k{i}": "v" for i in range(10_001)}, "at most 10000"),
]:
    row(
        f"update-details-{name}",
        lambda env, v=value: env.sessions.update_session_details(DS, env.live_key, v),
        Fails(fragment),
    )
for name, value, fragment in [
    ("none", None, "adding_associate_key"),
    ("int", 5, "adding_associate_key"),
    ("empty", "", "adding_associate_key"),
    ("self", "{live}", "itself"),
    ("unknown", "no-such-session", "not a known session"),
    ("huge", LONG, "too long"),
]:
    row(
        f"add-associate-{name}",
        lambda env, v=value: env.sessions.add_associate_session(
            DS, env.live_key, env.live_key if v == "{live}" else v
        ),
        Fails(fragment),
    )

# data formats
for name, value, fragment in [
    ("none", None, "parameter_identifiers"),
    ("str", "a", "parameter_identifiers"),
    ("bytes", b"a", "parameter_identifiers"),
    ("int", 5, "parameter_identifiers"),
    ("empty", [], "must not be empty"),
    ("int-item", [5], "parameter_identifiers"),
    ("empty-item", [""], "parameter_identifiers"),
    ("comma", ["a,b"], "','"),
    ("comma-second", ["a", "b,c"], "','"),
    ("surrogate", [SURROGATE], "lone surrogate"),
    ("huge", [LONG], "too long"),
    ("too-many", [f"p{i}" for i in range(100_001)], "at most 100000"),
]:
    row(
        f"format-id-{name}",
        lambda env, v=value: env.formats.get_parameter_data_format_id(DS, v),
        Fails(fragment),
    )
DS_CASES = [
    ("none", None, "data_source"),
    ("int", 5, "data_source"),
    ("empty", "", "data_source"),
    ("space", "a b", "data_source"),
    ("huge", LONG, "data_source"),
    ("surrogate", SURROGATE, "data_source"),
]
for name, data_source, fragment in DS_CASES:
    row(
        f"format-id-ds-{name}",
        lambda env, d=data_source: env.formats.get_parameter_data_format_id(d, ["p:A"]),
        Fails(fragment),
    )
    row(
        f"parameters-list-ds-{name}",
        lambda env, d=data_source: env.formats.get_parameters_list(d, env.format_id),
        Fails(fragment),
    )
    row(
        f"event-id-ds-{name}",
        lambda env, d=data_source: env.formats.get_event_data_format_id(d, "e"),
        Fails(fragment),
    )
    row(
        f"get-event-ds-{name}",
        lambda env, d=data_source: env.formats.get_event(d, env.format_id),
        Fails(fragment),
    )
    row(
        f"format-info-ds-{name}",
        lambda env, d=data_source: env.formats.get_data_source_data_format_info(d),
        Fails(fragment),
    )
for name, value, fragment in [
    ("negative", -1, "data_format_id"),
    ("2e64", 2**64, "data_format_id"),
    ("str", "1", "data_format_id"),
    ("bool", True, "data_format_id"),
    ("none", None, "data_format_id"),
    ("float", 1.0, "data_format_id"),
    ("unknown", 12345, "is not defined"),
]:
    row(
        f"parameters-list-id-{name}",
        lambda env, v=value: env.formats.get_parameters_list(DS, v),
        Fails(fragment),
    )
    row(
        f"get-event-id-{name}",
        lambda env, v=value: env.formats.get_event(DS, v),
        Fails("data_format_id" if name != "unknown" else "is not an event format"),
    )
for name, value, fragment in [
    ("none", None, "event_name"),
    ("int", 5, "event_name"),
    ("empty", "", "event_name"),
    ("surrogate", SURROGATE, "lone surrogate"),
    ("huge", LONG, "too long"),
]:
    row(
        f"event-id-{name}",
        lambda env, v=value: env.formats.get_event_data_format_id(DS, v),
        Fails(fragment),
    )

# packet writer
for name, args, fragment in [
    ("ds-none", (None, "", "{key}", "{good}"), "data_source"),
    ("ds-int", (5, "", "{key}", "{good}"), "data_source"),
    ("ds-huge", (LONG, "", "{key}", "{good}"), "data_source"),
    ("ds-other", ("Other", "", "{key}", "{good}"), "belongs to data source"),
    ("stream-int", (DS, 5, "{key}", "{good}"), "stream"),
    ("stream-space", (DS, "a b", "{key}", "{good}"), "stream"),
    ("stream-huge", (DS, LONG, "{key}", "{good}"), "stream"),
    ("key-none", (DS, "", None, "{good}"), "session_key"),
    ("key-int", (DS, "", 5, "{good}"), "session_key"),
    ("key-empty", (DS, "", "", "{good}"), "session_key"),
    ("key-huge", (DS, "", LONG, "{good}"), "too long"),
    ("key-unknown", (DS, "", "no-such-session", "{good}"), "not a known session"),
    ("key-ended", (DS, "", "{ended}", "{good}"), "has ended"),
    ("packet-none", (DS, "", "{key}", None), "packet_bytes"),
    ("packet-bytes", (DS, "", "{key}", b"\x0a\x01a"), "packet_bytes"),
    ("packet-str", (DS, "", "{key}", "abc"), "packet_bytes"),
    (
        "packet-garbage",
        (DS, "", "{key}", PacketBytes(b"\xff\xff\xff")),
        "not a serialized Open Data Packet",
    ),
    ("packet-empty", (DS, "", "{key}", PacketBytes(b"")), "type is empty"),
    ("packet-empty-type", (DS, "", "{key}", pb.Packet(session_key="x")), "type is empty"),
    ("packet-other-session", (DS, "", "{key}", "{other}"), "names session"),
]:

    def write(env: Env, a: tuple[Any, ...] = args) -> Any:
        values = {
            "{key}": env.live_key,
            "{ended}": env.ended_key,
            "{good}": env.packet(),
            "{other}": env.packet(key="another-session"),
        }
        return env.writer.write_data(*[values.get(v, v) if isinstance(v, str) else v for v in a])

    row(f"write-data-{name}", write, Fails(fragment))
for name, make, info_type, fragment in [
    ("none", lambda env: None, InfoType.SESSION_INFO, "packet_bytes"),
    ("bytes", lambda env: b"x", InfoType.SESSION_INFO, "packet_bytes"),
    (
        "garbage",
        lambda env: PacketBytes(b"\xff\xff"),
        InfoType.SESSION_INFO,
        "not a serialized Open Data Packet",
    ),
    (
        "no-key",
        lambda env: env.packet("SessionInfo", key=""),
        InfoType.SESSION_INFO,
        "session_key is empty",
    ),
    (
        "huge-key",
        lambda env: env.packet("SessionInfo", key="k" * 300),
        InfoType.SESSION_INFO,
        "too long",
    ),
    (
        "unknown-session",
        lambda env: env.packet("SessionInfo", key="no-such-session"),
        InfoType.SESSION_INFO,
        "not a known session",
    ),
    (
        "unknown-type",
        lambda env: env.packet("Nonsense"),
        InfoType.SESSION_INFO,
        "not an Open Data packet type",
    ),
    (
        "garbage-content",
        lambda env: env.packet("SessionInfo", content=b"\xff\xff\xff"),
        InfoType.SESSION_INFO,
        "content is not a serialized SessionInfo",
    ),
    ("info-type-7", lambda env: env.packet("SessionInfo"), 7, "info_type"),
    ("info-type-str", lambda env: env.packet("SessionInfo"), "x", "info_type"),
]:
    row(
        f"write-info-{name}",
        lambda env, m=make, t=info_type: env.writer.write_info(m(env), t),
        Fails(fragment),
    )

# module APIs and reader configuration
for name, args, fragment in [
    ("ds-int", (5, "k"), "data_source"),
    ("ds-empty", ("", "k"), "data_source"),
    ("key-none", (DS, None), "session_key"),
    ("key-int", (DS, 5), "session_key"),
    ("config-and-key", (PacketReadingConfiguration(), "k"), "session_key"),
]:
    row(
        f"reader-create-{name}",
        lambda env, a=args: env.api.get_reading_packet_api().create_service(*a),
        Fails(fragment),
    )
for name, kwargs, fragment in [
    ("key-int", {"session_key": 5}, "session_key"),
    ("timeout-zero", {"timeout_seconds": 0}, "timeout_seconds"),
    ("timeout-nan", {"timeout_seconds": math.nan}, "timeout_seconds"),
    ("timeout-str", {"timeout_seconds": "1"}, "timeout_seconds"),
    ("ds-empty", {"data_source": ""}, "data_source"),
    ("ds-int", {"data_source": 5}, "data_source"),
    ("ds-space", {"data_source": "a b"}, "data_source"),
    ("pattern-int", {"session_identifier_pattern": 5}, "session_identifier_pattern"),
    ("type-int", {"reading_type": 9}, "reading_type"),
    ("streams-str", {"streams": "abc"}, "streams"),
    ("streams-ints", {"streams": [5]}, "streams"),
    ("streams-space", {"streams": ["a b"]}, "stream"),
]:
    row(
        f"reader-config-{name}",
        lambda env, kw=kwargs: env.api.get_reading_packet_api().create_service_with_config(
            PacketReadingConfiguration(**kw)
        ),
        Fails(fragment),
    )
row(
    "reader-config-not-config",
    lambda env: env.api.get_reading_packet_api().create_service_with_config("x"),
    Fails("config"),
)
row(
    "buffering-create-not-config",
    lambda env: env.api.get_sample_reader_api().create_service("x"),
    Fails("buffering_configuration"),
)
row(
    "buffering-create-none",
    lambda env: env.api.get_sample_reader_api().create_service(None),
    Fails("buffering_configuration"),
)
row(
    "reader-set-handler-none",
    lambda env: env.reader.set_handler(None),
    Raises(TypeError, "handler"),
)
row("reader-set-handler-int", lambda env: env.reader.set_handler(5), Raises(TypeError, "handler"))
row(
    "reader-packets-bad-queue",
    lambda env: env.reader.packets(max_queued=0),
    Raises((ValueError, TypeError), "max_queued"),
)  # type: ignore[arg-type]

# buffering
row(
    "buffering-set-reader-none",
    lambda env: env.buffering.set_reader_service(None),
    Raises(TypeError, "reading_service"),
)
row(
    "buffering-set-reader-int",
    lambda env: env.buffering.set_reader_service(5),
    Raises(TypeError, "reading_service"),
)
row(
    "buffering-set-reader-str",
    lambda env: env.buffering.set_reader_service("reader"),
    Raises(TypeError, "reading_service"),
)
for name, value in [("int", 5), ("none", None), ("str", "abc"), ("ints", [5]), ("bytes", b"a")]:
    row(
        f"buffering-subscribe-{name}",
        lambda env, v=value: env.buffering.subscribe(v),
        Refused("parameter_identifiers"),
    )
    row(
        f"buffering-unsubscribe-{name}",
        lambda env, v=value: env.buffering.unsubscribe(v),
        Refused("parameter_identifiers"),
    )
row(
    "buffering-set-handler-none",
    lambda env: env.buffering.set_handler(None),
    Raises(TypeError, "handler"),
)
row(
    "buffering-set-handler-bad-type",
    lambda env: env.buffering.set_handler(_Samples(), int),
    Raises(TypeError, "data_type"),
)


# interpolation
def _subscribe(**changes: Any) -> Call:
    def call(env: Env) -> Any:
        arguments: dict[str, Any] = {
            "subscription_key": "bad-input",
            "parameter_identifiers": ["p:A"],
            "subscription_frequency_hz": 10.0,
            "handler": _Batches(),
            **changes,
        }
        return env.interpolation.subscribe(**arguments)

    return call


for name, changes, fragment in [
    ("key-int", {"subscription_key": 5}, "subscription_key"),
    ("key-empty", {"subscription_key": ""}, "subscription_key"),
    ("ids-str", {"parameter_identifiers": "abc"}, "parameter_identifiers"),
    ("ids-int", {"parameter_identifiers": 5}, "parameter_identifiers"),
    ("ids-empty", {"parameter_identifiers": []}, "parameter_identifiers"),
    ("ids-ints", {"parameter_identifiers": [5]}, "parameter_identifiers"),
    ("hz-zero", {"subscription_frequency_hz": 0}, "subscription_frequency_hz"),
    ("hz-negative", {"subscription_frequency_hz": -1}, "subscription_frequency_hz"),
    ("hz-nan", {"subscription_frequency_hz": math.nan}, "subscription_frequency_hz"),
    ("hz-inf", {"subscription_frequency_hz": math.inf}, "subscription_frequency_hz"),
    ("hz-tiny", {"subscription_frequency_hz": 1e-12}, "subscription_frequency_hz"),
    ("hz-huge", {"subscription_frequency_hz": 1e10}, "subscription_frequency_hz"),
    ("hz-str", {"subscription_frequency_hz": "10"}, "subscription_frequency_hz"),
    ("delivery-zero", {"delivery_frequency_hz": 0}, "delivery_frequency_hz"),
    ("delivery-nan", {"delivery_frequency_hz": math.nan}, "delivery_frequency_hz"),
    ("handler-none", {"handler": None}, "handler"),
    ("handler-int", {"handler": 5}, "handler"),
    ("processor-int", {"processor": 5}, "processor"),
    ("fill-str", {"fill": "linear"}, "fill"),
    (
        "fill-with-processor",
        {"fill": FillMode.LINEAR, "processor": type("P", (), {"process": lambda self, c: None})()},
        "fill",
    ),
]:
    row(f"interpolation-subscribe-{name}", _subscribe(**changes), Refused(fragment))
row(
    "interpolation-unsubscribe-unknown",
    lambda env: env.interpolation.unsubscribe("no-such"),
    Refused("no subscription"),
)
row(
    "interpolation-unsubscribe-int",
    lambda env: env.interpolation.unsubscribe(5),
    Refused("no subscription"),
)


# session functions
def _read(*args: Any, **kwargs: Any) -> Call:
    return lambda env: read_session(
        *(env.ended_key if a == "{ended}" else a for a in args),
        **{"broker_list": env.store, **kwargs},
    )


for name, args, kwargs, error, fragment in [
    ("key-int", (5,), {}, ConfigurationError, "session_key"),
    ("key-none", (None,), {}, ConfigurationError, "session_key"),
    ("key-empty", ("",), {}, ConfigurationError, "session_key"),
    ("key-huge", (LONG,), {}, ConfigurationError, "too long"),
    ("key-unknown", ("no-such-session",), {}, SessionNotFoundError, "no-such-session"),
    ("ds-int", ("{ended}",), {"data_source": 5}, ConfigurationError, "data_source"),
    ("ds-space", ("{ended}",), {"data_source": "a b"}, ConfigurationError, "data_source"),
    ("ds-other", ("{ended}",), {"data_source": "Other"}, SessionNotFoundError, "Other"),
    ("streams-str", ("{ended}",), {"streams": "abc"}, ConfigurationError, "streams"),
    ("streams-int", ("{ended}",), {"streams": 5}, ConfigurationError, "streams"),
    ("streams-ints", ("{ended}",), {"streams": [5]}, ConfigurationError, "streams"),
    ("progress-int", ("{ended}",), {"progress": 5}, ConfigurationError, "progress"),
    ("progress-str", ("{ended}",), {"progress": "x"}, ConfigurationError, "progress"),
    (
        "mappings-int",
        ("{ended}",),
        {"partition_mappings": 5},
        ConfigurationError,
        "partition_mappings",
    ),
    (
        "mappings-zero",
        ("{ended}",),
        {"partition_mappings": {"a": 0}},
        ConfigurationError,
        "partition_mappings",
    ),
    (
        "mappings-huge",
        ("{ended}",),
        {"partition_mappings": {"a": 2**40}},
        ConfigurationError,
        "1…10000",
    ),
    ("timeout-negative", ("{ended}",), {"timeout_s": -1}, ValueError, "timeout_seconds"),
    ("timeout-nan", ("{ended}",), {"timeout_s": math.nan}, ValueError, "timeout_seconds"),
    (
        "props-str",
        ("{ended}",),
        {"additional_properties": "a=b"},
        TypeError,
        "additional_properties",
    ),
    ("broker-int", ("{ended}",), {"broker_list": 5}, TypeError, "broker_list"),
]:
    row(f"read-session-{name}", _read(*args, **kwargs), Raises(error, fragment))
row(
    "read-session-missing-store",
    lambda env: read_session("k", f"embedded:{env.tmp / 'missing.db'}"),
    Raises(StoreNotFoundError, "no store"),
)
row(
    "list-sessions-missing-store",
    lambda env: list_sessions(f"embedded:{env.tmp / 'missing.db'}"),
    Raises(StoreNotFoundError, "no store"),
)
row(
    "list-sessions-progress-int",
    lambda env: list_sessions(env.store, count_packets=True, progress=5),
    Raises(ConfigurationError, "progress"),
)
row(
    "list-sessions-timeout-zero",
    lambda env: list_sessions(env.store, timeout_s=0),
    Raises(ValueError, "timeout_seconds"),
)
row("store-broker-int", lambda env: SessionStore(5), Raises(TypeError, "broker_list"))
row(
    "store-config-and-props",
    lambda env: SessionStore(
        StreamingApiConfiguration(env.store), additional_properties={"a": "b"}
    ),
    Raises(ConfigurationError, "additional_properties"),
)
row(
    "copy-missing-source",
    lambda env: copy_session(
        "k", f"embedded:{env.tmp / 'missing.db'}", f"embedded:{env.tmp / 'copy.db'}"
    ),
    Raises(StoreNotFoundError, "no store"),
)
row(
    "copy-unknown-key",
    lambda env: copy_session("no-such-session", env.store, f"embedded:{env.tmp / 'copy.db'}"),
    Raises(SessionNotFoundError, "no-such-session"),
)
row(
    "copy-key-int",
    lambda env: copy_session(5, env.store, f"embedded:{env.tmp / 'copy.db'}"),
    Raises(ConfigurationError, "session_key"),
)
for name, kwargs, error, fragment in [
    ("ds-int", {"data_source": 5}, ConfigurationError, "data_source"),
    ("ds-space", {"data_source": "a b"}, ConfigurationError, "data_source"),
    ("identifier-int", {"identifier": 5}, ConfigurationError, "identifier"),
    ("identifier-surrogate", {"identifier": SURROGATE}, ConfigurationError, "lone surrogate"),
    ("details-str", {"details": "abc"}, (ConfigurationError, TypeError), "details"),
    ("details-huge", {"details": {"k": LONG}}, ConfigurationError, "details value"),
    ("packet-bytes-small", {"max_packet_bytes": 10}, ConfigurationError, "max_packet_bytes"),
    ("timeout-zero", {"timeout_s": 0}, ValueError, "timeout_seconds"),
    (
        "parameter-bad",
        {"parameters": {"p:A": Parameter(frequency_hz=-1)}},
        ConfigurationError,
        "frequency",
    ),
]:
    row(
        f"open-writer-{name}",
        lambda env, kw=kwargs: open_session_writer(env.store, **kw),
        Raises(error, fragment),
    )  # type: ignore[arg-type]


def _session_writer(action: Callable[[Any], Any]) -> Call:
    def call(env: Env) -> Any:
        with open_session_writer(env.store, data_source=DS, identifier="table") as writer:
            return action(writer)

    return call


for name, action, error, fragment in [
    (
        "periodic-params-empty",
        lambda w: w.write_periodic([], 0, 1, []),
        ConfigurationError,
        "parameters",
    ),
    (
        "periodic-params-int",
        lambda w: w.write_periodic(5, 0, 1, [1.0]),
        (ConfigurationError, TypeError),
        "parameters",
    ),
    (
        "periodic-params-twice",
        lambda w: w.write_periodic(["a:A", "a:A"], 0, 1, [[1.0], [1.0]]),
        ConfigurationError,
        "twice",
    ),
    (
        "periodic-shape",
        lambda w: w.write_periodic(["a:A", "b:B"], 0, 1, [1.0, 2.0]),
        ConfigurationError,
        "shape",
    ),
    (
        "periodic-comma",
        lambda w: w.write_periodic("a,b", 0, 1, [1.0]),
        (ConfigurationError, StreamingError),
        "','",
    ),
    (
        "periodic-samples-zero",
        lambda w: w.write_periodic("a:A", 0, 1, [1.0], samples_per_packet=0),
        ConfigurationError,
        "samples_per_packet",
    ),
    (
        "rows-2d-timestamps",
        lambda w: w.write_rows(np.zeros((2, 2), dtype=np.int64), {"a:A": [1.0, 2.0]}),
        ConfigurationError,
        "timestamps_ns",
    ),
    (
        "rows-float-timestamps",
        lambda w: w.write_rows([1.5], {"a:A": [1.0]}),
        ConfigurationError,
        "timestamps_ns",
    ),
    (
        "rows-length",
        lambda w: w.write_rows(np.arange(3), {"a:A": [1.0]}),
        ConfigurationError,
        "shape",
    ),
    ("event-empty", lambda w: w.event("", 0), (ConfigurationError, StreamingError), "event_name"),
    (
        "details-huge",
        lambda w: w.details({"k": LONG}),
        (ConfigurationError, StreamingError),
        "session_details value",
    ),
]:
    row(f"session-writer-{name}", _session_writer(action), Raises(error, fragment))


# aio
def _aio(action: Callable[[AsyncPacketWriter, Env], Any]) -> Call:
    def call(env: Env) -> Any:
        async def run() -> Any:
            writer = AsyncPacketWriter(env.writer)
            try:
                return await action(writer, env)
            finally:
                await writer.aclose()

        return asyncio.run(run())

    return call


row(
    "aio-max-pending-zero",
    lambda env: AsyncPacketWriter(env.writer, max_pending=0),
    Raises(ConfigurationError, "max_pending"),
)
row(
    "aio-max-pending-str",
    lambda env: AsyncPacketWriter(env.writer, max_pending="1"),
    Raises(ConfigurationError, "max_pending"),
)
row(
    "aio-write-bad-key", _aio(lambda w, env: w.write(DS, "", 5, env.packet())), Fails("session_key")
)
row(
    "aio-write-bad-packet",
    _aio(lambda w, env: w.write(DS, "", env.live_key, b"x")),
    Fails("packet_bytes"),
)
row(
    "aio-write-info-garbage",
    _aio(lambda w, env: w.write_info(PacketBytes(b"\xff"))),
    Fails("packet_bytes"),
)
row(
    "aio-packets-bad-queue",
    lambda env: packets(env.reader, max_queued=0),
    Raises((ValueError, ConfigurationError), "max_queued"),
)  # type: ignore[arg-type]

# the command line
for name, argv, code, fragment in [
    ("timeout-negative", ["sessions", "--timeout", "-1"], 2, "--timeout"),
    ("timeout-zero", ["sessions", "--timeout", "0"], 2, "--timeout"),
    ("timeout-nan", ["sessions", "--timeout", "nan"], 2, "--timeout"),
    ("timeout-inf", ["sessions", "--timeout", "inf"], 2, "--timeout"),
    ("timeout-word", ["sessions", "--timeout", "soon"], 2, "--timeout"),
    ("timeout-before-command", ["--timeout", "-5", "sessions"], 2, "--timeout"),
    ("tail-duration-negative", ["tail", "--duration", "-1"], 2, "--duration"),
    ("tail-duration-nan", ["tail", "--duration", "nan"], 2, "--duration"),
    ("tail-duration-zero", ["tail", "--duration", "0"], 2, "--duration"),
    (
        "tail-data-source-space",
        ["tail", "--data-source", "a b", "--duration", "1"],
        2,
        "data_source",
    ),
    ("sessions-stale-word", ["sessions", "--stale-after", "soon"], 2, "--stale-after"),
    ("sessions-stale-negative", ["sessions", "--stale-after", "-1s"], 2, "--stale-after"),
    ("sessions-json-and-csv", ["sessions", "--json", "--csv"], 2, "not allowed"),
    ("show-no-key", ["show"], 2, "KEY"),
    ("show-unknown", ["show", "no-such-session"], 2, "no-such-session"),
    ("end-nothing", ["end"], 2, "KEY or --stale-after"),
    ("end-both", ["end", "k", "--stale-after", "1h"], 2, "KEY or --stale-after"),
    ("end-unknown", ["end", "no-such-session"], 2, "no-such-session"),
    ("export-no-out", ["export", "k"], 2, "--out"),
    ("export-bad-format", ["export", "k", "--out", "x.xml", "--format", "xml"], 2, "--format"),
    ("export-unknown-suffix", ["export", "{ended}", "--out", "{tmp}/x.xml"], 2, "x.xml"),
    (
        "export-unknown-key",
        ["export", "no-such-session", "--out", "{tmp}/x.csv"],
        2,
        "no-such-session",
    ),
    (
        "resample-hz-zero",
        ["resample", "{ended}", "p:A", "--hz", "0", "--out", "{tmp}/r.csv"],
        2,
        "--hz",
    ),
    (
        "resample-hz-nan",
        ["resample", "{ended}", "p:A", "--hz", "nan", "--out", "{tmp}/r.csv"],
        2,
        "--hz",
    ),
    (
        "resample-hz-tiny",
        ["resample", "{ended}", "p:A", "--hz", "1e-12", "--out", "{tmp}/r.csv"],
        2,
        "--hz",
    ),
    (
        "resample-hz-word",
        ["resample", "{ended}", "p:A", "--hz", "fast", "--out", "{tmp}/r.csv"],
        2,
        "--hz",
    ),
    (
        "resample-window-negative",
        ["resample", "{ended}", "p:A", "--window-ms", "-1", "--out", "{tmp}/r.csv"],
        2,
        "--window-ms",
    ),
    ("resample-no-params", ["resample", "{ended}", "--out", "{tmp}/r.csv"], 2, "PARAM"),
    ("plot-no-out", ["plot", "k", "p:A"], 2, "--out"),
    (
        "plot-unknown-key",
        ["plot", "no-such-session", "p:A", "--out", "{tmp}/p.png"],
        2,
        "no-such-session",
    ),
    ("copy-no-to", ["copy", "--from", "{store}"], 2, "--to"),
    (
        "copy-missing-source",
        ["copy", "--from", "embedded:{tmp}/missing.db", "--to", "embedded:{tmp}/c.db"],
        2,
        "no store",
    ),
    ("serve-port-word", ["serve", "--port", "x"], 2, "--port"),
    ("property-no-equals", ["sessions", "--property", "abc"], 2, "--property"),
    (
        "properties-file-missing",
        ["sessions", "--properties-file", "{tmp}/none.properties"],
        2,
        "--properties-file",
    ),
    ("unknown-command", ["frobnicate"], 2, "invalid choice"),
    ("read-missing-store", ["sessions", "--broker", "embedded:{tmp}/missing.db"], 2, "no store"),
]:
    row(f"cli-{name}", lambda env, a=argv: _cli(env, a), Exits(code, fragment))


def _cli(env: Env, argv: list[str]) -> tuple[int, str]:
    values = {"{ended}": env.ended_key, "{store}": env.store}
    arguments = [
        values.get(a, a).replace("{tmp}", str(env.tmp)).replace("{store}", env.store) for a in argv
    ]
    if "--broker" not in arguments and "copy" not in arguments:
        arguments = ["--broker", env.store, *arguments]
    try:
        return cli_main(arguments), ""
    except SystemExit as exit_info:
        return int(exit_info.code or 0), ""


# the test ----------------------------------------------------------------------------------------
def test_the_table_is_large_enough() -> None:
    assert len(ROWS) >= 300, len(ROWS)
    assert len({name for name, _, _ in ROWS}) == len(ROWS), "row names must be unique"


@pytest.mark.parametrize(("name", "call", "expect"), ROWS, ids=[r[0] for r in ROWS])
def test_bad_input(
    name: str,
    call: Call,
    expect: Expect,
    env: Env,
    caplog: pytest.LogCaptureFixture,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv(BROKER_ENVIRONMENT_VARIABLE, raising=False)
    if isinstance(expect, Raises):
        with pytest.raises(expect.error) as raised:
            call(env)
        assert expect.fragment in str(raised.value), str(raised.value)[:500]
        assert len(str(raised.value)) < 2_000
    elif isinstance(expect, Fails):
        result = call(env)
        assert result.success is False, result
        assert expect.fragment in result.error_message, result.error_message[:500]
        assert len(result.error_message) < 2_000
    elif isinstance(expect, Refused):
        with caplog.at_level(logging.ERROR):
            assert call(env) is False
        logged = " ".join(r.getMessage() for r in caplog.records if r.levelno >= logging.ERROR)
        assert expect.fragment in logged, logged[:500]
    else:
        code, _ = call(env)
        err = capsys.readouterr().err
        assert code == expect.code, err[-2_000:]
        assert expect.fragment in err, err[-2_000:]
        assert "Traceback" not in err
    _healthy(env)


def test_messages_quote_arguments_cut_short() -> None:
    with pytest.raises(ValueError) as raised:
        StreamingApiConfiguration(timeout_seconds=LONG)  # type: ignore[arg-type]
    assert "timeout_seconds" in str(raised.value) and len(str(raised.value)) < 300

"""The official package's public surface exists and behaves.

Code written for ``ma_dataplatforms_streaming_support_library`` imports individual modules, builds
configuration objects positionally, subclasses ``IHandler[ReceivedPacketDto]`` and passes fresh
bound methods to ``unsubscribe``: every one of those uses is checked here, without any I/O.
"""

from __future__ import annotations

import datetime
import enum
import inspect
import json
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Any, Optional

import pytest

from ma_dataplatforms_streaming_support_library.contracts.packet_reading.coverage_cursor_info import (
    CoverageCursorInfo,
)
from ma_dataplatforms_streaming_support_library.contracts.packet_reading.i_packet_reader_service import (
    IPacketReaderService,
)
from ma_dataplatforms_streaming_support_library.contracts.packet_reading.i_packet_reading_module_api import (
    IPacketReadingModuleApi,
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
from ma_dataplatforms_streaming_support_library.contracts.packet_writing.i_packet_writer_service import (
    IPacketWriterService,
)
from ma_dataplatforms_streaming_support_library.contracts.packet_writing.info_type import InfoType
from ma_dataplatforms_streaming_support_library.contracts.packet_writing.packet_bytes import (
    PacketBytes,
)
from ma_dataplatforms_streaming_support_library.contracts.session_management.session_creation_info import (
    SessionCreationInfo,
)
from ma_dataplatforms_streaming_support_library.contracts.session_management.session_info import (
    SessionInfo,
)
from ma_dataplatforms_streaming_support_library.contracts.shared.api_result import ApiResult
from ma_dataplatforms_streaming_support_library.contracts.shared.event import Event
from ma_dataplatforms_streaming_support_library.contracts.shared.i_handler import IHandler
from ma_dataplatforms_streaming_support_library.contracts.shared.stream_api_configuration import (
    StreamingApiConfiguration,
)
from ma_dataplatforms_streaming_support_library.contracts.shared.stream_creation_strategy import (
    StreamCreationStrategy,
)
from ma_dataplatforms_streaming_support_library.core.base.logger import ILogger, Logger
from ma_dataplatforms_streaming_support_library.core.base.support_library_bootstrapper import (
    SupportLibraryBootstrapper,
)

ROOT = "ma_dataplatforms_streaming_support_library"
SRC = Path(__file__).resolve().parents[2] / "src"

# §1: every module path with the public names it must hold.
MODULES: dict[str, list[str]] = {
    "core.base.support_library_bootstrapper": ["SupportLibraryBootstrapper"],
    "core.base.logger": ["Logger", "ILogger"],
    "contracts.shared.stream_api_configuration": ["StreamingApiConfiguration"],
    "contracts.shared.stream_creation_strategy": ["StreamCreationStrategy"],
    "contracts.shared.api_result": ["ApiResult"],
    "contracts.shared.i_handler": ["IHandler"],
    "contracts.packet_reading.i_handler": ["IHandler"],
    "contracts.session_management.i_session_management_service": ["ISessionManagementService"],
    "contracts.session_management.session_creation_info": ["SessionCreationInfo"],
    "contracts.session_management.session_info": ["SessionInfo"],
    "contracts.session_management.session_association_info": ["SessionAssociationInfo"],
    "contracts.data_format_management.i_data_format_management_service": [
        "IDataFormatManagementService"
    ],
    "contracts.packet_writing.i_packet_writer_service": ["IPacketWriterService"],
    "contracts.packet_writing.info_type": ["InfoType"],
    "contracts.packet_writing.packet_bytes": ["PacketBytes"],
    "contracts.packet_reading.packet_reading_configuration": ["PacketReadingConfiguration"],
    "contracts.packet_reading.packet_reading_type": ["PacketReadingType"],
    "contracts.packet_reading.i_packet_reader_service": ["IPacketReaderService"],
    "contracts.packet_reading.received_packet_dto": ["ReceivedPacketDto"],
    "contracts.packet_reading.stream_info": ["StreamInfo"],
    "contracts.packet_reading.coverage_cursor_info": ["CoverageCursorInfo"],
    "protos.open_data_pb2": [
        "Packet",
        "PeriodicDataPacket",
        "SampleDataFormat",
        "SampleColumn",
        "DoubleSampleList",
        "DoubleSample",
        "MarkerPacket",
        "SessionInfoPacket",
        "NewSessionPacket",
        "EndOfSessionPacket",
        "ConfigurationPacket",
        "ParameterDefinition",
        "GroupDefinition",
        "EventPacket",
        "DATA_STATUS_VALID",
        "DATA_TYPE_FLOAT64",
    ],
    "contracts.shared.event": ["Event"],
    "contracts.shared.i_support_lib_api": ["ISupportLibApi"],
    "contracts.shared.i_support_lib_api_factory": ["ISupportLibApiFactory"],
    "contracts.shared.i_service_model": ["IServiceModel"],
    "contracts.shared.retry_policy": ["RetryPolicy"],
    "contracts.shared.retry_mode": ["RetryMode"],
    "contracts.shared.partition_mapping": ["PartitionMapping"],
    "contracts.session_management.i_session_manager_module_api": ["ISessionManagerModuleApi"],
    "contracts.session_management.session_detail": ["SessionDetail"],
    "contracts.data_format_management.i_data_format_manager_module_api": [
        "IDataFormatManagerModuleApi"
    ],
    "contracts.data_format_management.parameter_data_format_info": ["ParameterDataFormatInfo"],
    "contracts.data_format_management.event_data_format_info": ["EventDataFormatInfo"],
    "contracts.data_format_management.data_format_info": ["DataFormatInfo"],
    "contracts.data_format_management.data_format_info_type": ["DataFormatInfoType"],
    "contracts.packet_writing.i_packet_writing_module_api": ["IPacketWritingModuleApi"],
    "contracts.packet_reading.i_packet_reading_module_api": ["IPacketReadingModuleApi"],
}

# Imports each module with every module of the package removed from sys.modules first, so a
# module that only works after another one was imported fails here.
_FRESH_IMPORTS = textwrap.dedent(
    """
    import importlib, json, sys, traceback
    root, modules = sys.argv[1], json.loads(sys.argv[2])
    results = {}
    for module, names in modules.items():
        for loaded in [m for m in sys.modules if m == root or m.startswith(root + ".")]:
            if not loaded.endswith("_pb2"):  # protobuf registers descriptors once per process
                del sys.modules[loaded]
        try:
            imported = importlib.import_module(root + "." + module)
            results[module] = [n for n in names if not hasattr(imported, n)]
        except BaseException:
            results[module] = traceback.format_exc()
    print(json.dumps(results))
    """
)


@pytest.fixture(scope="module")
def fresh_imports() -> dict[str, Any]:
    completed = subprocess.run(
        [sys.executable, "-c", _FRESH_IMPORTS, ROOT, json.dumps(MODULES)],
        capture_output=True,
        text=True,
        timeout=120,
        env={"PYTHONPATH": str(SRC), "PATH": "/usr/bin:/bin"},
        check=False,
    )
    assert completed.returncode == 0, completed.stderr
    results: dict[str, Any] = json.loads(completed.stdout.strip().splitlines()[-1])
    return results


@pytest.mark.parametrize("module", sorted(MODULES))
def test_module_imports_on_its_own_with_its_public_names(
    fresh_imports: dict[str, Any], module: str
) -> None:
    assert fresh_imports[module] == [], fresh_imports[module]


def test_protos_module_imports_first_in_a_fresh_interpreter() -> None:
    code = f"import {ROOT}.protos.open_data_pb2 as m; print(m.Packet(type='x').type)"
    completed = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        timeout=60,
        env={"PYTHONPATH": str(SRC), "PATH": "/usr/bin:/bin"},
        check=False,
    )
    assert completed.returncode == 0, completed.stderr
    assert completed.stdout.strip() == "x"


def test_importing_the_package_starts_no_thread_and_opens_nothing() -> None:
    code = textwrap.dedent(
        f"""
        import threading, importlib
        for module in {sorted(MODULES)!r}:
            importlib.import_module("{ROOT}." + module)
        print(threading.active_count())
        """
    )
    completed = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        timeout=60,
        env={"PYTHONPATH": str(SRC), "PATH": "/usr/bin:/bin", "HOME": "/nonexistent"},
        check=False,
    )
    assert completed.returncode == 0, completed.stderr
    assert completed.stdout.strip() == "1"


# §2 bootstrap, factory, library ---------------------------------------------------------------
def test_bootstrap_is_called_on_the_class_and_create_takes_no_arguments() -> None:
    configuration = StreamingApiConfiguration(
        "localhost:9092", StreamCreationStrategy.TOPIC_BASE, [], 10
    )

    factory = SupportLibraryBootstrapper.bootstrap(configuration, Logger())
    library = factory.create()

    for name in (
        "initialise",
        "start",
        "stop",
        "get_session_manager_api",
        "get_data_format_manager_api",
        "get_reading_packet_api",
        "get_writing_packet_api",
    ):
        assert callable(getattr(library, name)), name
    assert library.is_initialised is False
    library.stop()  # never initialised: harmless


def test_module_apis_have_the_official_create_methods() -> None:
    configuration = StreamingApiConfiguration(
        "localhost:9092", StreamCreationStrategy.TOPIC_BASE, [], 10
    )
    library = SupportLibraryBootstrapper.bootstrap(configuration, Logger()).create()

    for getter in (
        "get_session_manager_api",
        "get_data_format_manager_api",
        "get_writing_packet_api",
    ):
        assert callable(getattr(library, getter)().create_service)
    reading = library.get_reading_packet_api()
    assert isinstance(reading, IPacketReadingModuleApi)
    assert list(inspect.signature(reading.create_service).parameters) == [
        "data_source",
        "session_key",
    ]
    assert list(inspect.signature(reading.create_service_with_config).parameters) == ["config"]


# §3 shared contracts --------------------------------------------------------------------------
def test_api_result_positional_order_message_alias_and_subscription() -> None:
    result = ApiResult(False, None, "bad data_source")

    assert (result.success, result.data, result.error_message) == (False, None, "bad data_source")
    assert result.message == "bad data_source"
    assert ApiResult(True, 5).error_message == ""
    assert ApiResult[Optional[SessionInfo]] is not None  # noqa: UP045 - the sample's spelling

    def annotated() -> ApiResult[Optional[SessionInfo]]:  # noqa: UP045 - evaluated at definition
        return ApiResult(True, None)

    assert annotated().success


def test_ihandler_subclass_without_super_init_and_both_import_paths() -> None:
    from ma_dataplatforms_streaming_support_library.contracts.packet_reading import i_handler
    from ma_dataplatforms_streaming_support_library.contracts.shared import i_handler as shared

    assert i_handler.IHandler is shared.IHandler

    class Handler(IHandler[ReceivedPacketDto]):
        def __init__(self, service: object) -> None:  # no super().__init__(), like the sample
            self.service = service
            self.seen: list[ReceivedPacketDto] = []

        def handle(self, packet: ReceivedPacketDto) -> None:
            self.seen.append(packet)

    handler = Handler(object())
    dto = ReceivedPacketDto("ds", "key", "", PacketBytes(b"x"))
    handler.handle(dto)
    assert handler.seen == [dto]

    class Incomplete(IHandler[ReceivedPacketDto]):
        pass

    with pytest.raises(TypeError):
        Incomplete()  # type: ignore[abstract]


def test_event_unsubscribe_matches_a_fresh_bound_method_by_equality() -> None:
    class Notifier:
        def __init__(self) -> None:
            self.calls: list[tuple[object, object]] = []

        def on_event(self, sender: object, args: object) -> None:
            self.calls.append((sender, args))

    event: Event[str] = Event("session_reading_started")
    notifier = Notifier()
    assert event.subscribe(notifier.on_event) is None
    event.raise_event("sender", "first")

    assert event.unsubscribe(notifier.on_event) is None  # a new bound method object
    event.raise_event("sender", "second")

    assert notifier.calls == [("sender", "first")]
    event.unsubscribe(notifier.on_event)  # unsubscribing what is not there does not raise
    event += notifier.on_event
    event.raise_event("sender", "third")
    event -= notifier.on_event
    event.raise_event("sender", "fourth")
    assert notifier.calls == [("sender", "first"), ("sender", "third")]


def test_ilogger_is_abstract_with_four_methods_and_logger_needs_no_arguments() -> None:
    class Custom(ILogger):
        def debug(self, message: str) -> None: ...

        def info(self, message: str) -> None: ...

        def warning(self, message: str) -> None: ...

        def error(self, message: str) -> None: ...

    Custom().info("fine")
    Logger().info("fine")

    class Partial(ILogger):
        def info(self, message: str) -> None: ...

    with pytest.raises(TypeError):
        Partial()  # type: ignore[abstract]


def test_streaming_api_configuration_positional_order() -> None:
    configuration = StreamingApiConfiguration("host:9092", StreamCreationStrategy.TOPIC_BASE, [], 7)

    assert configuration.broker_list == "host:9092"
    assert configuration.stream_creation_strategy is StreamCreationStrategy.TOPIC_BASE
    assert configuration.timeout_seconds == 7
    parameters = inspect.signature(StreamingApiConfiguration).parameters
    assert list(parameters)[:4] == [
        "broker_list",
        "stream_creation_strategy",
        "additional_properties",
        "timeout_seconds",
    ]
    assert parameters["partition_mappings"].kind is inspect.Parameter.KEYWORD_ONLY
    assert parameters["retry_policy"].kind is inspect.Parameter.KEYWORD_ONLY
    mapped = StreamingApiConfiguration(
        broker_list="h:1",
        stream_creation_strategy=StreamCreationStrategy.PARTITION_BASE,
        additional_properties={"acks": "all"},
        timeout_seconds=10,
        partition_mappings={"stream1": 1, "stream2": 2},
    )
    assert mapped.partition_mappings == {"stream1": 1, "stream2": 2}


@pytest.mark.parametrize("mappings", [{"a": 0}, {"a": 1, "b": 1}, {"a": -2}])
def test_streaming_api_configuration_rejects_bad_partition_mappings(
    mappings: dict[str, int],
) -> None:
    with pytest.raises(ValueError, match="partition"):
        StreamingApiConfiguration(
            "h:1", StreamCreationStrategy.PARTITION_BASE, [], 10, partition_mappings=mappings
        )


BAD_OPTIONS = [
    ({"stream_api_port": 70000}, "stream_api_port"),
    ({"stream_api_port": "13579"}, "stream_api_port"),
    ({"stream_api_port": True}, "stream_api_port"),
    ({"integrate_session_management": "yes"}, "integrate_session_management"),
    ({"integrate_data_format_management": 0}, "integrate_data_format_management"),
    ({"batching_responses": None}, "batching_responses"),
    ({"use_remote_key_generator": 1}, "use_remote_key_generator"),
    ({"remote_key_generator_service_address": 15379}, "remote_key_generator_service_address"),
    ({"use_remote_key_generator": True}, "remote_key_generator_service_address"),
    ({"initialisation_timeout_seconds": -1}, "initialisation_timeout_seconds"),
    ({"initialisation_timeout_seconds": "3"}, "initialisation_timeout_seconds"),
    ({"initialisation_timeout_seconds": float("nan")}, "initialisation_timeout_seconds"),
]


@pytest.mark.parametrize(("options", "named"), BAD_OPTIONS, ids=[str(o) for o, _ in BAD_OPTIONS])
def test_streaming_api_configuration_rejects_bad_stream_api_options(
    options: dict[str, Any], named: str
) -> None:
    with pytest.raises((TypeError, ValueError), match=named):
        StreamingApiConfiguration("h:1", StreamCreationStrategy.TOPIC_BASE, [], 10, **options)


def test_stream_api_options_keep_their_values_and_the_initialisation_timeout_follows_csharp() -> (
    None
):
    configuration = StreamingApiConfiguration(
        "h:1",
        StreamCreationStrategy.TOPIC_BASE,
        [],
        10,
        stream_api_port=0,
        batching_responses=True,
        use_remote_key_generator=True,
        remote_key_generator_service_address="keys:15379",
        initialisation_timeout_seconds=5,
    )
    assert (configuration.stream_api_port, configuration.batching_responses) == (0, True)
    assert configuration.remote_key_generator_service_address == "keys:15379"
    assert configuration.effective_initialisation_timeout_seconds == 5
    for small in (0, 1, 0.5):
        configuration.initialisation_timeout_seconds = small
        assert configuration.effective_initialisation_timeout_seconds == 3  # as the Stream API


def test_create_service_of_the_reading_api_takes_a_configuration() -> None:
    parameter = inspect.signature(IPacketReadingModuleApi.create_service).parameters["data_source"]
    assert "PacketReadingConfiguration" in str(parameter.annotation)


def test_stream_creation_strategy_values() -> None:
    assert StreamCreationStrategy.PARTITION_BASE == 1
    assert StreamCreationStrategy.TOPIC_BASE == 2
    assert StreamCreationStrategy.STREAM_BASE == StreamCreationStrategy.PARTITION_BASE == 1
    assert StreamCreationStrategy.STREAM_BASE is StreamCreationStrategy.PARTITION_BASE


def test_retry_policy_retry_mode_and_partition_mapping() -> None:
    from ma_dataplatforms_streaming_support_library.contracts.shared.partition_mapping import (
        PartitionMapping,
    )
    from ma_dataplatforms_streaming_support_library.contracts.shared.retry_mode import RetryMode
    from ma_dataplatforms_streaming_support_library.contracts.shared.retry_policy import RetryPolicy

    policy = RetryPolicy(10, datetime.timedelta(seconds=5), RetryMode.FINITE)
    assert (policy.max_retry_count, policy.delay_between_retries, policy.retry_mode) == (
        10,
        datetime.timedelta(seconds=5),
        RetryMode.FINITE,
    )
    assert {m.name for m in RetryMode} == {"FINITE", "INFINITE"}
    mapping = PartitionMapping("stream1", 3)
    assert (mapping.stream, mapping.partition) == ("stream1", 3)


# §4 session management ------------------------------------------------------------------------
def test_session_creation_info_positional_order_and_defaults() -> None:
    offset = datetime.timedelta(hours=1)
    info = SessionCreationInfo("ds", "Race", "VTS", 4, offset, [], ["k"])

    assert (info.data_source, info.identifier, info.type, info.version) == ("ds", "Race", "VTS", 4)
    assert (info.utc_offset, info.details, info.associate_session_keys) == (offset, [], ["k"])
    default = SessionCreationInfo()
    assert (default.data_source, default.identifier, default.type, default.version) == (
        "Default",
        "",
        "Session",
        1,
    )
    assert default.utc_offset is None
    assert not default.details and not default.associate_session_keys
    assert SessionCreationInfo(data_source="ds", identifier="x").identifier == "x"


def test_session_info_constructor_order_and_types() -> None:
    info = SessionInfo(
        "key", "ds", "id", "Session", 1, False, datetime.timedelta(0), {"a": "b"}, ["k2"]
    )

    assert (info.session_key, info.data_source, info.identifier, info.type) == (
        "key",
        "ds",
        "id",
        "Session",
    )
    assert (info.version, info.historical, info.utc_offset) == (1, False, datetime.timedelta(0))
    assert (info.details, info.associate_session_keys) == ({"a": "b"}, ["k2"])
    assert "key" in repr(info) and "ds" in repr(info)


def test_session_detail_and_association_info() -> None:
    from ma_dataplatforms_streaming_support_library.contracts.session_management.session_association_info import (
        SessionAssociationInfo,
    )
    from ma_dataplatforms_streaming_support_library.contracts.session_management.session_detail import (
        SessionDetail,
    )

    detail = SessionDetail("Driver", "A")
    assert (detail.key, detail.value) == ("Driver", "A")
    main, other = SessionInfo("k1", "ds"), SessionInfo("k2", "ds")
    association = SessionAssociationInfo(main, other)
    assert association.main_session_info is main
    assert association.associate_session_info is other
    assert isinstance(association.group, str)


def _parameters(cls: type, method: str) -> list[str]:
    return [p for p in inspect.signature(getattr(cls, method)).parameters if p != "self"]


SERVICE_METHODS = [
    (
        "i_session_management_service",
        "ISessionManagementService",
        "create_new_session",
        ["session_creation_info"],
    ),
    ("i_session_management_service", "ISessionManagementService", "get_all_sessions", []),
    (
        "i_session_management_service",
        "ISessionManagementService",
        "end_session",
        ["data_source", "session_key"],
    ),
    (
        "i_session_management_service",
        "ISessionManagementService",
        "get_session_info",
        ["data_source", "session_key"],
    ),
    (
        "i_session_management_service",
        "ISessionManagementService",
        "update_identifier",
        ["data_source", "session_key", "new_identifier"],
    ),
    (
        "i_session_management_service",
        "ISessionManagementService",
        "add_associate_session",
        ["data_source", "session_key", "adding_associate_key"],
    ),
    (
        "i_session_management_service",
        "ISessionManagementService",
        "update_session_details",
        ["data_source", "session_key", "session_details"],
    ),
    (
        "i_data_format_management_service",
        "IDataFormatManagementService",
        "get_parameter_data_format_id",
        ["data_source", "parameter_identifiers"],
    ),
    (
        "i_data_format_management_service",
        "IDataFormatManagementService",
        "get_parameters_list",
        ["data_source", "data_format_id"],
    ),
    (
        "i_data_format_management_service",
        "IDataFormatManagementService",
        "get_event_data_format_id",
        ["data_source", "event_name"],
    ),
    (
        "i_data_format_management_service",
        "IDataFormatManagementService",
        "get_event",
        ["data_source", "data_format_id"],
    ),
    (
        "i_data_format_management_service",
        "IDataFormatManagementService",
        "get_data_source_data_format_info",
        ["data_source"],
    ),
    (
        "i_packet_writer_service",
        "IPacketWriterService",
        "write_data",
        ["data_source", "stream", "session_key", "packet_bytes"],
    ),
    (
        "i_packet_writer_service",
        "IPacketWriterService",
        "write_info",
        ["packet_bytes", "info_type"],
    ),
    ("i_packet_reader_service", "IPacketReaderService", "set_handler", ["handler"]),
    ("i_packet_reader_service", "IPacketReaderService", "remove_handler", ["handler"]),
    ("i_packet_reader_service", "IPacketReaderService", "add_handler", ["handler"]),
]
_AREAS = {
    "i_session_management_service": "session_management",
    "i_data_format_management_service": "data_format_management",
    "i_packet_writer_service": "packet_writing",
    "i_packet_reader_service": "packet_reading",
}


@pytest.mark.parametrize(
    ("module", "cls", "method", "parameters"),
    SERVICE_METHODS,
    ids=[f"{c}.{m}" for _, c, m, _ in SERVICE_METHODS],
)
def test_service_method_parameter_names_and_order(
    module: str, cls: str, method: str, parameters: list[str]
) -> None:
    imported = __import__(f"{ROOT}.contracts.{_AREAS[module]}.{module}", fromlist=[cls])

    assert _parameters(getattr(imported, cls), method) == parameters


@pytest.mark.parametrize(
    ("module", "cls", "events"),
    [
        (
            "contracts.session_management.i_session_management_service",
            "ISessionManagementService",
            [
                "live_session_started",
                "live_session_state_change",
                "live_session_ended",
                "new_association_detected",
            ],
        ),
        (
            "contracts.data_format_management.i_data_format_management_service",
            "IDataFormatManagementService",
            ["data_format_info_updated"],
        ),
        (
            "contracts.packet_reading.i_packet_reader_service",
            "IPacketReaderService",
            [
                "session_reading_started",
                "session_reading_completed",
                "stream_reading_started",
                "stream_reading_completed",
                "session_info_updated",
                "coverage_cursor_received",
                "session_association_info_updated",
            ],
        ),
    ],
)
def test_service_interfaces_declare_their_events(module: str, cls: str, events: list[str]) -> None:
    interface = getattr(__import__(f"{ROOT}.{module}", fromlist=[cls]), cls)
    declared: set[str] = set()
    for klass in interface.__mro__:
        declared.update(getattr(klass, "__annotations__", {}))

    assert set(events) <= declared


def test_write_info_defaults_to_session_info() -> None:
    default = inspect.signature(IPacketWriterService.write_info).parameters["info_type"].default
    assert default is InfoType.SESSION_INFO


# §5 data format contracts ---------------------------------------------------------------------
def test_data_format_result_types() -> None:
    from ma_dataplatforms_streaming_support_library.contracts.data_format_management.data_format_info import (
        DataFormatInfo,
    )
    from ma_dataplatforms_streaming_support_library.contracts.data_format_management.data_format_info_type import (
        DataFormatInfoType,
    )
    from ma_dataplatforms_streaming_support_library.contracts.data_format_management.event_data_format_info import (
        EventDataFormatInfo,
    )
    from ma_dataplatforms_streaming_support_library.contracts.data_format_management.parameter_data_format_info import (
        ParameterDataFormatInfo,
    )

    parameters = ParameterDataFormatInfo("ds", ["a", "b"], 2**64 - 1)
    assert (parameters.data_source, parameters.parameter_list, parameters.data_format_id) == (
        "ds",
        ["a", "b"],
        2**64 - 1,
    )
    event = EventDataFormatInfo("ds", 5, "Flag")
    assert (event.data_source, event.data_format_id, event.event_name) == ("ds", 5, "Flag")
    info = DataFormatInfo("ds", "a,b", [1], ["a", "b"], DataFormatInfoType.PARAMETERS)
    assert (info.key, info.data_formats, info.identifiers) == ("a,b", [1], ["a", "b"])
    assert {m.name for m in DataFormatInfoType} == {"PARAMETERS", "EVENT"}


# §6 packet writing ----------------------------------------------------------------------------
def test_packet_bytes_and_info_type() -> None:
    assert PacketBytes(b"\x0a\x01x").data == b"\x0a\x01x"
    assert (InfoType.UNSPECIFIED, InfoType.SESSION_INFO, InfoType.SYSTEM_STATUS) == (0, 1, 2)


# §7 packet reading ----------------------------------------------------------------------------
def test_packet_reading_configuration_positional_order_and_defaults() -> None:
    configuration = PacketReadingConfiguration(
        "key", 10, True, "ds", "Qual_*", PacketReadingType.HISTORIC, ["s1"]
    )

    assert configuration.session_key == "key"
    assert configuration.timeout_seconds == 10
    assert configuration.raise_exception_on_timeout is True
    assert configuration.data_source == "ds"
    assert configuration.session_identifier_pattern == "Qual_*"
    assert configuration.reading_type is PacketReadingType.HISTORIC
    assert configuration.streams == ["s1"]
    assert configuration.exclude_main_stream is False
    default = PacketReadingConfiguration()
    assert (default.session_key, default.raise_exception_on_timeout, default.data_source) == (
        "",
        False,
        "Default",
    )
    assert (default.session_identifier_pattern, default.reading_type, default.streams) == (
        "*",
        PacketReadingType.LIVE,
        [],
    )
    assert PacketReadingConfiguration(exclude_main_stream=True).exclude_main_stream is True


def test_packet_reading_type_values() -> None:
    assert (PacketReadingType.LIVE, PacketReadingType.HISTORIC, PacketReadingType.BOTH) == (0, 1, 2)


def test_reading_data_classes() -> None:
    submitted = datetime.datetime(2025, 1, 1, tzinfo=datetime.timezone.utc)
    dto = ReceivedPacketDto("ds", "key", "s1", PacketBytes(b"x"), submitted)
    assert (
        dto.data_source,
        dto.session_key,
        dto.stream,
        dto.packet_bytes.data,
        dto.submit_time,
    ) == (
        "ds",
        "key",
        "s1",
        b"x",
        submitted,
    )
    stream = StreamInfo("ds", "key", "s1")
    assert (stream.data_source, stream.session_key, stream.stream) == ("ds", "key", "s1")
    cursor = CoverageCursorInfo("ds", "key", 123)
    assert (cursor.data_source, cursor.session_key, cursor.coverage_cursor_time) == (
        "ds",
        "key",
        123,
    )


def test_reader_interface_is_subscriptable_handler_base() -> None:
    assert IHandler[ReceivedPacketDto] is not None
    assert issubclass(IPacketReaderService, object)
    assert isinstance(PacketReadingType.LIVE, enum.IntEnum)

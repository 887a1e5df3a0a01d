"""The ILogger given to bootstrap receives every record of the library, once."""

from __future__ import annotations

import logging
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Any

import pytest

from ma_dataplatforms_streaming_support_library.contracts.buffering import BufferingConfiguration
from ma_dataplatforms_streaming_support_library.contracts.shared.stream_api_configuration import (
    StreamingApiConfiguration,
)
from ma_dataplatforms_streaming_support_library.core.base.support_library_bootstrapper import (
    SupportLibraryBootstrapper,
)
from ma_dataplatforms_streaming_support_library.transport import (
    BROKER_ENVIRONMENT_VARIABLE,
    Transport,
)

from .conftest import TOPIC_BASE, LibraryFactory, RecordingLogger, wait_for

PACKAGE = "ma_dataplatforms_streaming_support_library"
GARBAGE = b"\xff\xff\xff"  # an unterminated varint: no protobuf parses it


@pytest.fixture
def no_broker_override(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(BROKER_ENVIRONMENT_VARIABLE, raising=False)


def _count(logger: RecordingLogger, fragment: str) -> dict[str, int]:
    """How many messages at each level contain ``fragment``."""
    counts: dict[str, int] = {}
    for level, message in list(logger.messages):
        if fragment in message:
            counts[level] = counts.get(level, 0) + 1
    return counts


def _library(broker_list: str, logger: Any) -> Any:
    configuration = StreamingApiConfiguration(broker_list, TOPIC_BASE, [], 10)
    api = SupportLibraryBootstrapper.bootstrap(configuration, logger).create()
    api.initialise()
    api.start()
    return api


def test_a_custom_ilogger_receives_records_of_every_part_once(
    library_factory: LibraryFactory,
    data_source: str,
    transport: Transport,
    caplog: pytest.LogCaptureFixture,
) -> None:
    library = library_factory()
    api = library.api
    # interpolation and buffering refuse bad arguments with an error record
    data_reader = api.get_data_reader_api().create_service().data
    assert data_reader.unsubscribe("no-such-subscription") is False
    sample_reader = api.get_sample_reader_api().create_service(BufferingConfiguration()).data
    assert sample_reader.subscribe([42]) is False
    # the session registry and the data format catalog skip records that are not packets
    transport.create_topics({"SessionInfo": 1, f"{data_source}_essential": 1})
    garbage_at = f"SessionInfo:0 offset {transport.end_offsets('SessionInfo')[0]}"
    transport.produce("SessionInfo", 0, data_source.encode(), GARBAGE)
    transport.produce(f"{data_source}_essential", 0, b"", GARBAGE)
    transport.flush(10)
    assert library.session_service().get_all_sessions().success
    formats = library.format_service().get_data_source_data_format_info(data_source)
    assert formats.success, formats.error_message

    assert _count(library.logger, "support library connected") == {"info": 1}
    assert _count(library.logger, "no subscription with key 'no-such-subscription'") == {"error": 1}
    assert _count(library.logger, "parameter_identifiers must hold only str") == {"error": 1}
    wait_for(lambda: _count(library.logger, garbage_at))
    wait_for(lambda: _count(library.logger, f"unreadable record at {data_source}_essential"))
    assert _count(library.logger, garbage_at) == {"warning": 1}
    assert _count(library.logger, f"unreadable record at {data_source}_essential") == {"warning": 1}
    # stdlib logging still has them, once, under the package's loggers
    registry_records = [r for r in caplog.records if garbage_at in r.getMessage()]
    assert len(registry_records) == 1 and registry_records[0].name.startswith(PACKAGE)


def test_libraries_sharing_an_ilogger_give_it_each_record_once(
    broker_list: str, no_broker_override: None
) -> None:
    shared, other = RecordingLogger(), RecordingLogger()
    first, second, third = (_library(broker_list, log) for log in (shared, shared, other))
    try:
        reader = first.get_data_reader_api().create_service().data
        reader.unsubscribe("only-once")

        assert _count(shared, "'only-once'") == {"error": 1}
        assert _count(other, "'only-once'") == {"error": 1}
        second.stop()
        reader.unsubscribe("still-forwarded")
        assert _count(shared, "'still-forwarded'") == {"error": 1}
    finally:
        for api in (first, second, third):
            api.stop()


def test_forwarding_ends_at_stop_and_leaves_the_package_logger_as_it_was(
    broker_list: str, no_broker_override: None
) -> None:
    package = logging.getLogger(PACKAGE)
    before = (package.level, package.propagate, list(package.handlers))
    logger = RecordingLogger()
    api = _library(broker_list, logger)
    api.stop()

    logging.getLogger(f"{PACKAGE}.core").error("after the library stopped")

    assert _count(logger, "after the library stopped") == {}
    assert (package.level, package.propagate, list(package.handlers)) == before


def test_an_ilogger_that_logs_into_the_library_loggers_does_not_loop(
    broker_list: str, no_broker_override: None
) -> None:
    class Echoing(RecordingLogger):
        def error(self, message: str) -> None:
            super().error(message)
            logging.getLogger(f"{PACKAGE}.echo").error("echo: %s", message)

    logger = Echoing()
    api = _library(broker_list, logger)
    try:
        api.get_data_reader_api().create_service().data.unsubscribe("echoed")
    finally:
        api.stop()

    assert _count(logger, "'echoed'") == {"error": 1}


def test_the_default_logger_writes_the_library_records_to_stderr(tmp_path: Path) -> None:
    script = textwrap.dedent(
        f"""
        from ma_dataplatforms_streaming_support_library.contracts.shared.stream_api_configuration import (
            StreamingApiConfiguration,
        )
        from ma_dataplatforms_streaming_support_library.contracts.shared.stream_creation_strategy import (
            StreamCreationStrategy,
        )
        from ma_dataplatforms_streaming_support_library.core.base.logger import Logger
        from ma_dataplatforms_streaming_support_library.core.base.support_library_bootstrapper import (
            SupportLibraryBootstrapper,
        )

        configuration = StreamingApiConfiguration(
            "embedded:{tmp_path / "store.db"}", StreamCreationStrategy.TOPIC_BASE, [], 10
        )
        logger = Logger()
        lib = SupportLibraryBootstrapper.bootstrap(configuration, logger).create()
        lib.initialise()
        lib.get_data_reader_api().create_service().data.unsubscribe("nothing-here")
        logger.info("from the application")
        lib.stop()
        """
    )
    environment = {"PYTHONPATH": str(Path(__file__).parents[2] / "src"), "PATH": "/usr/bin:/bin"}

    done = subprocess.run(
        [sys.executable, "-c", script],
        capture_output=True,
        text=True,
        timeout=60,
        env=environment,
        check=False,
    )

    assert done.returncode == 0, done.stderr
    assert done.stdout == ""
    for expected in ("support library connected", "'nothing-here'", "from the application"):
        assert done.stderr.count(expected) == 1, done.stderr

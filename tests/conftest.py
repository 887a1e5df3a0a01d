"""Shared fixtures: the Kafka test broker, a restartable broker, and both transports.

``MA_STREAMING_TEST_BROKER=host:port`` runs the Kafka tests against an existing cluster; otherwise
one local broker is started for the session, chosen by ``TEST_KAFKA_BROKER`` (``noida``, the
default, or ``tansu``; kafka_broker.py starts them). Deselect every Kafka test with
``-m "not kafka"``. The ``broker_list``/``transport`` fixtures run a test on every transport:
embedded, memory and (marked ``kafka``) the Kafka test broker.
"""

from __future__ import annotations

import os
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

_TESTS = Path(__file__).resolve().parent
_SRC = _TESTS.parent / "src"
for _path in (_SRC, _TESTS):
    if str(_path) not in sys.path:
        sys.path.insert(0, str(_path))

from kafka_broker import BROKER_KINDS, BrokerProcess  # noqa: E402

from ma_dataplatforms_streaming_support_library.transport import (  # noqa: E402
    BROKER_ENVIRONMENT_VARIABLE,
    Transport,
    open_transport,
)

EXISTING_BROKER_VARIABLE = "MA_STREAMING_TEST_BROKER"
BROKER_KIND_VARIABLE = "TEST_KAFKA_BROKER"


@pytest.fixture(scope="session")
def kafka_broker_kind() -> str:
    """``noida``, ``tansu``, or ``external`` (a cluster given by MA_STREAMING_TEST_BROKER)."""
    if os.environ.get(EXISTING_BROKER_VARIABLE):
        return "external"
    kind = os.environ.get(BROKER_KIND_VARIABLE, "noida")
    if kind not in BROKER_KINDS:
        raise pytest.UsageError(f"{BROKER_KIND_VARIABLE}={kind!r}: expected one of {BROKER_KINDS}")
    return kind


@pytest.fixture(scope="session")
def kafka_bootstrap(
    kafka_broker_kind: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[str]:
    """Bootstrap address of the session's Kafka-protocol broker."""
    if kafka_broker_kind == "external":
        yield os.environ[EXISTING_BROKER_VARIABLE]
        return
    broker = BrokerProcess(kafka_broker_kind, tmp_path_factory.mktemp(f"kafka-{kafka_broker_kind}"))
    broker.start()
    try:
        yield broker.bootstrap
    finally:
        broker.stop()


@pytest.fixture
def restartable_kafka(tmp_path: Path) -> Iterator[BrokerProcess]:
    """A noida-db broker for this test alone: ``.bootstrap``, ``.stop()``, ``.start()``.

    ``start()`` after ``stop()`` reuses the port and the data directory, so topics and records
    survive (noida saves on SIGTERM).
    """
    broker = BrokerProcess("noida", tmp_path / "restartable-kafka")
    broker.start()
    try:
        yield broker
    finally:
        broker.stop()


@pytest.fixture
def data_source() -> str:
    """A data source name unique to this test, so Kafka topics never collide between tests."""
    return f"ds_{uuid.uuid4().hex[:10]}"


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers", "cross_process: other processes share the store (skipped on memory:)"
    )


@pytest.fixture(params=["embedded", "memory", pytest.param("kafka", marks=pytest.mark.kafka)])
def broker_list(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """What a user would pass as ``StreamingApiConfiguration.broker_list``, for each transport.

    ``memory:`` gets a log name of its own per test, shared by every library the test opens (as
    they all share one embedded file or one broker); tests marked ``cross_process`` skip it, since
    a memory log never leaves its process.
    """
    if request.param == "embedded":
        return f"embedded:{tmp_path / 'store.db'}"
    if request.param == "memory":
        if request.node.get_closest_marker("cross_process") is not None:
            pytest.skip("a memory: log is not shared with other processes")
        return f"memory:{request.node.nodeid}"
    bootstrap: str = request.getfixturevalue("kafka_bootstrap")
    return bootstrap


@pytest.fixture
def transport(broker_list: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[Transport]:
    """An open transport for ``broker_list``, closed after the test."""
    # A developer's MA_STREAMING_BROKER must not turn both parametrisations into one transport.
    monkeypatch.delenv(BROKER_ENVIRONMENT_VARIABLE, raising=False)
    opened = open_transport(broker_list, properties={}, timeout_s=10)
    try:
        yield opened
    finally:
        opened.close()

"""Transport selection: parse_broker_list's rules, the scheme registry, and memory: log sharing."""

from __future__ import annotations

import logging
import threading
from pathlib import Path

import pytest

from ma_dataplatforms_streaming_support_library.errors import ConfigurationError
from ma_dataplatforms_streaming_support_library.transport import (
    BROKER_ENVIRONMENT_VARIABLE,
    BrokerAddress,
    EmbeddedTransport,
    known_schemes,
    open_transport,
    parse_broker_list,
)
from ma_dataplatforms_streaming_support_library.transport.memory import MemoryTransport


@pytest.fixture(autouse=True)
def _no_override(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(BROKER_ENVIRONMENT_VARIABLE, raising=False)


@pytest.mark.parametrize(
    ("broker_list", "scheme", "location"),
    [
        ("", "embedded", ""),
        ("  ", "embedded", ""),
        ("embedded:", "embedded", ""),
        ("embedded", "embedded", ""),
        ("embedded:/data/store.db", "embedded", "/data/store.db"),
        ("EMBEDDED: ~/x.db ", "embedded", "~/x.db"),
        ("/data/sessions.db", "embedded", "/data/sessions.db"),
        ("C:\\data\\sessions.db", "embedded", "C:\\data\\sessions.db"),
        ("localhost:9092", "kafka", "localhost:9092"),
        ("b1:9092, b2:9093", "kafka", "b1:9092,b2:9093"),
        ("broker", "kafka", "broker"),
        ("[::1]:9092", "kafka", "[::1]:9092"),
        ("SASL_SSL://b1:9093,b2:9093", "kafka", "SASL_SSL://b1:9093,b2:9093"),
        ("kafka://b1:9092,kafka://b2:9092", "kafka", "b1:9092,b2:9092"),
        ("kafka:b1:9092", "kafka", "b1:9092"),
        ("memory:", "memory", ""),
        ("memory", "memory", ""),
        ("memory:unit-test", "memory", "unit-test"),
    ],
)
def test_broker_lists_name_their_transport(broker_list: str, scheme: str, location: str) -> None:
    assert parse_broker_list(broker_list) == BrokerAddress(scheme, location)


def test_an_existing_file_is_an_embedded_store_whatever_its_name(tmp_path: Path) -> None:
    path = tmp_path / "sessions.sqlite"
    path.write_bytes(b"")

    assert parse_broker_list(str(path)) == BrokerAddress("embedded", str(path))


@pytest.mark.parametrize(
    "broker_list", ["grpc://host:1234", "foo:bar", "s3://bucket/store", "/no/such/dir/store"]
)
def test_an_unknown_scheme_names_the_broker_list_and_the_known_schemes(broker_list: str) -> None:
    with pytest.raises(ConfigurationError) as raised:
        parse_broker_list(broker_list)

    message = str(raised.value)
    assert repr(broker_list) in message
    for scheme in known_schemes():
        assert f"{scheme}:" in message


def test_the_known_schemes() -> None:
    assert known_schemes() == ("embedded", "kafka", "memory")


def test_the_environment_variable_overrides_and_is_logged_once(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO)
    monkeypatch.setenv(BROKER_ENVIRONMENT_VARIABLE, "memory:from-the-environment")

    first = parse_broker_list("localhost:9092")
    second = parse_broker_list("localhost:9092")

    assert first == second == BrokerAddress("memory", "from-the-environment")
    overrides = [r for r in caplog.records if BROKER_ENVIRONMENT_VARIABLE in r.getMessage()]
    assert len(overrides) == 1
    assert "localhost:9092" in overrides[0].getMessage()


def test_open_transport_opens_the_registered_transport(tmp_path: Path) -> None:
    with open_transport(f"embedded:{tmp_path / 's.db'}") as embedded:
        assert isinstance(embedded, EmbeddedTransport)
        assert embedded.location == f"embedded:{tmp_path / 's.db'}"
    with open_transport("memory:registry-test") as memory:
        assert isinstance(memory, MemoryTransport)
        assert memory.location == "memory:registry-test"


def test_a_named_memory_log_is_shared_and_outlives_its_transports() -> None:
    with open_transport("memory:shared-log") as writer:
        writer.create_topics({"t": 2})
        writer.produce("t", 1, b"k", b"v")
        writer.flush(1)
    with open_transport("memory:shared-log") as reader:
        assert reader.list_topics() == {"t": 2}
        assert [r.value for r in reader.read_range("t", 1, 0, 10)] == [b"v"]
    with open_transport("memory:another-log") as other:
        assert other.list_topics() == {}


def test_memory_alone_is_a_private_log_per_transport() -> None:
    with open_transport("memory:") as one, open_transport("memory:") as two:
        one.create_topics({"t": 1})
        one.produce("t", 0, None, b"mine")

        assert two.list_topics() == {}
        assert one.location != two.location
        with one.consumer() as consumer:
            consumer.assign({("t", 0): 0})
            assert [r.value for r in consumer.poll(10, 1.0)] == [b"mine"]


def test_a_memory_consumer_wakes_when_a_record_arrives_and_stops_when_closed() -> None:

    with open_transport("memory:") as transport:
        transport.create_topics({"t": 1})
        consumer = transport.consumer()
        consumer.assign({("t", 0): 0})
        producer = threading.Timer(0.05, lambda: transport.produce("t", 0, None, b"late"))
        producer.start()
        records = consumer.poll(10, 30.0)
        producer.join()
        closer = threading.Timer(0.05, consumer.close)
        closer.start()
        assert consumer.poll(10, 30.0) == []  # returns on close, long before the timeout
        closer.join()

    assert [r.value for r in records] == [b"late"]

"""KafkaClientConfig: how our defaults, the user's librdkafka properties and the fixed settings merge,
and how secrets are kept out of logs. No broker needed."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ma_dataplatforms_streaming_support_library.transport.kafka.config import (
    KafkaClientConfig,
    invalid_topic_name_reason,
    is_secret,
    masked,
    scrub,
)

BOOTSTRAP = "broker-1:9092,broker-2:9092"


def test_producer_defaults_follow_the_stream_api_and_our_guarantees() -> None:
    producer = KafkaClientConfig(BOOTSTRAP).producer()

    assert producer["bootstrap.servers"] == BOOTSTRAP
    assert producer["compression.type"] == "zstd"
    assert producer["enable.idempotence"] == "true"
    assert producer["acks"] == "all"
    assert producer["allow.auto.create.topics"] == "false"


def test_consumer_settings_assign_manually_and_never_commit() -> None:
    consumer = KafkaClientConfig(BOOTSTRAP).consumer(group_id="g-1")

    assert consumer["bootstrap.servers"] == BOOTSTRAP
    assert consumer["group.id"] == "g-1"
    assert consumer["enable.auto.commit"] == "false"
    assert consumer["enable.auto.offset.store"] == "false"
    assert consumer["auto.offset.reset"] == "earliest"
    assert consumer["session.timeout.ms"] == "6000"
    assert "compression.type" not in consumer
    assert "enable.idempotence" not in consumer


def test_user_properties_pass_through_verbatim_to_every_client() -> None:
    properties = {
        "security.protocol": "SASL_SSL",
        "sasl.mechanism": "PLAIN",
        "sasl.username": "user",
        "sasl.password": "pw",
        "ssl.ca.location": "/etc/ca.pem",
    }
    config = KafkaClientConfig(BOOTSTRAP, properties)

    for settings in (config.producer(), config.consumer("g"), config.admin()):
        assert {k: settings[k] for k in properties} == properties


def test_user_properties_override_defaults() -> None:
    config = KafkaClientConfig(
        BOOTSTRAP,
        {"compression.type": "lz4", "linger.ms": "20", "auto.offset.reset": "latest"},
    )

    assert config.producer()["compression.type"] == "lz4"
    assert config.producer()["linger.ms"] == "20"
    assert config.consumer("g")["auto.offset.reset"] == "latest"
    assert config.overridden_user_properties() == []


def test_fixed_settings_win_over_user_properties_and_are_reported() -> None:
    config = KafkaClientConfig(
        BOOTSTRAP,
        {
            "enable.idempotence": "false",
            "acks": "1",
            "enable.auto.commit": "true",
            "group.id": "shared-group",
            "bootstrap.servers": "elsewhere:9092",
        },
    )

    producer, consumer = config.producer(), config.consumer("g-own")

    assert producer["enable.idempotence"] == "true"
    assert producer["acks"] == "all"
    assert producer["bootstrap.servers"] == consumer["bootstrap.servers"] == BOOTSTRAP
    assert consumer["enable.auto.commit"] == "false"
    assert consumer["group.id"] == "g-own"
    assert config.admin()["bootstrap.servers"] == BOOTSTRAP
    assert config.overridden_user_properties() == [
        "acks",
        "bootstrap.servers",
        "enable.auto.commit",
        "enable.idempotence",
        "group.id",
    ]


def test_fixed_settings_given_with_the_same_value_are_not_reported() -> None:
    config = KafkaClientConfig(
        BOOTSTRAP, {"enable.idempotence": "True", "acks": "all", "bootstrap.servers": BOOTSTRAP}
    )

    assert config.overridden_user_properties() == []


def test_the_config_keeps_its_own_copy_of_the_properties() -> None:
    properties = {"linger.ms": "5"}
    config = KafkaClientConfig(BOOTSTRAP, properties)
    properties["linger.ms"] = "500"
    properties["no.such.key"] = "x"

    assert config.producer()["linger.ms"] == "5"
    assert "no.such.key" not in config.producer()


@pytest.mark.parametrize(
    "key",
    [
        "sasl.password",
        "ssl.key.password",
        "ssl.keystore.password",
        "ssl.truststore.password",
        "sasl.oauthbearer.client.secret",
        "sasl.jaas.config",
        "sasl.oauthbearer.config",
        "ssl.key.pem",
        "Some.Custom.SECRET",
    ],
)
def test_secret_keys_are_recognised(key: str) -> None:
    assert is_secret(key)


@pytest.mark.parametrize(
    "key", ["sasl.username", "sasl.mechanism", "ssl.ca.location", "linger.ms", "client.id"]
)
def test_ordinary_keys_are_not_secret(key: str) -> None:
    assert not is_secret(key)


def test_repr_and_masked_properties_hide_secret_values() -> None:
    config = KafkaClientConfig(
        BOOTSTRAP,
        {"sasl.username": "alice", "sasl.password": "hunter2", "ssl.key.password": "s3cr3t"},
    )

    shown = repr(config)

    assert "hunter2" not in shown and "s3cr3t" not in shown
    assert "sasl.password" in shown and "alice" in shown
    assert str(config) == shown
    assert config.masked_properties() == {
        "sasl.username": "alice",
        "sasl.password": "***",
        "ssl.key.password": "***",
    }


def test_masked_shows_callables_by_name() -> None:
    def on_error(error: object) -> None:
        del error

    shown = masked({"error_cb": on_error, "linger.ms": "5"})

    assert shown == {
        "error_cb": "<test_masked_shows_callables_by_name.<locals>.on_error>",
        "linger.ms": "5",
    }


def test_scrub_removes_secret_values_from_any_text() -> None:
    properties = {"sasl.password": "hunter2", "sasl.username": "alice", "ssl.key.password": ""}
    text = 'Invalid value "hunter2" for configuration property "sasl.password" (user alice)'

    assert scrub(text, properties) == (
        'Invalid value "***" for configuration property "sasl.password" (user alice)'
    )
    assert KafkaClientConfig(BOOTSTRAP, properties).scrub(text) == scrub(text, properties)


@given(
    st.dictionaries(
        st.sampled_from(["sasl.password", "ssl.key.password", "x.secret", "linger.ms", "acks"]),
        st.text(min_size=1),
    )
)
def test_masked_never_contains_a_secret_value(properties: dict[str, str]) -> None:
    shown = masked(properties)
    assert shown.keys() == properties.keys()
    for key, value in properties.items():
        assert (shown[key] == "***") is is_secret(key)
        if not is_secret(key):
            assert shown[key] == value


@pytest.mark.parametrize(
    "name", ["SessionInfo", "dead-Letter", "ds_1.stream-A", "a", "x" * 249, "..a", "_essential"]
)
def test_legal_topic_names(name: str) -> None:
    assert invalid_topic_name_reason(name) is None


@pytest.mark.parametrize(
    ("name", "reason"),
    [
        ("", "empty"),
        (".", "not allowed"),
        ("..", "not allowed"),
        ("x" * 250, "at most 249"),
        ("has space", "' '"),
        ("a/b", "'/'"),
        ("ümlaut", "'ü'"),
        ("tab\there", "'\\t'"),
    ],
)
def test_illegal_topic_names_say_why(name: str, reason: str) -> None:
    message = invalid_topic_name_reason(name)
    assert message is not None
    assert reason in message

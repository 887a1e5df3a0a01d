"""KafkaClientConfig: how our defaults, the user's librdkafka properties and the fixed settings merge,
and how secrets are kept out of logs. No broker needed."""

from __future__ import annotations

from ma_dataplatforms_streaming_support_library.redaction import scrub
from ma_dataplatforms_streaming_support_library.transport.kafka.config import KafkaClientConfig

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


def test_scrub_removes_secret_values_from_any_text() -> None:
    properties = {"sasl.password": "hunter2", "sasl.username": "alice", "ssl.key.password": ""}
    text = 'Invalid value "hunter2" for configuration property "sasl.password" (user alice)'

    assert scrub(text, properties) == (
        'Invalid value "***" for configuration property "sasl.password" (user alice)'
    )
    assert KafkaClientConfig(BOOTSTRAP, properties).scrub(text) == scrub(text, properties)

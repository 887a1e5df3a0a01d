"""Broker-quirks profiles: the setting, detection from a broker's DescribeConfigs answer, and the
workarounds switched on and off (the Kafka-marked tests use the session's test broker)."""

from __future__ import annotations

import logging
import time

import pytest

from ma_dataplatforms_streaming_support_library.errors import ConfigurationError
from ma_dataplatforms_streaming_support_library.transport.kafka.consumer import KafkaConsumer
from ma_dataplatforms_streaming_support_library.transport.kafka.quirks import (
    PROFILES,
    QUIRKS_PROPERTY,
    quirks_of_configs,
    split_quirks_setting,
)
from ma_dataplatforms_streaming_support_library.transport.kafka.transport import KafkaTransport

#: a few of the ~200 entries a real Kafka broker describes
KAFKA_BROKER_CONFIGS = [
    "advertised.listeners",
    "auto.create.topics.enable",
    "broker.id",
    "default.replication.factor",
    "log.dirs",
    "log.retention.hours",
    "num.partitions",
]


def test_the_setting_defaults_to_auto_and_never_reaches_librdkafka() -> None:
    assert split_quirks_setting({"linger.ms": "5"}) == ("auto", {"linger.ms": "5"})
    assert split_quirks_setting({QUIRKS_PROPERTY: " Tansu ", "acks": "all"}) == (
        "tansu",
        {"acks": "all"},
    )
    assert split_quirks_setting({QUIRKS_PROPERTY: ""}) == ("auto", {})


def test_a_bad_setting_names_the_property_and_the_choices() -> None:
    with pytest.raises(ConfigurationError, match=rf"{QUIRKS_PROPERTY}='redpanda'.*auto, none"):
        split_quirks_setting({QUIRKS_PROPERTY: "redpanda"})


@pytest.mark.parametrize(
    ("configs", "profile"),
    [
        ([], "tansu"),
        (["auto.create.topics.enable", "default.replication.factor", "num.partitions"], "noida"),
        (["num.partitions"], "noida"),
        (KAFKA_BROKER_CONFIGS, "none"),
    ],
)
def test_detection_from_the_broker_configuration(configs: list[str], profile: str) -> None:
    assert quirks_of_configs(configs) is PROFILES[profile]


def test_a_real_cluster_gets_no_workaround() -> None:
    none = PROFILES["none"]
    assert not none.verify_offsets and not none.park_idle_partitions


@pytest.mark.kafka
def test_the_session_broker_is_recognised(
    kafka_bootstrap: str, kafka_broker_kind: str, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO)
    with KafkaTransport(kafka_bootstrap, {}, timeout_s=10) as transport:
        detected = transport.quirks

    expected = "none" if kafka_broker_kind == "external" else kafka_broker_kind
    assert detected is PROFILES[expected]
    assert f"broker quirks profile {expected!r} (detected)" in caplog.text


@pytest.mark.kafka
@pytest.mark.parametrize("profile", sorted(PROFILES))
def test_a_configured_profile_is_used_without_asking_the_broker(
    kafka_bootstrap: str, profile: str, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO)
    with KafkaTransport(kafka_bootstrap, {QUIRKS_PROPERTY: profile}, timeout_s=10) as transport:
        assert transport.quirks is PROFILES[profile]
        with transport.consumer() as consumer:
            assert isinstance(consumer, KafkaConsumer)
            assert (consumer._parking is not None) is PROFILES[profile].park_idle_partitions
    assert "(detected)" not in caplog.text
    assert QUIRKS_PROPERTY not in caplog.text.split("connecting to Kafka")[-1].split("\n")[0]


@pytest.mark.kafka
def test_without_workarounds_offsets_come_from_the_broker_alone(
    kafka_bootstrap: str, kafka_broker_kind: str, data_source: str
) -> None:
    """The profile of a real cluster on a broker that answers right (noida-db): exact end offsets
    after batched produces and offsets for a time, with no probe consumer ever created."""
    if kafka_broker_kind == "tansu":
        pytest.skip("tansu's ListOffsets is wrong after batches: it needs its profile")
    with KafkaTransport(kafka_bootstrap, {QUIRKS_PROPERTY: "none"}, timeout_s=10) as transport:
        transport.create_topics({data_source: 2})
        # Recent timestamps: noida-db drops records older than retention.ms at once.
        now_ms = int(time.time() * 1000)
        base_ms = now_ms - 60_000
        for i in range(50):
            transport.produce(data_source, 0, b"k", b"%d" % i, timestamp_ms=base_ms + i)
        transport.flush(10)

        assert transport.end_offsets(data_source) == {0: 50, 1: 0}
        assert transport.offset_for_time(data_source, 0, 0) == 0
        assert transport.offset_for_time(data_source, 0, base_ms + 20) == 20
        assert transport.offset_for_time(data_source, 0, now_ms + 3_600_000) == 50
        assert transport.offset_for_time(data_source, 1, 0) == 0
        assert transport._probe is None


@pytest.mark.kafka
def test_with_offset_verification_the_answers_are_checked_by_a_fetch(
    kafka_bootstrap: str, data_source: str
) -> None:
    with KafkaTransport(kafka_bootstrap, {QUIRKS_PROPERTY: "tansu"}, timeout_s=10) as transport:
        transport.create_topics({data_source: 1})
        for i in range(50):
            transport.produce(data_source, 0, b"k", b"%d" % i)
        transport.flush(10)

        assert transport.end_offsets(data_source) == {0: 50}
        assert transport._probe is not None

"""The one secret rule (redaction.py) and every place it applies: the configuration's repr, the
Kafka client config, the "connecting to Kafka" log line, and TransportError messages."""

from __future__ import annotations

import logging

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ma_dataplatforms_streaming_support_library.contracts.shared.stream_api_configuration import (
    StreamingApiConfiguration,
)
from ma_dataplatforms_streaming_support_library.contracts.shared.stream_creation_strategy import (
    StreamCreationStrategy,
)
from ma_dataplatforms_streaming_support_library.errors import TransportError
from ma_dataplatforms_streaming_support_library.redaction import MASK, is_secret, masked, scrub
from ma_dataplatforms_streaming_support_library.transport.kafka.transport import KafkaTransport

SECRET_PROPERTIES = {
    "sasl.password": "pw-1",
    "ssl.key.password": "pw-2",
    "ssl.keystore.password": "pw-3",
    "sasl.oauthbearer.client.secret": "pw-4",
    "sasl.jaas.config": "org.Module required password=pw-5;",
    "sasl.oauthbearer.config": "principal=admin extension_token=pw-6",
    "sasl.oauthbearer.assertion.private.key.passphrase": "pw-7",
    "sasl.oauthbearer.assertion.private.key.pem": "pw-8",
    "ssl.key.pem": "pw-9",
    "ssl.keystore.pem": "pw-10",
    "Some.Custom.TOKEN": "pw-11",
    "my_api_key": "pw-12",
}
ORDINARY_PROPERTIES = {
    "sasl.username": "alice",
    "sasl.mechanism": "PLAIN",
    "ssl.ca.location": "/etc/ca.pem",
    "linger.ms": "5",
    "client.id": "ma-streaming",
    "security.protocol": "SASL_SSL",
    "monkeypatch.level": "3",
}


@pytest.mark.parametrize("name", sorted(SECRET_PROPERTIES))
def test_secret_property_names(name: str) -> None:
    assert is_secret(name)


@pytest.mark.parametrize("name", sorted(ORDINARY_PROPERTIES))
def test_ordinary_property_names(name: str) -> None:
    assert not is_secret(name)


def test_masked_hides_secrets_and_shows_callables_by_name() -> None:
    def on_error(error: object) -> None:
        del error

    shown = masked({"error_cb": on_error, "linger.ms": "5", "sasl.password": "pw"})

    assert shown == {
        "error_cb": "<test_masked_hides_secrets_and_shows_callables_by_name.<locals>.on_error>",
        "linger.ms": "5",
        "sasl.password": MASK,
    }


@given(
    st.dictionaries(
        st.sampled_from([*SECRET_PROPERTIES, *ORDINARY_PROPERTIES]), st.text(min_size=1)
    )
)
def test_masked_never_shows_a_secret_value(properties: dict[str, str]) -> None:
    shown = masked(properties)
    assert shown.keys() == properties.keys()
    for key, value in properties.items():
        assert shown[key] == (MASK if is_secret(key) else value)


def test_scrub_hides_a_secret_that_contains_another_whole() -> None:
    properties = {"sasl.password": "abc", "ssl.key.password": "abcdef", "sasl.username": "abc"}

    assert scrub("got abcdef and abc", properties) == "got *** and ***"


def test_the_configuration_repr_shows_no_secret_value() -> None:
    configuration = StreamingApiConfiguration(
        "broker:9092",
        StreamCreationStrategy.TOPIC_BASE,
        {**SECRET_PROPERTIES, **ORDINARY_PROPERTIES},
    )

    shown = repr(configuration)

    for name, value in SECRET_PROPERTIES.items():
        assert f"{name!r}: '{MASK}'" in shown
        assert value not in shown
    for name, value in ORDINARY_PROPERTIES.items():
        assert f"{name!r}: {value!r}" in shown


@pytest.mark.kafka
def test_the_connecting_log_line_and_errors_show_no_secret_value(
    kafka_bootstrap: str, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    properties = {**SECRET_PROPERTIES, **ORDINARY_PROPERTIES}
    with pytest.raises(TransportError) as raised:
        KafkaTransport(kafka_bootstrap, properties, timeout_s=5)

    connecting = [r.getMessage() for r in caplog.records if "connecting to Kafka" in r.getMessage()]
    assert len(connecting) == 1
    assert "sasl.oauthbearer.assertion.private.key.passphrase" in connecting[0]
    for value in SECRET_PROPERTIES.values():
        assert value not in caplog.text
        assert value not in str(raised.value)


def test_a_transport_error_never_quotes_a_secret_value() -> None:
    """librdkafka quotes a bad value in its error ("Invalid value "…" for configuration property
    "linger.ms""); any text equal to a secret value is scrubbed from the message.

    The bad value stops the client at creation, so no broker is needed.
    """
    with pytest.raises(TransportError) as raised:
        KafkaTransport("127.0.0.1:1", {"ssl.key.password": "pw-x", "linger.ms": "pw-x"}, 1)

    assert "linger.ms" in str(raised.value)
    assert "pw-x" not in str(raised.value)

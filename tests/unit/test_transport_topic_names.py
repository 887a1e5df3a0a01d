"""One topic-name rule (layout.topic_name_error), used by the services' argument checks
(layout.name_error) and by the Kafka transport before it creates a topic."""

from __future__ import annotations

import pytest

from ma_dataplatforms_streaming_support_library.layout import name_error, topic_name_error


@pytest.mark.parametrize(
    "name", ["SessionInfo", "dead-Letter", "ds_1.stream-A", "a", "x" * 249, "..a", "_essential"]
)
def test_legal_topic_names(name: str) -> None:
    assert topic_name_error(name) == ""


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
        ("newline\n", "'\\n'"),
    ],
)
def test_illegal_topic_names_say_why(name: str, reason: str) -> None:
    assert reason in topic_name_error(name)


@pytest.mark.parametrize(
    ("data_source", "stream", "fragments"),
    [
        ("", "", ["data_source", "non-empty"]),
        ("has space", "", ["data_source", "'has space'", "' '"]),
        (".", "", ["data_source", "not allowed"]),
        ("ds\n", "", ["data_source", "'\\n'"]),
        ("x" * 240, "", ["data_source", "…", "at most 249"]),
        ("ds", "a/b", ["stream", "'a/b'", "'/'"]),
        ("d" * 200, "s" * 60, ["stream", "at most 249"]),
    ],
)
def test_name_error_names_the_argument_and_the_reason(
    data_source: str, stream: str, fragments: list[str]
) -> None:
    message = name_error(data_source, stream)
    for fragment in fragments:
        assert fragment in message
    assert len(message) < 300  # echoed input is cut short


def test_names_the_services_accept_are_topic_names_kafka_accepts() -> None:
    assert name_error("ds_1", "stream-A") == ""
    assert name_error("x" * (249 - len("_essential"))) == ""

"""The parser registry: one protocol, one outcome, native → numpy → reference, forced by env."""

from __future__ import annotations

import pytest

from ma_dataplatforms_streaming_support_library.columnar import (
    IMPL_ENVIRONMENT_VARIABLE,
    IMPLEMENTATIONS,
    ContentBatch,
    DecodeStats,
    SampleParser,
    active_implementation,
    available_implementations,
    decode_periodic,
    get_parser,
    parsers,
)
from ma_dataplatforms_streaming_support_library.columnar._parsed import PacketKind, ParseOutcome
from ma_dataplatforms_streaming_support_library.errors import ConfigurationError
from ma_dataplatforms_streaming_support_library.protos import open_data_pb2 as pb


def test_every_available_parser_gives_the_same_outcome_type() -> None:
    good = pb.PeriodicDataPacket(interval=1).SerializeToString()
    batch = ContentBatch.from_messages([good, b"\xff", good])
    for name in available_implementations():
        parser: SampleParser = get_parser(name)
        assert parser.name == name
        outcome = parser.parse_samples(batch, PacketKind.PERIODIC)
        assert isinstance(outcome, ParseOutcome)
        assert len(outcome.result) == 3
        assert set(outcome.failures) == {1}
        envelopes = parser.parse_envelopes(batch)
        assert set(envelopes.failures) == {1}


def test_environment_forces_an_implementation(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in available_implementations():
        monkeypatch.setenv(IMPL_ENVIRONMENT_VARIABLE, name)
        assert active_implementation() == name
    monkeypatch.setenv(IMPL_ENVIRONMENT_VARIABLE, " NumPy ")
    assert active_implementation() == "numpy"
    monkeypatch.delenv(IMPL_ENVIRONMENT_VARIABLE)
    assert active_implementation() == available_implementations()[0]
    assert set(available_implementations()) <= set(IMPLEMENTATIONS)


def test_unknown_implementation_is_a_configuration_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(IMPL_ENVIRONMENT_VARIABLE, "fast")
    with pytest.raises(ConfigurationError, match=f"{IMPL_ENVIRONMENT_VARIABLE} must be one of"):
        decode_periodic([b""])
    with pytest.raises(ConfigurationError, match="impl must be one of"):
        get_parser("quick")


def test_native_asked_for_but_not_built(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(parsers, "_native", lambda: None)
    monkeypatch.setenv(IMPL_ENVIRONMENT_VARIABLE, "native")
    with pytest.raises(ConfigurationError, match="not built"):
        active_implementation()
    monkeypatch.delenv(IMPL_ENVIRONMENT_VARIABLE)
    assert active_implementation() == "numpy"
    assert available_implementations() == ("numpy", "reference")
    stats = DecodeStats()
    decode_periodic([pb.PeriodicDataPacket(interval=1).SerializeToString()], stats=stats)
    assert stats.fast_packets == 1

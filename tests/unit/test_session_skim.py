"""Selective reads on the embedded store: the records a read needs found by their packet labels,
or by their heads where the store has no labels for them; only those are read whole."""

from __future__ import annotations

import logging
import re
import sqlite3
from collections import Counter
from pathlib import Path

import numpy as np
import pytest
from test_session_selection import PACKETS, PARAMETERS, session  # noqa: F401 (a fixture)

from ma_dataplatforms_streaming_support_library.columnar import (
    IMPL_ENVIRONMENT_VARIABLE,
    ContentBatch,
    available_implementations,
    wrap_packets,
)
from ma_dataplatforms_streaming_support_library.columnar.heads import (
    DATA_TYPES,
    HEAD_BYTES,
    read_heads,
)
from ma_dataplatforms_streaming_support_library.protos import open_data_pb2 as pb
from ma_dataplatforms_streaming_support_library.sessions import SessionData, read_session
from ma_dataplatforms_streaming_support_library.sessions.selection import Chooser, Selection
from ma_dataplatforms_streaming_support_library.transport import BROKER_ENVIRONMENT_VARIABLE
from ma_dataplatforms_streaming_support_library.transport.embedded import EmbeddedTransport

_SKIMMED = re.compile(r"(\d+) records \((\d+) bytes\) of (\d+) read whole \(by ([a-z ]+)\)")
# How each kind of store tells which records a selective read needs.
_WAY = {
    "labelled": "packet labels",
    "unlabelled": "record heads",
    "from before labels": "record heads",
}


@pytest.fixture(params=available_implementations())
def broker(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> str:
    monkeypatch.delenv(BROKER_ENVIRONMENT_VARIABLE, raising=False)
    monkeypatch.setenv(IMPL_ENVIRONMENT_VARIABLE, request.param)
    return f"embedded:{tmp_path / 'store.db'}"


# How the session's records are labelled when it is read: as this library's writers label
# them; not at all (written by a writer that does not label, such as an older version); in a
# store made before labels; or with one record of a partition left unlabelled (that partition
# is read by heads, the others by labels).
STORES = ("labelled", "unlabelled", "from before labels", "with a gap")
_WAY = {
    "labelled": "packet labels",
    "unlabelled": "record heads",
    "from before labels": "record heads",
    "with a gap": "packet labels",
}


def _as_stored(broker: str, store: str) -> None:
    path = broker.removeprefix("embedded:")
    script = {
        "labelled": "",
        "unlabelled": "DELETE FROM label_commits; DELETE FROM record_labels;",
        "from before labels": "DROP TABLE label_commits; DROP TABLE record_labels;",
        "with a gap": "DELETE FROM label_commits WHERE (pid, first_offset) ="
        " (SELECT pid, first_offset FROM label_commits ORDER BY count DESC LIMIT 1);",
    }[store]
    with sqlite3.connect(path) as connection:
        connection.executescript(script)
    connection.close()


def _same_apart_from_series(selected: SessionData, full: SessionData) -> None:
    assert selected.packet_counts == full.packet_counts
    assert selected.stream_packet_counts == full.stream_packet_counts
    assert selected.markers == full.markers
    assert selected.events == full.events
    assert selected.corrupt_records == full.corrupt_records
    assert selected.unresolved_formats == full.unresolved_formats
    assert selected.parameter_definitions == full.parameter_definitions


@pytest.mark.parametrize("store", STORES)
@pytest.mark.parametrize("names", [["p3:Sel"], ["p0:Sel", "r:Sel"], ["s:Sel", "p9:Sel"]])
def test_a_selective_read_returns_what_a_full_read_has(
    session: str,  # noqa: F811 (the fixture)
    broker: str,
    names: list[str],
    store: str,
    caplog: pytest.LogCaptureFixture,
) -> None:
    _as_stored(broker, store)
    full = read_session(session, broker)
    with caplog.at_level(logging.DEBUG, "ma_dataplatforms_streaming_support_library.sessions"):
        selected = read_session(session, broker, parameters=names)
    found = _SKIMMED.search(caplog.text)
    assert found is not None, "the read did not choose records to read"
    assert found[4] == _WAY[store]
    assert sorted(selected.series) == sorted(names)
    for name in names:
        for field in ("timestamps", "values", "status"):
            np.testing.assert_array_equal(
                getattr(selected.series[name], field), getattr(full.series[name], field)
            )
    _same_apart_from_series(selected, full)


@pytest.mark.parametrize("store", STORES)
def test_records_of_other_parameters_are_not_fetched(
    session: str,  # noqa: F811 (the fixture)
    broker: str,
    store: str,
    caplog: pytest.LogCaptureFixture,
) -> None:
    _as_stored(broker, store)
    with caplog.at_level(logging.DEBUG, "ma_dataplatforms_streaming_support_library.sessions"):
        data = read_session(session, broker, parameters=["p3:Sel"])
    found = _SKIMMED.search(caplog.text)
    assert found is not None
    assert found[4] == _WAY[store]
    whole, _, scanned = map(int, found.groups()[:3])
    others = (len(PARAMETERS) - 1) * PACKETS  # periodic packets of the nine other formats
    assert data.packet_counts["PeriodicData"] == len(PARAMETERS) * PACKETS
    # every packet of the session is counted, but only those of other formats are left unread
    assert whole == sum(data.packet_counts.values()) - others < scanned


def test_the_keyed_reader_reads_heads_values_and_chosen_values(tmp_path: Path) -> None:
    with EmbeddedTransport(tmp_path / "store.db") as transport:
        transport.create_topics({"t": 1})
        values = [bytes([i]) * (10 + 40 * i) for i in range(60)]
        for i, value in enumerate(values):
            transport.produce("t", 0, b"mine" if i % 3 else b"other", value)
        transport.flush(5)
        reader = transport.keyed_reader()
        assert reader is not None
        with reader:
            mine = [i for i in range(5, 60) if i % 3]
            heads = reader.heads(("t", 0), 5, 60, b"mine", 32, 1_000)
            assert list(heads.offsets) == mine
            assert list(heads.sizes) == [len(values[i]) for i in mine]
            assert list(heads.heads) == [values[i][:32] for i in mine]
            assert len(reader.heads(("t", 0), 5, 60, b"mine", 32, 4).offsets) == 4
            assert reader.whole_records == 0
            # a long run (read as a range) and singles (read as a list), out of a gap
            chosen = [*range(10, 40), 42, 45, 50, 59]
            read = reader.chosen(("t", 0), chosen)
            assert list(read.offsets) == chosen
            assert list(read.values) == [values[i] for i in chosen]
            assert reader.whole_records == len(chosen)
            assert reader.whole_bytes == sum(len(values[i]) for i in chosen)
            assert reader.chosen(("t", 0), [70, 80]).offsets == ()
            whole = reader.values(("t", 0), 5, 50, b"mine", 1_000)
            assert list(whole.offsets) == [i for i in mine if i < 50]
            assert list(whole.values) == [values[i] for i in mine if i < 50]


def _packet(packet_type: str, content: bytes, essential: bool = False) -> bytes:
    (packet,) = wrap_packets([content], packet_type, session_key="k" * 36, is_essential=essential)
    return packet


def test_heads_tell_type_and_format_id_or_leave_the_record_to_be_fetched() -> None:
    by_id = pb.PeriodicDataPacket(
        data_format=pb.SampleDataFormat(data_format_identifier=2**63 + 5), start_time=7
    )
    by_id.columns.add().double_samples.samples.add(value=1.5, status=1)
    listed = pb.RowDataPacket(
        data_format=pb.SampleDataFormat(
            parameter_identifiers=pb.ParameterList(parameter_identifiers=["a"])
        )
    )
    synchro = pb.SynchroDataPacket(data_format=pb.SampleDataFormat(data_format_identifier=9))
    packets = [
        _packet("PeriodicData", by_id.SerializeToString()),
        _packet("RowData", listed.SerializeToString()),
        _packet("SynchroData", synchro.SerializeToString(), essential=True),
        _packet("Marker", pb.MarkerPacket(label="m").SerializeToString()),
        _packet("PeriodicData", by_id.SerializeToString())[:60],  # cut before its data format
        b"\xff\x01garbage",
        b"",
    ]
    heads = read_heads([p[:HEAD_BYTES] for p in packets])
    assert [DATA_TYPES[k] if k >= 0 else None for k in heads.kinds] == [
        "PeriodicData",
        None,
        "SynchroData",
        None,
        None,
        None,
        None,
    ]
    assert heads.format_ids[0] == 2**63 + 5
    assert heads.format_ids[2] == 9


def test_a_parameter_selection_peeks_less_once_nothing_is_skipped_then_again() -> None:
    formats = {1: ("a",), 2: ("b",)}
    chooser = Chooser(Selection(frozenset({"a"})), formats.get)

    def batch(*ids: int) -> ContentBatch:
        packets = [
            pb.PeriodicDataPacket(
                data_format=pb.SampleDataFormat(data_format_identifier=i), start_time=1
            ).SerializeToString()
            for i in ids
        ]
        return ContentBatch.from_messages(packets)

    unresolved: Counter[int] = Counter()
    needed, mixed = batch(1, 1), batch(1, 2)
    for _ in range(4):  # peeked: nothing to skip
        assert chooser.pick("PeriodicData", needed, unresolved) is None
    peeked = [chooser.pick("PeriodicData", mixed, unresolved) is not None for _ in range(16)]
    # fifteen batches decoded whole without a peek, then one peeked at, which skips again
    assert peeked == [False] * 15 + [True]
    picked = chooser.pick("PeriodicData", mixed, unresolved)
    assert picked is not None and picked.tolist() == [0]
    windowed = Chooser(Selection(frozenset({"a"}), start_ns=0), formats.get)
    for _ in range(30):
        assert windowed.pick("PeriodicData", needed, unresolved) is None
    assert windowed.pick("PeriodicData", mixed, unresolved) is not None

"""The embedded store's packet labels: each record's sample kind and data format id, kept beside
it when committed, so that selective reads find the records they need without reading others."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import numpy as np
import pytest

from ma_dataplatforms_streaming_support_library.columnar import wrap_packets
from ma_dataplatforms_streaming_support_library.protos import open_data_pb2 as pb
from ma_dataplatforms_streaming_support_library.transport.base import KeyedReader, PacketLabels
from ma_dataplatforms_streaming_support_library.transport.embedded import EmbeddedTransport

LARGE_ID = 2**63 + 5  # above int64: kept as the uint64 it is
PERIODIC, ROW = 0, 1  # indices in columnar.heads.DATA_TYPES


def _packet(packet_type: str, content: bytes) -> bytes:
    (packet,) = wrap_packets([content], packet_type, session_key="k" * 36)
    return packet


def _periodic(data_format_id: int) -> bytes:
    fmt = pb.SampleDataFormat(data_format_identifier=data_format_id)
    return _packet("PeriodicData", pb.PeriodicDataPacket(data_format=fmt).SerializeToString())


def _reader(transport: EmbeddedTransport) -> KeyedReader:
    reader = transport.keyed_reader()
    assert reader is not None
    return reader


def _rows(labels: PacketLabels | None) -> list[tuple[int, int, int, int]]:
    assert labels is not None
    columns = (labels.offsets, labels.kinds, labels.format_ids, labels.sizes)
    return list(zip(*(column.tolist() for column in columns), strict=True))


def test_committed_records_carry_the_kind_and_data_format_id_of_their_packets(
    tmp_path: Path,
) -> None:
    names = pb.SampleDataFormat(parameter_identifiers=pb.ParameterList(parameter_identifiers=["a"]))
    row_by_id = pb.RowDataPacket(data_format=pb.SampleDataFormat(data_format_identifier=3))
    mine = [
        _periodic(LARGE_ID),
        _packet("RowData", row_by_id.SerializeToString()),
        _packet("RowData", pb.RowDataPacket(data_format=names).SerializeToString()),
        _packet("Marker", pb.MarkerPacket(label="lap").SerializeToString()),
        b"\xff\x01not a packet",
        _periodic(7),
    ]
    with EmbeddedTransport(tmp_path / "store.db") as transport:
        transport.create_topics({"t": 1})
        for index, value in enumerate(mine):
            transport.produce("t", 0, b"mine", value)
            if index == 2:  # records of other keys, and no key, in between; another commit
                transport.produce("t", 0, b"other", _periodic(99))
                transport.produce("t", 0, None, _periodic(98))
                transport.flush(5)
        transport.flush(5)
        with _reader(transport) as reader:
            every = _rows(reader.packet_labels(("t", 0), 0, 8, b"mine"))
            later = _rows(reader.packet_labels(("t", 0), 2, 7, b"mine"))
            other = _rows(reader.packet_labels(("t", 0), 0, 8, b"other"))
            none = reader.packet_labels(("t", 0), 8, 8, b"mine")

    sizes = [len(value) for value in mine]
    assert every == [
        (0, PERIODIC, LARGE_ID, sizes[0]),
        (1, ROW, 3, sizes[1]),
        (2, -1, 0, sizes[2]),  # a data format given by names
        (5, -1, 0, sizes[3]),
        (6, -1, 0, sizes[4]),
        (7, PERIODIC, 7, sizes[5]),
    ]
    assert later == every[2:5]
    assert other == [(3, PERIODIC, 99, len(_periodic(99)))]
    assert none is not None and none.offsets.size == 0


def test_a_range_with_records_committed_without_labels_has_none(tmp_path: Path) -> None:
    path = tmp_path / "store.db"
    with EmbeddedTransport(path) as transport:
        transport.create_topics({"t": 1})
        transport.produce("t", 0, b"mine", _periodic(7))
        transport.flush(5)
    # a writer that knows nothing of labels (an older version of this library)
    with sqlite3.connect(path) as foreign:
        (low,) = foreign.execute("SELECT min(id) FROM records").fetchone()
        foreign.execute("INSERT INTO records VALUES (?, ?, ?, 0)", (low + 1, b"mine", _periodic(8)))
    foreign.close()
    with EmbeddedTransport(path) as transport:
        transport.produce("t", 0, b"mine", _periodic(9))
        transport.flush(5)
        with _reader(transport) as reader:
            assert reader.packet_labels(("t", 0), 0, 3, b"mine") is None
            assert reader.packet_labels(("t", 0), 1, 2, b"mine") is None
            assert _rows(reader.packet_labels(("t", 0), 0, 1, b"mine"))[0][2] == 7
            assert _rows(reader.packet_labels(("t", 0), 2, 3, b"mine"))[0][2] == 9
            assert reader.packet_labels(("t", 0), 2, 4, b"mine") is None  # past the end


def test_a_store_from_before_labels_labels_what_comes_next(tmp_path: Path) -> None:
    path = tmp_path / "old.db"
    with sqlite3.connect(path) as old:
        old.executescript(
            "CREATE TABLE topics (name TEXT PRIMARY KEY, partitions INTEGER NOT NULL);"
            "CREATE TABLE partitions (pid INTEGER PRIMARY KEY, topic TEXT NOT NULL,"
            " partition INTEGER NOT NULL, UNIQUE (topic, partition));"
            "CREATE TABLE records (id INTEGER PRIMARY KEY, key BLOB, value BLOB NOT NULL,"
            " timestamp_ms INTEGER NOT NULL);"
            "INSERT INTO topics VALUES ('t', 1);"
            "INSERT INTO partitions VALUES (1, 't', 0);"
        )
        old.executemany(
            "INSERT INTO records VALUES (?, ?, ?, 0)",
            [((1 << 40) + i, b"mine", _periodic(7)) for i in range(3)],
        )
    old.close()
    with EmbeddedTransport(path) as transport:
        transport.produce("t", 0, b"mine", _periodic(8))
        transport.flush(5)
        with _reader(transport) as reader:
            assert reader.packet_labels(("t", 0), 0, 4, b"mine") is None
            assert _rows(reader.packet_labels(("t", 0), 3, 4, b"mine")) == [
                (3, PERIODIC, 8, len(_periodic(8)))
            ]


@pytest.mark.parametrize("records", [1, 300, 5_000])
def test_labels_of_many_commits_come_back_in_offset_order(tmp_path: Path, records: int) -> None:
    values = [_periodic(i % 11) for i in range(records)]
    with EmbeddedTransport(tmp_path / "store.db") as transport:
        transport.create_topics({"t": 1})
        for start in range(0, records, 97):  # commits of a few records each
            for value in values[start : start + 97]:
                transport.produce("t", 0, b"k" if start % 2 else b"mine", value)
            transport.flush(5)
        with _reader(transport) as reader:
            found = reader.packet_labels(("t", 0), 1, records, b"mine")
    mine = [i for i in range(1, records) if not (i // 97) % 2]
    assert found is not None
    np.testing.assert_array_equal(found.offsets, mine)
    np.testing.assert_array_equal(found.format_ids, [i % 11 for i in mine])

"""``PacketWriterService.write_data_batch`` and ``Transport.produce_many``, on every transport:
a batch is ``write_data`` of each packet in order, a refusal in the middle stops nothing."""

from __future__ import annotations

from typing import Any, cast

from ma_dataplatforms_streaming_support_library.contracts.packet_writing.packet_bytes import (
    PacketBytes,
)
from ma_dataplatforms_streaming_support_library.core.packet_writing.packet_writer_service import (
    DataWrite,
    PacketWriterService,
)
from ma_dataplatforms_streaming_support_library.protos import open_data_pb2
from ma_dataplatforms_streaming_support_library.transport import Transport

from .conftest import (
    Library,
    create_session,
    marker_packet,
    packet,
    read_all,
)


def batch_writer(library: Library) -> PacketWriterService:
    return cast(PacketWriterService, library.writer_service())


def test_a_refused_packet_in_the_middle_leaves_the_others_written_in_order(
    library: Library, data_source: str, transport: Transport
) -> None:
    sessions = library.session_service()
    writer = batch_writer(library)
    key = create_session(sessions, data_source).session_key
    first, second, last = (marker_packet(key, label) for label in ("first", "second", "last"))
    essential = packet("Configuration", key, b"\x0a\x03cfg", essential=True)
    other_session = marker_packet("some-other-key", "mismatch")
    too_large = packet("Marker", key, b"\x00" * 1_500_000)
    writes: list[DataWrite] = [
        (data_source, "", key, first),
        (data_source, "", key, other_session),
        (data_source, "", key, second),
        (data_source, "", key, too_large),
        (data_source, "", key, essential),
        (data_source, "", key, last),
    ]

    refused = writer.write_data_batch(writes)

    assert sorted(refused) == [1, 3]
    assert "names session 'some-other-key'" in refused[1].error_message
    assert refused[3].error_message.startswith("write_data: data source")
    assert "1500" in refused[3].error_message  # its size, in each transport's words
    assert sessions.end_session(data_source, key).success
    mine = [r.value for r in read_all(transport, data_source) if r.key == key.encode()]
    assert mine[:4] == [first.data, second.data, essential.data, last.data]
    essentials = read_all(transport, f"{data_source}_essential")
    assert [(r.value, r.key) for r in essentials] == [(essential.data, key.encode())]


def test_each_refusal_is_what_write_data_answers(library: Library, data_source: str) -> None:
    sessions = library.session_service()
    writer = batch_writer(library)
    key = create_session(sessions, data_source).session_key
    ended = create_session(sessions, data_source).session_key
    assert sessions.end_session(data_source, ended).success
    good = marker_packet(key, "good")
    writes: list[Any] = [
        (data_source, "", "not-a-session", marker_packet("not-a-session", "x")),
        (data_source, "", ended, marker_packet(ended, "late")),
        (data_source, "", key, PacketBytes(b"\xff\xff not a packet")),
        (data_source, "", key, open_data_pb2.Packet(session_key=key)),
        (data_source, "", key, b"raw bytes"),
        ("bad/source", "", key, good),
        (data_source, "", key, good),
    ]

    refused = writer.write_data_batch(writes)

    assert sorted(refused) == [0, 1, 2, 3, 4, 5]
    for index, arguments in enumerate(writes[:-1]):
        single = writer.write_data(*arguments)
        assert not single.success
        assert refused[index].error_message == single.error_message


def test_a_writer_not_started_refuses_the_whole_batch(library: Library, data_source: str) -> None:
    sessions = library.session_service()
    key = create_session(sessions, data_source).session_key
    writer = cast(PacketWriterService, library.writer_service(start=False))

    refused = writer.write_data_batch([(data_source, "", key, marker_packet(key, "early"))] * 2)

    assert sorted(refused) == [0, 1]
    assert "not started" in refused[0].error_message
    assert writer.write_data_batch([]) == {}


def test_protobuf_packets_take_the_short_way_and_are_written_as_serialized(
    library: Library, data_source: str, transport: Transport
) -> None:
    sessions = library.session_service()
    writer = batch_writer(library)
    key = create_session(sessions, data_source).session_key
    packets = [
        open_data_pb2.Packet.FromString(marker_packet(key, f"p{index}").data) for index in range(5)
    ]

    assert writer.write_data_batch([(data_source, "", key, p) for p in packets]) == {}
    assert writer.write_data(data_source, "", key, packets[0]).success
    assert sessions.end_session(data_source, key).success
    mine = [r.value for r in read_all(transport, data_source) if r.key == key.encode()]
    expected = [p.SerializeToString() for p in [*packets, packets[0]]]
    assert mine[: len(expected)] == expected


def test_produce_many_rejects_only_the_records_it_cannot_take(
    transport: Transport, data_source: str
) -> None:
    transport.create_topics({data_source: 2})
    records = [
        (data_source, 0, b"k", b"zero"),
        (data_source, 7, b"k", b"no such partition"),
        (data_source, 1, b"k", b"one"),
        (data_source, 0, b"k", b"\x00" * 1_500_000),
        (data_source, None, b"keyed", b"by key"),
        (data_source, 0, None, b"two"),
    ]

    rejected = transport.produce_many(records)

    assert sorted(rejected) == [1, 3]
    transport.flush(10)
    stored = read_all(transport, data_source)
    assert [r.value for r in stored if r.partition == 0 and r.key != b"keyed"] == [b"zero", b"two"]
    assert [r.value for r in stored if r.partition == 1 and r.key != b"keyed"] == [b"one"]
    assert [r.value for r in stored if r.key == b"keyed"] == [b"by key"]

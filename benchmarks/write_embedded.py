"""Writing to the embedded store vs raw sqlite3: the writer service, and the session writer.

1. 100k PeriodicData packets (100 doubles each) through the official writer service. Both sides
   get the same pre-serialized packet bytes; the baseline inserts them with ``executemany`` in
   batched transactions into a plain WAL table, the least any SQLite-backed log must do (goal:
   writer service >= 0.7x raw).
2. NumPy arrays (100 channels) through the session writer (``write_periodic``: encode, split,
   write) vs raw ``executemany`` of the same encoded packets (goal: >= 20M samples/s and >= 0.7x).

The baselines use SQLite's defaults (WAL, synchronous=NORMAL, default page size). The store
creates its files with larger pages, which matters for large packets; part 2 also prints the
raw baseline with the store's page size, so that the library's own cost is seen apart from
that choice.
"""

from __future__ import annotations

import argparse
import sqlite3
import tempfile
import time
from pathlib import Path

import numpy as np

from ma_dataplatforms_streaming_support_library import open_session_writer
from ma_dataplatforms_streaming_support_library.contracts.packet_writing.packet_bytes import (
    PacketBytes,
)
from ma_dataplatforms_streaming_support_library.contracts.session_management.session_creation_info import (
    SessionCreationInfo,
)
from ma_dataplatforms_streaming_support_library.contracts.shared.stream_api_configuration import (
    StreamingApiConfiguration,
)
from ma_dataplatforms_streaming_support_library.contracts.shared.stream_creation_strategy import (
    StreamCreationStrategy,
)
from ma_dataplatforms_streaming_support_library.core.base.logger import Logger
from ma_dataplatforms_streaming_support_library.core.base.support_library_bootstrapper import (
    SupportLibraryBootstrapper,
)
from ma_dataplatforms_streaming_support_library.protos import open_data_pb2
from ma_dataplatforms_streaming_support_library.sessions.packing import periodic_packets
from ma_dataplatforms_streaming_support_library.sessions.write import DEFAULT_MAX_PACKET_BYTES
from ma_dataplatforms_streaming_support_library.transport.sqlite_log import PAGE_SIZE

SAMPLES_PER_PACKET = 100
BATCH = 2_000
CHANNELS = 100
T0 = 1_700_000_000_000_000_000


def build_packets(count: int, session_key: str, data_format_id: int) -> list[bytes]:
    packets = []
    for index in range(count):
        periodic = open_data_pb2.PeriodicDataPacket(
            data_format=open_data_pb2.SampleDataFormat(data_format_identifier=data_format_id),
            start_time=1_700_000_000_000_000_000 + index * 1_000_000_000,
            interval=10_000_000,
        )
        samples = periodic.columns.add().double_samples.samples
        for sample in range(SAMPLES_PER_PACKET):
            samples.add(value=index + sample * 0.01 + 0.5, status=open_data_pb2.DATA_STATUS_VALID)
        packets.append(
            open_data_pb2.Packet(
                type="PeriodicData", session_key=session_key, content=periodic.SerializeToString()
            ).SerializeToString()
        )
    return packets


def raw_sqlite(path: Path, key: bytes, packets: list[bytes], page_size: int | None = None) -> float:
    """Seconds to insert ``packets`` with ``executemany``, SQLite's default page size unless
    ``page_size`` is given."""
    connection = sqlite3.connect(str(path), isolation_level=None)
    if page_size is not None:
        connection.execute(f"PRAGMA page_size={page_size}")
    connection.execute("PRAGMA journal_mode=WAL")
    connection.execute("PRAGMA synchronous=NORMAL")
    connection.execute("CREATE TABLE records (key BLOB, value BLOB NOT NULL)")
    started = time.perf_counter()
    for first in range(0, len(packets), BATCH):
        connection.execute("BEGIN IMMEDIATE")
        connection.executemany(
            "INSERT INTO records VALUES (?, ?)", ((key, p) for p in packets[first : first + BATCH])
        )
        connection.execute("COMMIT")
    elapsed = time.perf_counter() - started
    connection.close()
    return elapsed


def writer_service(path: Path, count: int) -> tuple[float, int]:
    configuration = StreamingApiConfiguration(
        f"embedded:{path}", StreamCreationStrategy.TOPIC_BASE, [], 30
    )
    library = SupportLibraryBootstrapper.bootstrap(configuration, Logger()).create()
    library.start()
    sessions = library.get_session_manager_api().create_service().data
    formats = library.get_data_format_manager_api().create_service().data
    writer = library.get_writing_packet_api().create_service().data
    assert sessions and formats and writer
    for service in (sessions, formats, writer):
        service.start()
    session = sessions.create_new_session(SessionCreationInfo("Bench", "write")).data
    assert session is not None
    format_id = formats.get_parameter_data_format_id("Bench", ["Value:Bench"]).data
    assert format_id is not None
    packets = [
        PacketBytes(p) for p in build_packets(count, session.session_key, format_id.data_format_id)
    ]
    key = session.session_key
    started = time.perf_counter()
    for packet in packets:
        if not writer.write_data("Bench", "Car", key, packet).success:
            raise RuntimeError("write failed")
    if not writer.flush().success:
        raise RuntimeError("flush failed")
    elapsed = time.perf_counter() - started
    library.stop()
    return elapsed, len(packets[0].data)


def session_writer(path: Path, values: np.ndarray) -> float:
    """Seconds to write ``values`` (channels, samples) through the session writer and flush."""
    names = [f"p{i}:Bench" for i in range(values.shape[0])]
    with open_session_writer(f"embedded:{path}", data_source="Bench", identifier="bench") as w:
        started = time.perf_counter()
        w.write_periodic(names, T0, 1_000_000, values)
        w.flush()
        return time.perf_counter() - started


def encoded_packets(values: np.ndarray) -> list[bytes]:
    """The packets the session writer writes for ``values``, encoded once for the baseline."""
    packets = periodic_packets(
        1,
        T0,
        1_000_000,
        values,
        None,
        DEFAULT_MAX_PACKET_BYTES,
        None,
        session_key="0" * 36,
        first_id=1,
    )
    return list(packets)


def remove_store(path: Path) -> None:
    for leftover in (path, path.with_name(path.name + "-wal"), path.with_name(path.name + "-shm")):
        leftover.unlink(missing_ok=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--packets", type=int, default=100_000)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--samples", type=int, default=200_000, help="per channel, session writer")
    args = parser.parse_args()
    count = args.packets
    raw_packets = build_packets(count, "00000000-0000-4000-8000-000000000000", 1)
    best_raw = best_raw_pages = best_service = float("inf")
    packet_size = 0
    with tempfile.TemporaryDirectory() as directory:
        for repeat in range(args.repeats):
            # Each store is deleted after its run, so no run waits on the write-back of another.
            raw_path, lib_path = (
                Path(directory) / f"raw{repeat}.db",
                Path(directory) / f"lib{repeat}.db",
            )
            best_raw = min(best_raw, raw_sqlite(raw_path, b"k" * 36, raw_packets))
            remove_store(raw_path)
            pages = raw_sqlite(raw_path, b"k" * 36, raw_packets, PAGE_SIZE)
            best_raw_pages = min(best_raw_pages, pages)
            remove_store(raw_path)
            elapsed, packet_size = writer_service(lib_path, count)
            best_service = min(best_service, elapsed)
            remove_store(lib_path)
    samples = count * SAMPLES_PER_PACKET
    print(
        f"{count} PeriodicData packets x {SAMPLES_PER_PACKET} doubles ({packet_size} bytes each), best of {args.repeats}"
    )
    print(
        f"  raw sqlite3 executemany : {count / best_raw:>10,.0f} packets/s {samples / best_raw:>13,.0f} samples/s"
    )
    print(
        f"  writer service          : {count / best_service:>10,.0f} packets/s {samples / best_service:>13,.0f} samples/s"
    )
    print(
        f"  raw, {PAGE_SIZE // 1024} KiB pages       : {count / best_raw_pages:>10,.0f} packets/s "
        f"{samples / best_raw_pages:>13,.0f} samples/s"
    )
    print(
        f"  ratio writer/raw        : {best_raw / best_service:.2f}x (goal >= 0.70x); "
        f"to raw with the store's pages: {best_raw_pages / best_service:.2f}x"
    )
    compare_session_writer(args.samples, args.repeats)


def compare_session_writer(samples_per_channel: int, repeats: int) -> None:
    values = np.random.default_rng(0).normal(size=(CHANNELS, samples_per_channel))
    packets = encoded_packets(values)
    best_raw = best_raw_pages = best_writer = float("inf")
    with tempfile.TemporaryDirectory() as directory:
        for repeat in range(repeats):
            raw_path, lib_path = (
                Path(directory) / f"r{repeat}.db",
                Path(directory) / f"w{repeat}.db",
            )
            best_raw = min(best_raw, raw_sqlite(raw_path, b"k" * 36, packets))
            remove_store(raw_path)
            best_raw_pages = min(
                best_raw_pages, raw_sqlite(raw_path, b"k" * 36, packets, PAGE_SIZE)
            )
            remove_store(raw_path)
            best_writer = min(best_writer, session_writer(lib_path, values))
            remove_store(lib_path)
    samples = values.size
    print(
        f"{CHANNELS} channels x {samples_per_channel:,} doubles from NumPy "
        f"({len(packets)} packets), best of {repeats}"
    )
    print(
        f"  raw sqlite3 executemany of the encoded packets : {samples / best_raw:>13,.0f} samples/s"
    )
    print(
        f"  the same with the store's {PAGE_SIZE // 1024} KiB pages       : "
        f"{samples / best_raw_pages:>13,.0f} samples/s"
    )
    print(
        f"  session writer (encode + write + flush)        : {samples / best_writer:>13,.0f} samples/s"
    )
    print(
        f"  ratio session writer/raw : {best_raw / best_writer:.2f}x "
        f"(goals: >= 0.70x and >= 20,000,000 samples/s); "
        f"to raw with the store's pages: {best_raw_pages / best_writer:.2f}x"
    )


if __name__ == "__main__":
    main()

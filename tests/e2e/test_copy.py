"""`ma-streaming copy` as a user runs it: embedded → Kafka → embedded, packets byte for byte."""

from __future__ import annotations

import datetime
import subprocess
import sys
from pathlib import Path

import pytest

from ma_dataplatforms_streaming_support_library import read_session
from ma_dataplatforms_streaming_support_library.contracts.packet_reading.received_packet_dto import (
    ReceivedPacketDto,
)
from ma_dataplatforms_streaming_support_library.contracts.shared.i_handler import IHandler
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

ROOT = Path(__file__).resolve().parents[2]


class Collector(IHandler[ReceivedPacketDto]):
    def __init__(self) -> None:
        self.packets: list[tuple[str, bytes, datetime.datetime]] = []

    def handle(self, obj: ReceivedPacketDto) -> None:
        self.packets.append((obj.stream, obj.packet_bytes.data, obj.submit_time))


def historic_packets(
    broker_list: str, session_key: str
) -> list[tuple[str, bytes, datetime.datetime]]:
    """Every packet of the session with its stream and its record's timestamp (submit_time)."""
    configuration = StreamingApiConfiguration(
        broker_list, StreamCreationStrategy.TOPIC_BASE, [], 10
    )
    library = SupportLibraryBootstrapper.bootstrap(configuration, Logger()).create()
    library.initialise()
    library.start()
    reader = library.get_reading_packet_api().create_service("Default", session_key).data
    collector = Collector()
    reader.initialise()
    reader.start()
    reader.set_handler(collector)
    assert reader.wait_until_finished(60)
    reader.stop()
    library.stop()
    return sorted(collector.packets)


def cli(*arguments: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "ma_dataplatforms_streaming_support_library.cli.main", *arguments],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )


@pytest.mark.kafka
def test_copy_embedded_to_kafka_and_back_preserves_every_packet_and_its_timestamp(
    tmp_path: Path, kafka_bootstrap: str
) -> None:
    source = f"embedded:{tmp_path / 'source.db'}"
    written = subprocess.run(
        [
            sys.executable,
            str(ROOT / "examples" / "writer.py"),
            "--fast",
            "--packets",
            "20",
            "--broker",
            source,
        ],
        capture_output=True,
        text=True,
        timeout=300,
        check=True,
    )
    session_key = written.stdout.split("wrote session ")[1].split()[0]

    to_kafka = cli("copy", "--from", source, "--to", kafka_bootstrap, session_key)
    assert to_kafka.returncode == 0, to_kafka.stderr
    assert "1 session(s) copied" in to_kafka.stdout
    again = cli("copy", "--from", source, "--to", kafka_bootstrap, session_key)
    assert again.returncode == 0 and "skipped" in again.stdout

    back = f"embedded:{tmp_path / 'back.db'}"
    to_embedded = cli("copy", "--from", kafka_bootstrap, "--to", back, session_key)
    assert to_embedded.returncode == 0, to_embedded.stderr

    original = historic_packets(source, session_key)
    assert len(original) == 46
    assert historic_packets(kafka_bootstrap, session_key) == original
    assert historic_packets(back, session_key) == original

    copied = read_session(session_key, back)
    assert copied.complete
    assert copied.session_info.details == {"Example Detail": "Example Value"}
    assert len(copied.parameter("Sin:MyApp")) == 20 * 100
    assert not copied.unresolved_formats


def test_copy_of_an_unknown_session_is_a_clear_error(tmp_path: Path) -> None:
    source = f"embedded:{tmp_path / 'source.db'}"
    subprocess.run(
        [
            sys.executable,
            str(ROOT / "examples" / "writer.py"),
            "--fast",
            "--packets",
            "1",
            "--broker",
            source,
        ],
        capture_output=True,
        timeout=300,
        check=True,
    )
    result = cli("copy", "--from", source, "--to", f"embedded:{tmp_path / 't.db'}", "no-such-key")
    assert result.returncode == 2
    assert "no-such-key" in result.stderr and "not found" in result.stderr

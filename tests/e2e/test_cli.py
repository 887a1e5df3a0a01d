"""The ma-streaming CLI as a user runs it: subprocesses on a temporary embedded store."""

from __future__ import annotations

import csv
import os
import subprocess
import sys
import time
from collections.abc import Sequence
from pathlib import Path

import pytest

CLI = [sys.executable, "-m", "ma_dataplatforms_streaming_support_library.cli.main"]
SCRIPT = Path(sys.executable).parent / "ma-streaming"
PACKETS = 40
SAMPLES = 10

# Writes one session through the official API: PACKETS periodic packets of SAMPLES samples on
# the main stream (gLat:Main) and on "Chassis" (vCar:Chassis, nGear:Chassis), a marker, then ends
# it. argv: broker list, packets, seconds to wait between packets. Prints the session key.
WRITER = """
import sys, time
from ma_dataplatforms_streaming_support_library.contracts.packet_writing.packet_bytes import PacketBytes
from ma_dataplatforms_streaming_support_library.contracts.session_management.session_creation_info import SessionCreationInfo
from ma_dataplatforms_streaming_support_library.contracts.shared.stream_api_configuration import StreamingApiConfiguration
from ma_dataplatforms_streaming_support_library.contracts.shared.stream_creation_strategy import StreamCreationStrategy
from ma_dataplatforms_streaming_support_library.core.base.logger import Logger
from ma_dataplatforms_streaming_support_library.core.base.support_library_bootstrapper import SupportLibraryBootstrapper
from ma_dataplatforms_streaming_support_library.protos import open_data_pb2 as pb

broker, packets, pause = sys.argv[1], int(sys.argv[2]), float(sys.argv[3])
config = StreamingApiConfiguration(broker, StreamCreationStrategy.TOPIC_BASE, [], 10)
lib = SupportLibraryBootstrapper.bootstrap(config, Logger()).create()
lib.initialise(); lib.start()
sessions = lib.get_session_manager_api().create_service().data
formats = lib.get_data_format_manager_api().create_service().data
writer = lib.get_writing_packet_api().create_service().data
for service in (sessions, formats, writer):
    service.start()
key = sessions.create_new_session(SessionCreationInfo("Default", "Qualifying_1")).data.session_key

def send(stream, kind, message):
    packet = pb.Packet(type=kind, session_key=key, content=message.SerializeToString())
    assert writer.write_data("Default", stream, key, PacketBytes(packet.SerializeToString())).success

layout = {"": ["gLat:Main"], "Chassis": ["vCar:Chassis", "nGear:Chassis"]}
ids = {s: formats.get_parameter_data_format_id("Default", p).data.data_format_id for s, p in layout.items()}
t0 = 1_700_000_000_000_000_000
send("", "Marker", pb.MarkerPacket(timestamp=t0, label="Out Lap", type="Lap Trigger"))
for i in range(packets):
    for stream, names in layout.items():
        packet = pb.PeriodicDataPacket(
            data_format=pb.SampleDataFormat(data_format_identifier=ids[stream]),
            start_time=t0 + i * 100_000_000, interval=10_000_000)
        for column, _ in enumerate(names):
            samples = packet.columns.add().double_samples.samples
            for j in range(10):
                samples.add(value=(i * 10 + j) * (column + 1) / 7.0, status=pb.DATA_STATUS_VALID)
        send(stream, "PeriodicData", packet)
    if pause:
        writer.flush()
        time.sleep(pause)
assert sessions.end_session("Default", key).success
lib.stop()
print(key)
"""


def environment(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k != "MA_STREAMING_BROKER"}
    env.update(extra)
    return env


def run(
    arguments: Sequence[str], *, command: Sequence[str] = CLI, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*command, *arguments],
        capture_output=True,
        text=True,
        timeout=120,
        env=env if env is not None else environment(),
        check=False,
    )


def write_session(broker: str, packets: int = PACKETS, pause_s: float = 0.0) -> str:
    done = subprocess.run(
        [sys.executable, "-c", WRITER, broker, str(packets), str(pause_s)],
        capture_output=True,
        text=True,
        timeout=120,
        env=environment(),
        check=True,
    )
    return done.stdout.strip().splitlines()[-1]


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory) -> tuple[str, str]:
    """(broker list, session key) of a store holding one ended session."""
    broker = f"embedded:{tmp_path_factory.mktemp('cli') / 'store.db'}"
    return broker, write_session(broker)


def assert_clean_failure(result: subprocess.CompletedProcess[str], code: int, *texts: str) -> None:
    assert result.returncode == code, result.stdout + result.stderr
    assert "Traceback" not in result.stderr
    for text in texts:
        assert text in result.stderr, result.stderr


def test_sessions_lists_the_session(store: tuple[str, str]) -> None:
    broker, key = store
    result = run(["--broker", broker, "sessions"])
    assert result.returncode == 0, result.stderr
    line = next(line for line in result.stdout.splitlines() if key in line)
    assert "Qualifying_1" in line and "Default" in line and "ended" in line
    # exact by default: one marker, and PACKETS periodic packets on each of the two streams;
    # piped, the table is plain text
    assert line.split()[-1] == str(1 + 2 * PACKETS)
    assert not set("│┃━─") & set(result.stdout)


def test_the_installed_script_and_the_environment_variable_name_the_store(
    store: tuple[str, str],
) -> None:
    broker, key = store
    if not SCRIPT.exists():
        pytest.skip(f"{SCRIPT} is not installed")
    result = run(["sessions"], command=[str(SCRIPT)], env=environment(MA_STREAMING_BROKER=broker))
    assert result.returncode == 0, result.stderr
    assert key in result.stdout


def test_show_describes_streams_parameters_and_packet_types(store: tuple[str, str]) -> None:
    broker, key = store
    result = run(["--broker", broker, "show", key])
    assert result.returncode == 0, result.stderr
    out = result.stdout
    for text in ("Qualifying_1", "ended", "Chassis", "(main)", "PeriodicData", "Marker", "Out Lap"):
        assert text in out
    rows = {
        line.split("│")[1].strip(): line for line in out.splitlines() if ":" in line and "│" in line
    }
    assert f"{PACKETS * SAMPLES:,}" in rows["vCar:Chassis"]
    assert f"{PACKETS * SAMPLES:,}" in rows["gLat:Main"]


def test_unknown_session_is_an_actionable_error(store: tuple[str, str]) -> None:
    broker, _ = store
    for command in (["show", "no-such-key"], ["export", "no-such-key", "--out", "x.parquet"]):
        result = run(["--broker", broker, *command])
        assert_clean_failure(
            result, 2, f"session no-such-key not found in {broker}", "ma-streaming sessions"
        )


def test_unreachable_broker_and_missing_store_fail_cleanly(tmp_path: Path) -> None:
    result = run(["--broker", "localhost:1", "--timeout", "1", "sessions"])
    assert_clean_failure(result, 3, "could not reach Kafka at localhost:1")
    missing = run(["--broker", f"embedded:{tmp_path / 'none.db'}", "sessions"])
    assert_clean_failure(missing, 2, f"no store at {tmp_path / 'none.db'}")
    assert not (tmp_path / "none.db").exists()


def test_export_parquet_and_csv_hold_every_sample(store: tuple[str, str], tmp_path: Path) -> None:
    import pyarrow.parquet as pq

    broker, key = store
    samples = PACKETS * SAMPLES * 3
    result = run(["--broker", broker, "export", key, "--format", "parquet", "--out", str(tmp_path / "s.parquet")])  # fmt: skip
    assert result.returncode == 0, result.stderr
    table = pq.read_table(tmp_path / "s.parquet")
    assert table.num_rows == samples
    assert table.column_names == ["timestamp", "parameter", "value", "status", "units"]
    assert set(table.column("parameter").to_pylist()) == {
        "gLat:Main",
        "vCar:Chassis",
        "nGear:Chassis",
    }

    result = run(["--broker", broker, "export", key, "--format", "csv", "--out", str(tmp_path / "s.csv")])  # fmt: skip
    assert result.returncode == 0, result.stderr
    with (tmp_path / "s.csv").open(newline="") as handle:
        rows = list(csv.DictReader(handle))
    assert len(rows) == samples
    first_gear = next(row for row in rows if row["parameter"] == "nGear:Chassis")
    assert float(first_gear["value"]) == 0.0 and first_gear["status"] == "1"


def test_plot_writes_a_png(store: tuple[str, str], tmp_path: Path) -> None:
    broker, key = store
    out = tmp_path / "plot.png"
    result = run(["--broker", broker, "plot", key, "vCar:Chassis", "gLat:Main", "--out", str(out)])
    assert result.returncode == 0, result.stderr
    data = out.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n" and len(data) > 5_000
    unknown = run(["--broker", broker, "plot", key, "nope:X", "--out", str(out)])
    assert_clean_failure(unknown, 2, "no samples of nope:X", f"ma-streaming show {key}")


def test_tail_follows_a_session_being_written(tmp_path: Path) -> None:
    broker = f"embedded:{tmp_path / 'live.db'}"
    writer = subprocess.Popen(
        [sys.executable, "-c", WRITER, broker, "80", "0.05"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=environment(),
    )
    try:
        # tail reads, so it never creates the store: it starts once the writer has made it
        while not (tmp_path / "live.db").exists() and writer.poll() is None:
            time.sleep(0.01)
        result = run(["--broker", broker, "tail", "--duration", "3"])
    finally:
        writer_out, writer_err = writer.communicate(timeout=120)
    assert writer.returncode == 0, writer_err
    assert result.returncode == 0, result.stderr
    status_lines = [line for line in result.stdout.splitlines() if "packets/s" in line]
    assert status_lines, result.stdout
    assert any(int(line.split()[2].replace(",", "")) > 0 for line in status_lines), result.stdout
    assert "vCar:Chassis" in result.stdout
    assert writer_out.strip().splitlines()[-1] in result.stdout  # the session key


def test_no_command_prints_usage() -> None:
    result = run([])
    assert result.returncode == 2
    assert "usage: ma-streaming" in result.stderr and "sessions" in result.stderr


# issue 14 -------------------------------------------------------------------------------------
def test_global_options_go_before_or_after_the_command_and_a_path_means_a_store(
    store: tuple[str, str],
) -> None:
    broker, key = store
    path = broker.removeprefix("embedded:")
    for arguments in (["sessions", "--broker", path], ["--timeout", "5", "sessions", "--broker", broker]):  # fmt: skip
        result = run(arguments)
        assert result.returncode == 0, result.stderr
        assert key in result.stdout


def test_sessions_by_prefix_identifier_or_latest(store: tuple[str, str], tmp_path: Path) -> None:
    broker, key = store
    for name in (key[:6], key[:6].upper(), "Qualifying_1", "latest"):
        result = run(["show", name, "--broker", broker])
        assert result.returncode == 0, (name, result.stderr)
        assert key in result.stdout
    two = f"embedded:{tmp_path / 'two.db'}"
    keys = {write_session(two, packets=1), write_session(two, packets=1)}
    ambiguous = run(["show", "Qualifying_1", "--broker", two])
    assert_clean_failure(ambiguous, 2, "names 2 sessions", *keys)


def test_sessions_as_json_and_csv(store: tuple[str, str]) -> None:
    import json

    broker, key = store
    listed = json.loads(run(["sessions", "--json", "--broker", broker]).stdout)
    assert [(s["session_key"], s["state"], s["packets"]) for s in listed] == [
        (key, "ended", 1 + 2 * PACKETS)
    ]
    rows = list(csv.DictReader(run(["sessions", "--csv", "--broker", broker]).stdout.splitlines()))
    assert rows[0]["session_key"] == key and rows[0]["identifier"] == "Qualifying_1"


def test_sessions_table_fits_80_columns_without_cutting_numbers() -> None:
    from ma_dataplatforms_streaming_support_library.cli.sessions import format_listing

    row = ["0f8fad5b-d9cb-469f-a165-70867728950e", "Qualifying 1 of a long weekend name",
           "SomeLongDataSourceName", "2025-01-01 12:00:00", "1:02:03", "ended", "123,456,789"]  # fmt: skip
    lines = format_listing([row], 80)
    assert all(len(line) <= 80 for line in lines), lines
    assert lines[1].startswith("0f8fad5b") and lines[1].endswith("123,456,789")
    assert "2025-01-01 12:00:00" in lines[1] and "1:02:03" in lines[1]
    assert format_listing([row], None)[1].startswith(row[0])  # piped: full values


def test_export_format_from_the_extension_and_unknown_ones_refused(
    store: tuple[str, str], tmp_path: Path
) -> None:
    broker, key = store
    refused = run(["export", key, "--out", str(tmp_path / "run.json"), "--broker", broker])
    assert_clean_failure(refused, 2, "cannot tell the format of", ".csv")
    assert not (tmp_path / "run.json").exists()
    result = run(["export", key, "--out", str(tmp_path / "run.csv"), "--broker", broker])
    assert result.returncode == 0, result.stderr
    header = (tmp_path / "run.csv").read_text().splitlines()[0]
    assert header.replace('"', "") == "timestamp,parameter,value,status,units"


def test_reading_commands_never_create_a_store(store: tuple[str, str], tmp_path: Path) -> None:
    broker, key = store
    new = tmp_path / "new.db"
    for arguments in (["show", key], ["export", key, "--out", str(tmp_path / "x.csv")], ["end", key]):  # fmt: skip
        assert_clean_failure(run([*arguments, "--broker", str(new)]), 2, f"no store at {new}")
    copy = run(["copy", "--from", broker, "--to", f"embedded:{new}", "nosuchkey"])
    assert_clean_failure(copy, 2, "session nosuchkey not found")
    assert sorted(p.name for p in tmp_path.iterdir()) == []


def test_copy_to_a_new_store_appears_complete(store: tuple[str, str], tmp_path: Path) -> None:
    broker, key = store
    target = tmp_path / "copy.db"
    result = run(["copy", "--from", broker, "--to", str(target), key[:8]])
    assert result.returncode == 0, result.stderr
    assert [p.name for p in tmp_path.iterdir()] == ["copy.db"]
    assert key in run(["sessions", "--broker", str(target)]).stdout


def test_end_a_session_whose_writer_is_gone(tmp_path: Path) -> None:
    import json

    broker = f"embedded:{tmp_path / 'live.db'}"
    script = (
        "import sys\n"
        "from ma_dataplatforms_streaming_support_library import open_session_writer\n"
        "w = open_session_writer(sys.argv[1], identifier='killed')\n"
        "w.write_periodic('x:A', 1_700_000_000_000_000_000, 1_000_000, [1.0, 2.0]); w.flush()\n"
        "print(w.session_key)\n"
    )
    key = subprocess.run([sys.executable, "-c", script, broker], capture_output=True, text=True,
                         check=True, env=environment()).stdout.split()[-1]  # fmt: skip
    listed = json.loads(run(["sessions", "--json", "--broker", broker]).stdout)
    assert listed[0]["state"] == "live"
    assert run(["sessions", "--stale-after", "1h", "--broker", broker]).stdout.startswith(
        "no stale"
    )
    stale = run(["sessions", "--stale-after", "0s", "--broker", broker])
    assert key in stale.stdout
    ended = run(["end", "--stale-after", "0s", "--broker", broker])
    assert ended.returncode == 0 and f"ended session {key}" in ended.stdout, ended.stderr
    listed = json.loads(run(["sessions", "--json", "--broker", broker]).stdout)
    assert listed[0]["state"] == "ended"
    again = run(["end", key, "--broker", broker])
    assert_clean_failure(again, 2, "already ended")


def test_properties_from_options_files_and_environment_and_secrets_never_printed(
    tmp_path: Path,
) -> None:
    from ma_dataplatforms_streaming_support_library.cli.main import build_parser
    from ma_dataplatforms_streaming_support_library.cli.options import finish_global_options

    properties = tmp_path / "client.properties"
    properties.write_text("# cluster\nsecurity.protocol = SASL_SSL\nsasl.mechanism: PLAIN\n")
    args = build_parser().parse_args(
        [
            "--property",
            "sasl.username=me",
            "sessions",
            "--properties-file",
            str(properties),
            "--property",
            "sasl.mechanism=SCRAM-SHA-256",
        ]
    )
    finish_global_options(args, {"MA_STREAMING_KAFKA_SASL_PASSWORD": "s3cret", "OTHER": "x"})
    assert args.properties == {
        "sasl.password": "s3cret",
        "security.protocol": "SASL_SSL",
        "sasl.mechanism": "SCRAM-SHA-256",
        "sasl.username": "me",
    }
    result = run(
        [
            "-vv",
            "sessions",
            "--broker",
            "localhost:1",
            "--timeout",
            "1",
            "--property",
            "sasl.password=hunter2",
            "--property",
            "security.protocol=SASL_PLAINTEXT",
            "--property",
            "sasl.mechanism=PLAIN",
            "--property",
            "sasl.username=me",
        ],
        env=environment(MA_STREAMING_KAFKA_SSL_KEY_PASSWORD="t0psecret"),
    )
    assert result.returncode == 3, result.stderr
    assert "hunter2" not in result.stdout + result.stderr
    assert "t0psecret" not in result.stdout + result.stderr


def test_version_names_the_components() -> None:
    result = run(["--version"])
    assert result.returncode == 0, result.stderr
    for text in ("ma-streaming 0.1.0", "protobuf", "backend", "librdkafka", "columnar"):
        assert text in result.stdout


def test_plot_labels_units_and_markers_and_takes_a_window(
    store: tuple[str, str], tmp_path: Path
) -> None:
    broker, key = store
    out = tmp_path / "window.png"
    result = run(["plot", key, "vCar:Chassis", "--start", "Out Lap", "--end", "2.5", "--out", str(out), "--broker", broker])  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert out.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert [p.name for p in tmp_path.iterdir()] == ["window.png"]
    bad = run(["plot", key, "vCar:Chassis", "--start", "Lap 9", "--out", str(out), "--broker", broker])  # fmt: skip
    assert_clean_failure(bad, 2, "'Lap 9' is neither seconds nor a marker label", "Out Lap")

"""The committed generated protobuf modules are up to date with ``proto/**/*.proto``.

The generator (``grpcio-tools==1.74.0``) cannot be installed in the main environment (it
pins ``protobuf<7``), so these tests use the generator's own environment ``.venv-protoc``.
When it is missing they create it through ``scripts/generate_protos.py --setup-only``
(which needs the package registry). They never skip: if the environment cannot be
prepared, they fail.

Two independent checks:

* the ``FileDescriptorProto`` embedded in each committed ``*_pb2.py`` equals the one protoc
  produces from the ``.proto`` sources (``--descriptor_set_out``): a schema edit that was
  not regenerated fails here, with a readable diff;
* regenerating into a temporary directory (``generate_protos.py --check``) yields the
  committed ``*_pb2.py`` / ``*_pb2.pyi`` / ``*_pb2_grpc.py`` byte for byte, post-processing
  included.
"""

from __future__ import annotations

import difflib
import importlib
import subprocess
import sys
from pathlib import Path

import pytest
from google.protobuf import descriptor_pb2, text_format

REPO_ROOT = Path(__file__).resolve().parents[2]
SCRIPT = REPO_ROOT / "scripts" / "generate_protos.py"
PROTO_ROOT = REPO_ROOT / "proto"
PACKAGE = "ma_dataplatforms_streaming_support_library.protos"
PACKAGE_DIR = REPO_ROOT / "src" / "ma_dataplatforms_streaming_support_library" / "protos"
PROTO_FILES = [
    "ma/streaming/open_data/v1/open_data.proto",
    "ma/streaming/api/v1/api.proto",
    "ma/streaming/key_generator/v1/key_generator.proto",
]
# The sources that declare gRPC services: only these get a ``_pb2_grpc.py`` module.
SERVICE_PROTO_FILES = [
    "ma/streaming/api/v1/api.proto",
    "ma/streaming/key_generator/v1/key_generator.proto",
]


# One xdist worker runs these, so two workers never build .venv-protoc at once.
pytestmark = pytest.mark.xdist_group("protoc")


@pytest.fixture(scope="module")
def protoc_python() -> Path:
    """Python of ``.venv-protoc``, created by the generator script when missing."""
    result = subprocess.run(
        [sys.executable, str(SCRIPT), "--setup-only"],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert result.returncode == 0, (
        f"could not prepare the protoc environment:\n{result.stdout}\n{result.stderr}"
    )
    python = Path(result.stdout.strip().splitlines()[-1])
    assert python.is_file(), python
    return python


def _strip_json_names(message: descriptor_pb2.DescriptorProto) -> None:
    # protoc's descriptor sets carry the default json_name of every field; the descriptor
    # embedded by the Python generator leaves it out. It is derived, not declared.
    for field in message.field:
        field.ClearField("json_name")
    for nested in message.nested_type:
        _strip_json_names(nested)


def _module_for(proto_path: str) -> str:
    return f"{PACKAGE}.{Path(proto_path).stem}_pb2"


def test_proto_sources_are_the_expected_set() -> None:
    found = sorted(p.relative_to(PROTO_ROOT).as_posix() for p in PROTO_ROOT.rglob("*.proto"))
    assert found == sorted(PROTO_FILES)


def test_package_holds_exactly_the_generated_modules() -> None:
    expected = (
        {"__init__.py", "packets.py"}
        | {f"{Path(p).stem}_pb2{suffix}" for p in PROTO_FILES for suffix in (".py", ".pyi")}
        | {f"{Path(p).stem}_pb2_grpc.py" for p in SERVICE_PROTO_FILES}
    )
    found = {p.name for p in PACKAGE_DIR.iterdir() if p.is_file() and p.suffix in (".py", ".pyi")}
    assert found == expected


@pytest.mark.timeout(900)
def test_embedded_descriptors_match_proto_sources(protoc_python: Path, tmp_path: Path) -> None:
    out = tmp_path / "descriptors.binpb"
    result = subprocess.run(
        [
            str(protoc_python),
            "-m",
            "grpc_tools.protoc",
            f"-I{PROTO_ROOT}",
            f"--descriptor_set_out={out}",
            *PROTO_FILES,
        ],
        cwd=PROTO_ROOT,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    fresh_set = descriptor_pb2.FileDescriptorSet.FromString(out.read_bytes())
    assert [f.name for f in fresh_set.file] == PROTO_FILES

    stale: list[str] = []
    for fresh in fresh_set.file:
        for message in fresh.message_type:
            _strip_json_names(message)
        module = importlib.import_module(_module_for(fresh.name))
        committed = descriptor_pb2.FileDescriptorProto.FromString(module.DESCRIPTOR.serialized_pb)
        if committed != fresh:
            diff = difflib.unified_diff(
                text_format.MessageToString(committed).splitlines(),
                text_format.MessageToString(fresh).splitlines(),
                fromfile=f"committed {module.__name__}",
                tofile=f"protoc {fresh.name}",
                lineterm="",
            )
            stale.append("\n".join(diff))
    assert not stale, (
        "generated modules are stale; run `python scripts/generate_protos.py`:\n" + "\n".join(stale)
    )


@pytest.mark.timeout(900)
def test_regenerated_files_are_identical(protoc_python: Path) -> None:
    assert protoc_python.is_file()
    result = subprocess.run(
        [sys.executable, str(SCRIPT), "--check"],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert result.returncode == 0, f"{result.stdout}\n{result.stderr}"

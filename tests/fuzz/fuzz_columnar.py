"""Fuzz the native columnar codec with mutated real packets; any crash is a failure.

Default mode, a seeded mutation loop: real PeriodicData/SynchroData/RowData contents and Packet
envelopes are mutated (bytes flipped, changed, inserted, dropped; lengths and varints made to
run past their end; packets cut short) and decoded in batches by the native parser, bounded by
a packet count and a time budget. Some packets of every batch are also decoded by the protobuf
reference and the outcomes compared; the envelopes are labelled (packet type and data format id
from their heads, as the embedded store does) by the compiled reader, some compared with NumPy's,
and marked by the packet readers' record walk (``packet_marks``), every mark it decides held
against protobuf's, as are the session key and essential flag the writers read with the same
walk (``envelope_facts``).

``--atheris`` hands the same seeds to atheris' coverage-guided mutator instead (one packet per
input; only the Python layers are coverage-instrumented unless the extension is rebuilt with
``-fsanitize=fuzzer-no-link``).

Run: python tests/fuzz/fuzz_columnar.py [--packets N] [--seconds S] [--seed K] [--atheris]
"""

from __future__ import annotations

import argparse
import random
import sys
import time
from typing import Any

import numpy as np

from ma_dataplatforms_streaming_support_library.columnar import (
    ContentBatch,
    PacketDecodeError,
    active_implementation,
    decode_periodic,
    decode_row,
    decode_synchro,
    encode_periodic_batch,
    get_parser,
    read_envelopes,
    wrap_packets,
)
from ma_dataplatforms_streaming_support_library.columnar._parsed import PacketKind
from ma_dataplatforms_streaming_support_library.columnar.heads import HEAD_BYTES, read_heads
from ma_dataplatforms_streaming_support_library.core.packet_reading.marks import (
    UNDECIDED,
    mark_of,
)
from ma_dataplatforms_streaming_support_library.protos import open_data_pb2 as pb

KINDS = [PacketKind.PERIODIC, PacketKind.SYNCHRO, PacketKind.ROW]
DECODERS: dict[PacketKind, Any] = {
    PacketKind.PERIODIC: decode_periodic,
    PacketKind.SYNCHRO: decode_synchro,
    PacketKind.ROW: decode_row,
}
BATCH = 2000
COMPARED_PER_BATCH = 20


def seeds(rng: np.random.Generator) -> dict[PacketKind, list[bytes]]:
    """Real packets as the writers produce them: zeros, NaN, every status, all list types."""
    values = rng.normal(size=(6, 3, 20))
    values[rng.random(values.shape) < 0.2] = 0.0
    values[0, 0, :3] = [np.nan, np.inf, -np.inf]
    status = rng.integers(0, 4, size=values.shape)
    periodic = encode_periodic_batch(
        values, status, start_times_ns=10**18, interval_ns=10**6, data_format=7
    )
    periodic += encode_periodic_batch(
        values[:2], 1, start_times_ns=5, interval_ns=3, data_format=["a:b", "c"]
    )
    synchro, row = [], []
    for n in (1, 4, 9):
        s = pb.SynchroDataPacket(start_time=99, intervals=list(range(1, n)))
        s.data_format.data_format_identifier = n
        r = pb.RowDataPacket(timestamps=[7 * k for k in range(n)])
        r.data_format.parameter_identifiers.parameter_identifiers.extend(["x", "é"])
        for kind, column in zip(("double", "int32", "bool", "string"), range(4), strict=False):
            samples = getattr(s.columns.add(), f"{kind}_samples").samples
            for k in range(n):
                value: Any = {"double": k * 0.5, "int32": -k, "bool": k % 2, "string": str(k)}[kind]
                samples.add(value=value, status=(k + column) % 4)
        for k in range(n):
            samples = r.rows.add().double_samples.samples
            samples.add(value=float(k), status=1)
            samples.add(value=0.0, status=0)
        synchro.append(s.SerializeToString())
        row.append(r.SerializeToString())
    return {PacketKind.PERIODIC: periodic, PacketKind.SYNCHRO: synchro, PacketKind.ROW: row}


def mutate(rng: random.Random, raw: bytes) -> bytes:
    data = bytearray(raw)
    for _ in range(rng.choice((1, 1, 1, 2, 3, 8))):
        if not data:
            data.append(rng.randrange(256))
            continue
        i = rng.randrange(len(data))
        action = rng.randrange(7)
        if action == 0:
            del data[i:]
        elif action == 1:
            data[i] = min(data[i] + rng.randrange(1, 64), 255)
        elif action == 2:
            data[i] |= 0x80
        elif action == 3:
            data[i] ^= 1 << rng.randrange(8)
        elif action == 4:
            data.insert(i, rng.randrange(256))
        elif action == 5:
            del data[i]
        else:
            j = rng.randrange(len(data))
            data[i:i] = data[j : j + rng.randrange(1, 16)]
    return bytes(data)


def outcome(decode: Any, raws: list[bytes], impl: str) -> Any:
    try:
        blocks = decode(raws, impl=impl)
    except PacketDecodeError as exc:
        return ("error", exc.packet_index)
    return [
        (b.timestamps_ns.tobytes(), b.values.tobytes(), b.status.tobytes())
        for b in blocks
        if b.values.dtype != object
    ]


def run_loop(packets: int, seconds: float, seed: int) -> int:
    """Mutated packets decoded until ``packets`` or ``seconds`` is reached; returns the count."""
    rng = random.Random(seed)
    corpus = seeds(np.random.default_rng(seed))
    native = get_parser("native")
    from ma_dataplatforms_streaming_support_library.columnar._native._codec import (
        envelope_facts,
        packet_labels,
        packet_marks,
    )

    envelopes = wrap_packets(
        corpus[PacketKind.PERIODIC], "PeriodicData", session_key="fuzz", ids=range(8)
    )
    done = 0
    began = time.monotonic()
    while done < packets and time.monotonic() - began < seconds:
        kind = KINDS[done // BATCH % len(KINDS)]
        raws = [mutate(rng, rng.choice(corpus[kind])) for _ in range(BATCH)]
        native.parse_samples(ContentBatch.from_messages(raws), kind)
        wrapped = [mutate(rng, rng.choice(envelopes)) for _ in range(BATCH // 4)]
        native.parse_envelopes(ContentBatch.from_messages(wrapped))
        kinds, format_ids = packet_labels(wrapped, HEAD_BYTES)
        marks = packet_marks(wrapped)
        for raw in raws[:COMPARED_PER_BATCH]:
            got = outcome(DECODERS[kind], [raw], "native")
            expected = outcome(DECODERS[kind], [raw], "reference")
            if got != expected:
                raise AssertionError(f"native and reference disagree on {kind.value} {raw!r}")
        for raw in wrapped[:COMPARED_PER_BATCH]:
            read = [_envelope(raw, impl) for impl in ("native", "reference")]
            if read[0] != read[1]:
                raise AssertionError(f"native and reference disagree on envelope {raw!r}")
        for index, raw in enumerate(wrapped[:COMPARED_PER_BATCH]):
            heads = read_heads([raw[:HEAD_BYTES]])
            if (kinds[index], format_ids[index]) != (heads.kinds[0], heads.format_ids[0]):
                raise AssertionError(f"native and NumPy labels disagree on {raw!r}")
        for raw, mark in zip(wrapped, marks, strict=True):
            facts = envelope_facts(raw)
            if mark == UNDECIDED:
                if facts is not None:
                    raise AssertionError(f"envelope facts {facts} of an undecided {raw!r}")
                continue
            if mark != mark_of(raw):
                raise AssertionError(f"the native record mark {mark} is wrong for {raw!r}")
            packet = pb.Packet.FromString(raw)
            if facts != (packet.session_key, packet.is_essential):
                raise AssertionError(f"envelope facts {facts} are wrong for {raw!r}")
        done += len(raws) + len(wrapped)
    return done


def _envelope(raw: bytes, impl: str) -> Any:
    try:
        env = read_envelopes([raw], impl=impl)  # type: ignore[arg-type]
    except PacketDecodeError:
        return "error"
    return env.types, env.session_keys, env.ids.tolist(), env.contents.message(0)


def run_atheris(packets: int) -> None:
    import atheris

    corpus = seeds(np.random.default_rng(0))
    native = get_parser("native")
    from ma_dataplatforms_streaming_support_library.columnar._native._codec import (
        envelope_facts,
        packet_labels,
        packet_marks,
    )

    def one_input(data: bytes) -> None:
        for kind in KINDS:
            native.parse_samples(ContentBatch.from_messages([data]), kind)
        native.parse_envelopes(ContentBatch.from_messages([data]))
        packet_labels([data], HEAD_BYTES)
        packet_marks([data])
        envelope_facts(data)

    atheris.Setup([sys.argv[0], f"-runs={packets}"], one_input)
    for kind in KINDS:
        for raw in corpus[kind]:
            one_input(raw)
    atheris.Fuzz()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--packets", type=int, default=1_000_000)
    parser.add_argument("--seconds", type=float, default=110.0)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--atheris", action="store_true")
    args = parser.parse_args()
    if active_implementation() != "native":
        sys.exit("the native columnar extension is not built: nothing to fuzz")
    if args.atheris:
        run_atheris(args.packets)
        return
    began = time.monotonic()
    done = run_loop(args.packets, args.seconds, args.seed)
    elapsed = time.monotonic() - began
    print(f"fuzz: {done:,} mutated packets through the native codec in {elapsed:.1f} s, no crash")


if __name__ == "__main__":
    main()

"""Header peeks (data format and time range without the samples) held against full decodes."""

from __future__ import annotations

import random
from typing import Any

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from test_columnar_properties import SETTINGS, mutate, packets

from ma_dataplatforms_streaming_support_library.columnar import (
    PacketDecodeError,
    available_implementations,
    decode_periodic,
    decode_row,
    decode_synchro,
    encode_periodic,
    peek_headers,
)

PEEKERS = [name for name in available_implementations() if name != "reference"]
KINDS: dict[str, tuple[str, Any]] = {
    "periodic": ("PeriodicData", decode_periodic),
    "synchro": ("SynchroData", decode_synchro),
    "row": ("RowData", decode_row),
}


def _check(raw: bytes, kind: str, impl: str) -> None:
    """A known header names the packet's data format and brackets its sample times (exactly,
    but for the vectorised peek's upper bound of a periodic packet's last time)."""
    type_name, decode = KINDS[kind]
    headers = peek_headers([raw], type_name, impl=impl)  # type: ignore[arg-type]
    if not headers.known[0]:
        return
    try:
        [block] = decode([raw], impl="reference")
    except PacketDecodeError:
        return
    assert headers.data_format(0) == block.data_format
    times = block.timestamps_ns
    if block.values.size == 0 or times.size == 0:
        return
    assert int(headers.first_ns[0]) == int(times.min())
    if impl == "numpy" and kind == "periodic":
        assert int(headers.last_ns[0]) >= int(times.max())
    else:
        assert int(headers.last_ns[0]) == int(times.max())


@pytest.mark.parametrize("impl", PEEKERS)
@pytest.mark.parametrize("kind", list(KINDS))
@SETTINGS
@given(data=st.data())
def test_peeked_headers_agree_with_the_reference_decode(kind: str, impl: str, data: Any) -> None:
    raw = data.draw(packets(kind))
    _check(raw, kind, impl)
    rng = random.Random(data.draw(st.integers(0, 2**32)))
    for _ in range(5):
        _check(mutate(rng, raw), kind, impl)


@pytest.mark.parametrize("impl", PEEKERS)
def test_a_periodic_peek_reads_format_and_times_of_many_packets(impl: str) -> None:
    values = np.arange(3 * 2 * 4, dtype=np.float64).reshape(3, 2, 4)
    contents = [
        encode_periodic(values[i], 1, start_time_ns=1_000 * i, interval_ns=10, data_format=7 + i)
        for i in range(3)
    ]
    headers = peek_headers(contents, "PeriodicData", impl=impl)  # type: ignore[arg-type]
    assert headers.known.tolist() == [True, True, True]
    assert [headers.data_format(i) for i in range(3)] == [7, 8, 9]
    assert headers.first_ns.tolist() == [0, 1_000, 2_000]
    assert np.all(headers.last_ns >= np.array([30, 1_030, 2_030]))


@pytest.mark.parametrize("impl", PEEKERS)
def test_garbage_is_not_known(impl: str) -> None:
    headers = peek_headers([b"\xff\xff\xff", b"\x0a\x05\x08"], "SynchroData", impl=impl)  # type: ignore[arg-type]
    assert headers.known.tolist() == [False, False]


@pytest.mark.parametrize("impl", PEEKERS)
def test_a_sample_of_another_wire_type_does_not_count_as_a_sample(impl: str) -> None:
    """Found by the property test: protobuf skips a list entry whose wire type is not a message
    (an unknown field), so this packet has one sample, at its start time; the peek must not
    count two (and so claim a later last time)."""
    raw = bytes.fromhex("0a021200180122110a0f0a0210011809090000000000000080")
    _check(raw, "periodic", impl)
    [block] = decode_periodic([raw], impl="reference")
    assert block.timestamps_ns.tolist() == [0]

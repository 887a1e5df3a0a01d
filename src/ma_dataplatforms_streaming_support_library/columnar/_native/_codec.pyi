"""Types of the compiled codec (see _codec.pyx)."""

import datetime
from collections.abc import Callable, Iterable
from typing import Any

import numpy as np
import numpy.typing as npt

_I64 = npt.NDArray[np.int64]
_U8 = npt.NDArray[np.uint8]
_U64 = npt.NDArray[np.uint64]

def parse_samples(
    buffer: bytes, starts: _I64, ends: _I64, kind: int
) -> tuple[
    _U8,
    tuple[_U8, _U64, dict[int, tuple[str, ...]], _U64, _I64, _I64, _I64],
    tuple[_U8, _I64],
    tuple[_U64, npt.NDArray[np.float64], npt.NDArray[np.int8]],
    dict[int, npt.NDArray[np.object_]],
]: ...
def parse_envelopes(
    buffer: bytes, starts: _I64, ends: _I64
) -> tuple[_U8, list[str], list[str], npt.NDArray[np.bool_], _U64, _I64, _I64]: ...
def packet_marks(values: Iterable[bytes]) -> bytes: ...
def envelope_facts(value: bytes) -> tuple[str, bool] | None: ...
def encode_periodic(
    vals: npt.NDArray[np.float64],
    stat: _U8,
    starts: _U64,
    intervals: _I64,
    ids: _U64 | None,
    fmt_bytes: bytes,
    head: bytes | None = None,
    packet_ids: _U64 | None = None,
) -> list[bytes]: ...
def peek_headers(
    buffer: bytes, starts: _I64, ends: _I64, kind: int
) -> tuple[npt.NDArray[np.bool_], _U8, _U64, dict[int, tuple[str, ...]], _I64, _I64]: ...
def packet_labels(values: list[bytes], head_bytes: int) -> tuple[npt.NDArray[np.int8], _U64]: ...

class PacketDelivery:
    def __init__(
        self, dto_type: type, dto_fields: tuple[str, ...], bytes_type: type, bytes_field: str
    ) -> None: ...
    def deliver(
        self,
        records: list[Any],
        marks: bytes,
        start: int,
        data_source: str,
        session_key: str,
        stream: str,
        handlers: tuple[Any, ...],
        is_stopping: Callable[[], bool],
        last_ms: int,
        submit_time: datetime.datetime,
        submit_time_of: Callable[[int], datetime.datetime],
        handler_failed: Callable[[Any, Any], None],
    ) -> tuple[int, int, datetime.datetime]: ...

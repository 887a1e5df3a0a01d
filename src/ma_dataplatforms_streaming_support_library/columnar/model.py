"""Result types of the columnar codecs: per-packet sample blocks, per-format batches, stats."""

from __future__ import annotations

import enum
from collections import Counter
from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np
import numpy.typing as npt

from ..arrays import F64Array, ObjArray
from ..errors import PacketDecodeError
from ._parsed import ParseOutcome

__all__ = [
    "ColumnKind",
    "DataFormatKey",
    "DecodeStats",
    "FormatBatch",
    "Impl",
    "PeriodicPacketArrays",
    "RowPacketArrays",
    "SynchroPacketArrays",
    "ValuesArray",
]

# A parser implementation (see columnar.parsers); None picks the active one.
Impl = Literal["native", "numpy", "reference"]

# A data format as a packet states it: a numeric data-format id, an explicit ordered parameter
# list, or None when the packet carries no data_format (or an empty one).
DataFormatKey = int | tuple[str, ...] | None

# float64 for double/int32/bool samples; object (str, or float for the non-string columns of a
# block) as soon as one column of the block is a string column.
ValuesArray = F64Array | ObjArray


class ColumnKind(enum.IntEnum):
    """Which typed sample list a column or row used on the wire (the ``SampleColumn`` oneof)."""

    NONE = 0  # no list set: the column is empty
    DOUBLE = 1
    INT32 = 2
    BOOL = 3
    STRING = 4
    MIXED = 255  # a parameter whose samples came from lists of different types


@dataclass
class DecodeStats:
    """Counters of one or more decode calls; pass the same object to accumulate.

    ``fast_packets`` were read by an accelerated parser (native or numpy) itself;
    ``fallback_packets`` were handed by it to the reference path (``fallback_reasons`` says
    why); with the reference implementation both stay 0.
    """

    packets: int = 0
    samples: int = 0
    fast_packets: int = 0
    fallback_packets: int = 0
    skipped_packets: int = 0
    fallback_reasons: Counter[str] = field(default_factory=Counter)
    errors: list[PacketDecodeError] = field(default_factory=list)

    def record(self, packets: int, outcome: ParseOutcome[Any]) -> None:
        """Count one parse of ``packets`` packets."""
        self.packets += packets
        self.fast_packets += outcome.fast_packets
        self.fallback_packets += sum(outcome.fallbacks.values())
        self.fallback_reasons.update(outcome.fallbacks)


@dataclass(frozen=True, slots=True)
class PeriodicPacketArrays:
    """One ``PeriodicDataPacket`` as a parameters x time block: ``values[i]`` is column ``i``."""

    data_format: DataFormatKey
    start_time_ns: int
    interval_ns: int
    kinds: tuple[ColumnKind, ...]
    timestamps_ns: npt.NDArray[np.int64]
    values: ValuesArray
    status: npt.NDArray[np.int8]


@dataclass(frozen=True, slots=True)
class SynchroPacketArrays:
    """One ``SynchroDataPacket`` as a parameters x time block; ``intervals_ns`` as on the wire."""

    data_format: DataFormatKey
    start_time_ns: int
    intervals_ns: npt.NDArray[np.int64]
    kinds: tuple[ColumnKind, ...]
    timestamps_ns: npt.NDArray[np.int64]
    values: ValuesArray
    status: npt.NDArray[np.int8]


@dataclass(frozen=True, slots=True)
class RowPacketArrays:
    """One ``RowDataPacket`` transposed to parameters x time: ``values[:, r]`` is row ``r``.

    ``row_kinds[r]`` is the list type of row ``r``; ``kinds[i]`` that of parameter ``i`` (MIXED
    when the rows disagree).
    """

    data_format: DataFormatKey
    row_kinds: tuple[ColumnKind, ...]
    kinds: tuple[ColumnKind, ...]
    timestamps_ns: npt.NDArray[np.int64]
    values: ValuesArray
    status: npt.NDArray[np.int8]


@dataclass(frozen=True, slots=True)
class FormatBatch:
    """The packets of a batch that share a data format and parameter count, concatenated in time.

    ``values[i]``, ``status[i]`` and ``timestamps_ns`` are one contiguous series for parameter
    ``i`` of the data format, in input order (not sorted by time). ``packet_indices`` are the
    positions of the contributing packets in the input.
    """

    data_format: DataFormatKey
    packet_indices: npt.NDArray[np.int64]
    kinds: tuple[ColumnKind, ...]
    timestamps_ns: npt.NDArray[np.int64]
    values: ValuesArray
    status: npt.NDArray[np.int8]

    @property
    def parameter_count(self) -> int:
        return int(self.values.shape[0])

    @property
    def sample_count(self) -> int:
        return int(self.values.size)

"""The result types of read_session: ParameterSeries, SessionData and the small records beside them."""

from __future__ import annotations

import json
import logging
import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np
import numpy.typing as npt

from ..contracts.session_management.session_info import SessionInfo
from .parameters import Parameter

if TYPE_CHECKING:
    import pandas

__all__ = [
    "CorruptRecord",
    "EventRecord",
    "Float64Array",
    "Int8Array",
    "Int64Array",
    "MarkerRecord",
    "Origin",
    "ParameterSeries",
    "ProgressCallback",
    "SessionData",
]

logger = logging.getLogger(__name__)

Int64Array = npt.NDArray[np.int64]
Float64Array = npt.NDArray[np.float64]
Int8Array = npt.NDArray[np.int8]

#: called as ``progress(records_scanned, records_to_scan)`` after each batch
ProgressCallback = Callable[[int, int], None]
#: (topic, partition, offset) of a packet, to name it in a CorruptRecord
Origin = tuple[str, int, int]


@dataclass(frozen=True, slots=True)
class ParameterSeries:
    """One parameter's samples: int64 ns timestamps, float64 values, int8 ``DataStatus`` codes.

    The arrays are read-only (parameters written together share one timestamps array); copy
    them to change them.
    """

    timestamps: Int64Array
    values: Float64Array
    status: Int8Array
    #: engineering units from the session's configuration ("" when it gives none)
    units: str = ""

    def __len__(self) -> int:
        return int(self.timestamps.size)


@dataclass(frozen=True, slots=True)
class MarkerRecord:
    """A ``Marker`` packet of the session."""

    timestamp_ns: int
    end_time_ns: int
    label: str
    type: str
    description: str
    source: str
    value: int
    stream: str


@dataclass(frozen=True, slots=True)
class EventRecord:
    """An ``Event`` packet; ``identifier`` is ``""`` when its data format id is unknown."""

    timestamp_ns: int
    identifier: str
    data_format_id: int
    raw_values: tuple[float, ...]
    stream: str


@dataclass(frozen=True, slots=True)
class CorruptRecord:
    """A record of the session that could not be decoded; it was skipped."""

    topic: str
    partition: int
    offset: int
    reason: str


@dataclass(slots=True)
class SessionData:
    """Everything read from one session. ``complete`` is False for a session still being written."""

    session_info: SessionInfo
    complete: bool
    location: str
    series: dict[str, ParameterSeries]
    streams_of_parameters: dict[str, list[str]]
    packet_counts: dict[str, int]
    stream_packet_counts: dict[str, int]
    markers: list[MarkerRecord] = field(default_factory=list)
    events: list[EventRecord] = field(default_factory=list)
    #: data format id → number of packets whose id no definition on the data source names
    unresolved_formats: dict[int, int] = field(default_factory=dict)
    corrupt_records: list[CorruptRecord] = field(default_factory=list)
    #: string samples: they have no numeric value, so they read as NaN (their status is kept)
    string_samples: int = 0
    #: parameter identifier → its definition (units, limits, …) from Configuration packets
    parameter_definitions: dict[str, Parameter] = field(default_factory=dict)

    @property
    def session_key(self) -> str:
        return self.session_info.session_key

    @property
    def parameters(self) -> list[str]:
        """Identifiers of every parameter with at least one sample, sorted."""
        return sorted(self.series)

    @property
    def sample_count(self) -> int:
        return sum(len(series) for series in self.series.values())

    @property
    def time_range_ns(self) -> tuple[int, int] | None:
        """(first, last) sample timestamp over every parameter; ``None`` without samples."""
        stamps = [s.timestamps for s in self.series.values() if len(s)]
        if not stamps:
            return None
        return min(int(t[0]) for t in stamps), max(int(t[-1]) for t in stamps)

    def parameter(self, identifier: str) -> ParameterSeries:
        """The samples of ``identifier`` (KeyError naming close matches if it has none)."""
        found = self.series.get(identifier)
        if found is None:
            close = [p for p in self.parameters if identifier.lower() in p.lower()][:5]
            hint = f"; did you mean {', '.join(close)}?" if close else ""
            raise KeyError(
                f"parameter {identifier!r} has no samples in session {self.session_key}{hint}"
            )
        return found

    def to_pandas(self, parameters: Sequence[str] | None = None) -> pandas.DataFrame:
        """Long form, one row per sample: ``timestamp`` (datetime64[ns, UTC]), ``parameter``
        (categorical), ``value`` (float64), ``status`` (int8), parameter by parameter in time order.

        Long form keeps every parameter's own time base (no NaN filling); pivot it for a wide view.
        """
        from .export import to_dataframe

        return to_dataframe(self.series, parameters)

    def to_parquet(
        self, path: str | os.PathLike[str], progress: ProgressCallback | None = None
    ) -> int:
        """Write the long form (as ``to_pandas``) to a Parquet file; returns the rows written."""
        from .export import write_table

        return write_table(self.series, path, "parquet", progress, self.file_metadata())

    def file_metadata(self) -> dict[str, str]:
        """What an exported file says about its session: key, identifier, data source, units."""
        info = self.session_info
        units = {name: s.units for name, s in self.series.items() if s.units}
        return {
            "ma_streaming.session_key": info.session_key,
            "ma_streaming.identifier": info.identifier,
            "ma_streaming.data_source": info.data_source,
            "ma_streaming.units": json.dumps(units, sort_keys=True),
        }

    def to_csv(self, path: str | os.PathLike[str], progress: ProgressCallback | None = None) -> int:
        """Write the long form to CSV (ISO 8601 UTC timestamps); returns the rows written."""
        from .export import write_table

        return write_table(self.series, path, "csv", progress)

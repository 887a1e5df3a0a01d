"""The result types of read_session: ParameterSeries, SessionData and the small records beside them."""

from __future__ import annotations

import datetime
import html
import json
import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np

from ..arrays import F64Array, I8Array, I64Array
from ..contracts.session_management.session_info import SessionInfo
from .parameters import Parameter

if TYPE_CHECKING:
    import pandas

__all__ = [
    "CorruptRecord",
    "EventRecord",
    "F64Array",
    "I8Array",
    "I64Array",
    "MarkerRecord",
    "Origin",
    "ParameterSeries",
    "ProgressCallback",
    "SessionData",
]


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

    timestamps: I64Array
    values: F64Array
    status: I8Array
    #: engineering units from the session's configuration ("" when it gives none)
    units: str = ""
    #: the parameter's identifier ("" for a series made by hand)
    identifier: str = ""

    def __len__(self) -> int:
        return int(self.timestamps.size)

    def _summary(self) -> list[tuple[str, str]]:
        valid = self.values[(self.status == _VALID) & np.isfinite(self.values)]
        rows = [("samples", f"{len(self):,}"), ("valid", f"{valid.size:,}")]
        if len(self):
            first, last = int(self.timestamps[0]), int(self.timestamps[-1])
            rows += [("first (UTC)", _utc(first)), ("span", f"{(last - first) / 1e9:.3f} s")]
        if valid.size:
            rows += [(name, f"{f(valid):.6g}") for name, f in _STATISTICS]
        return rows

    def __repr__(self) -> str:
        name = self.identifier or "ParameterSeries"
        units = f" [{self.units}]" if self.units else ""
        details = ", ".join(f"{k} {v}" for k, v in self._summary())
        return f"<{name}{units}: {details}>"

    def _repr_html_(self) -> str:
        title = html.escape(self.identifier or "ParameterSeries")
        units = f" [{html.escape(self.units)}]" if self.units else ""
        return _html_table(f"{title}{units}", self._summary())

    def to_series(self) -> pandas.Series:
        """A pandas Series: VALID values (others NaN) on a UTC DatetimeIndex named
        ``timestamp``, named by the identifier, with ``attrs["units"]``. Needs pandas."""
        from .export import valid_series

        return valid_series(self.identifier, self, self.units)


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


_VALID = 1
#: parameters named in a SessionData's HTML view
_HTML_PARAMETERS = 12
_STATISTICS: tuple[tuple[str, Callable[[F64Array], float]], ...] = (
    ("min", lambda v: float(v.min())),
    ("max", lambda v: float(v.max())),
    ("mean", lambda v: float(v.mean())),
)


def _utc(timestamp_ns: int) -> str:
    moment = datetime.datetime.fromtimestamp(timestamp_ns / 1e9, tz=datetime.timezone.utc)
    return moment.strftime("%Y-%m-%d %H:%M:%S.%f")[:-3]


def _html_table(title: str, rows: Sequence[tuple[str, str]]) -> str:
    cells = "".join(
        f"<tr><th style='text-align:left'>{html.escape(k)}</th><td>{html.escape(v)}</td></tr>"
        for k, v in rows
    )
    return f"<table><caption>{title}</caption>{cells}</table>"


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
        """The session's key."""
        return self.session_info.session_key

    @property
    def units(self) -> dict[str, str]:
        """Parameter identifier → units, for the parameters with samples ("" when unknown)."""
        return {name: self.series[name].units for name in self.parameters}

    def _summary(self) -> list[tuple[str, str]]:
        info = self.session_info
        span = self.time_range_ns
        rows = [
            ("key", info.session_key),
            ("identifier", info.identifier or "-"),
            ("data source", info.data_source),
            ("state", "ended" if self.complete else "live (read up to now)"),
            ("parameters", f"{len(self.series):,}"),
            ("samples", f"{self.sample_count:,}"),
            ("markers", f"{len(self.markers):,}"),
        ]
        if span is not None:
            rows += [("first (UTC)", _utc(span[0])), ("span", f"{(span[1] - span[0]) / 1e9:.3f} s")]
        return rows

    def __repr__(self) -> str:
        details = ", ".join(f"{k} {v}" for k, v in self._summary()[1:])
        return f"<SessionData {self.session_key}: {details}>"

    def _repr_html_(self) -> str:
        rows = self._summary()
        shown = self.parameters[:_HTML_PARAMETERS]
        listed = ", ".join(
            f"{p} [{self.series[p].units}]" if self.series[p].units else p for p in shown
        )
        more = (
            f", … {len(self.parameters) - len(shown)} more"
            if len(self.parameters) > len(shown)
            else ""
        )
        return _html_table("SessionData", [*rows, ("parameter list", listed + more)])

    @property
    def parameters(self) -> list[str]:
        """Identifiers of every parameter with at least one sample, sorted."""
        return sorted(self.series)

    @property
    def sample_count(self) -> int:
        """Samples over every parameter."""
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

    def to_pandas(
        self,
        parameters: Sequence[str] | None = None,
        *,
        wide: bool = False,
        hz: float | None = None,
    ) -> pandas.DataFrame:
        """The samples as a pandas DataFrame (needs pandas); ``attrs["units"]`` maps each
        parameter to its units, and ``session_time`` is the time from the session's first sample
        (a timedelta, as FastF1's ``SessionTime``).

        Long form (default), one row per sample: ``timestamp`` (datetime64[ns, UTC]),
        ``parameter`` (categorical), ``value`` (float64), ``status`` (int8), ``session_time``,
        parameter by parameter in time order; every parameter keeps its own time base.

        ``wide=True``: one column per parameter on a UTC DatetimeIndex, outer-joined on time
        (VALID values; others and absent times NaN); with ``hz``, the mean of each parameter in
        buckets of ``1/hz`` s aligned to the Unix epoch instead.
        """
        from .export import to_dataframe, to_wide_dataframe

        if wide or hz is not None:
            return to_wide_dataframe(self.series, parameters, self.units, hz)
        return to_dataframe(self.series, parameters, self.units)

    def to_parquet(
        self, path: str | os.PathLike[str], progress: ProgressCallback | None = None
    ) -> int:
        """Write the long form (``timestamp``, ``parameter``, ``value``, ``status``, ``units``) to
        a Parquet file with ``file_metadata()``; returns the rows written. The file appears only
        when complete."""
        from .export import write_table

        return write_table(self.series, path, "parquet", progress, self.file_metadata(), self.units)

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
        """Write the long form (with a ``units`` column) to CSV (ISO 8601 UTC timestamps);
        returns the rows written. The file appears only when complete."""
        from .export import write_table

        return write_table(self.series, path, "csv", progress, units=self.units)

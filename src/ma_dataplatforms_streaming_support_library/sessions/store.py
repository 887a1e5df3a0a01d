"""SessionStore and the one-call functions: sessions on a store or broker, named by its broker list.

A ``SessionStore`` keeps one connection for several operations (the CLI, the Stream API server and
notebooks use it); ``read_session``, ``list_sessions``, ``resample_session`` and ``copy_session``
open one for a single call.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from types import TracebackType
from typing import Any

import numpy.typing as npt

from ..contracts.shared.stream_api_configuration import StreamingApiConfiguration
from ..contracts.shared.stream_creation_strategy import StreamCreationStrategy
from ..core.library.context import LibraryContext
from .copy import CopyReport, copy_between
from .listing import SessionSummary, list_in
from .read import read_in
from .resample import DEFAULT_WINDOW_MS, resample_in
from .types import ProgressCallback, SessionData

__all__ = [
    "BrokerList",
    "SessionStore",
    "as_configuration",
    "copy_session",
    "list_sessions",
    "read_session",
    "resample_session",
]

BrokerList = str | StreamingApiConfiguration


def as_configuration(broker_list: BrokerList, timeout_s: float) -> StreamingApiConfiguration:
    """A broker list as a topic-based configuration; a configuration as it is."""
    if isinstance(broker_list, StreamingApiConfiguration):
        return broker_list
    return StreamingApiConfiguration(broker_list, StreamCreationStrategy.TOPIC_BASE, [], timeout_s)


class SessionStore:
    """An open store or broker: ``""`` (the embedded default store), ``embedded:PATH``,
    ``host:port[,…]`` for Kafka, or a full ``StreamingApiConfiguration`` (security properties,
    partition mappings). ``MA_STREAMING_BROKER`` overrides a broker list. ``timeout_s`` bounds
    each wait on the broker (a configuration's ``timeout_seconds`` wins).

    Use it as a context manager, or call ``close()``. Raises ``TransportError`` when the store or
    broker cannot be reached.
    """

    def __init__(self, broker_list: BrokerList = "", *, timeout_s: float = 10.0) -> None:
        self._context = LibraryContext(as_configuration(broker_list, timeout_s))

    @property
    def location(self) -> str:
        """Where the sessions are: the store file or the broker list."""
        return self._context.transport.location

    def read(
        self,
        session_key: str,
        *,
        data_source: str | None = None,
        streams: Sequence[str] | None = None,
        partition_mappings: Mapping[str, int] | None = None,
        progress: ProgressCallback | None = None,
    ) -> SessionData:
        """One session as NumPy columns; see ``read_session``."""
        return read_in(
            self._context,
            session_key,
            data_source=data_source,
            streams=streams,
            partition_mappings=partition_mappings,
            progress=progress,
        )

    def list(
        self,
        *,
        data_source: str | None = None,
        count_packets: bool = False,
        progress: ProgressCallback | None = None,
    ) -> list[SessionSummary]:
        """Every session (of ``data_source``), oldest first; see ``list_sessions``."""
        return list_in(
            self._context, data_source=data_source, count_packets=count_packets, progress=progress
        )

    def resample(
        self,
        session_key: str,
        parameters: Sequence[str],
        hz: float,
        *,
        window_ms: float = DEFAULT_WINDOW_MS,
        progress: ProgressCallback | None = None,
    ) -> tuple[dict[str, npt.NDArray[Any]], int]:
        """Per-bucket statistics of ``parameters``; see ``resample_session``."""
        return resample_in(
            self._context,
            session_key,
            list(dict.fromkeys(parameters)),
            hz,
            window_ms=window_ms,
            progress=progress,
        )

    def copy_to(
        self, target: SessionStore, session_key: str, progress: ProgressCallback | None = None
    ) -> CopyReport:
        """Copy one session into ``target``; see ``copy_session``."""
        return copy_between(self._context, target._context, session_key, progress)

    def close(self) -> None:
        self._context.close()

    def __enter__(self) -> SessionStore:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()


def read_session(
    session_key: str,
    broker_list: BrokerList = "",
    *,
    data_source: str | None = None,
    streams: Sequence[str] | None = None,
    timeout_s: float = 10.0,
    partition_mappings: Mapping[str, int] | None = None,
    progress: ProgressCallback | None = None,
) -> SessionData:
    """Read one session into NumPy columns, for analysis rather than streaming::

        data = read_session(session_key, "embedded:/tmp/s.db")
        speed = data.parameter("vCar:Chassis")  # ParameterSeries(timestamps, values, status)
        frame = data.to_pandas()  # long form: timestamp, parameter, value, status
        data.to_parquet("session.parquet")

    ``broker_list`` as ``StreamingApiConfiguration``: ``""`` (the embedded default store),
    ``embedded:PATH`` or ``host:port[,…]`` for Kafka; ``MA_STREAMING_BROKER`` overrides it; or a
    ``StreamingApiConfiguration``. ``data_source``, when given, must be the session's.
    ``streams`` limits the read to those streams (``""`` is the main stream); ``None`` reads all.
    ``partition_mappings`` names the partitions of a partition-based layout (otherwise they read
    as the main stream). ``timeout_s`` bounds each wait on the broker.
    ``progress(records_scanned, records_to_scan)`` is called after each batch.

    Reading follows the library's own rules: the session registry gives the session's start
    offsets (its NewSession record), the partitions are those the packet reader would read, only
    records keyed by the session key count, and data format ids resolve through the data format
    catalog. The read ends at each partition's end offset when it starts: an ended session is
    read whole (with any records a C# writer leaves just past its recorded end offsets), a live
    one up to that moment, and then ``SessionData.complete`` is False.

    Values are float64: int32 and bool columns are converted; string samples have no numeric
    value, so they read as NaN and are counted in ``SessionData.string_samples``. Status holds
    the Open Data ``DataStatus`` codes (1 VALID, 2 MISSING, 3 ERROR; see ``ValueStatus``). A
    parameter's samples are in time order (a stable sort: equal timestamps keep log order).
    Packets whose data format id no definition names are counted in
    ``SessionData.unresolved_formats``; undecodable records in ``SessionData.corrupt_records``
    (with topic, partition and offset); both are logged as warnings, neither stops the read.

    Raises ``SessionNotFoundError`` for an unknown key and ``TransportError`` when the store or
    broker cannot be reached or read.
    """
    with SessionStore(broker_list, timeout_s=timeout_s) as store:
        return store.read(
            session_key,
            data_source=data_source,
            streams=streams,
            partition_mappings=partition_mappings,
            progress=progress,
        )


def list_sessions(
    broker_list: BrokerList = "",
    *,
    data_source: str | None = None,
    count_packets: bool = False,
    timeout_s: float = 10.0,
    progress: ProgressCallback | None = None,
) -> list[SessionSummary]:
    """The sessions of a store, oldest first, without decoding any sample::

        for summary in list_sessions("embedded:/tmp/s.db"):
            print(summary.session_key, summary.info.identifier, summary.is_live)

    ``count_packets`` scans the sessions' partitions once to count each session's packets
    exactly (``SessionSummary.packets``); otherwise only the offset span is known.
    """
    with SessionStore(broker_list, timeout_s=timeout_s) as store:
        return store.list(data_source=data_source, count_packets=count_packets, progress=progress)


def resample_session(
    session_key: str,
    parameters: Sequence[str],
    hz: float,
    broker_list: BrokerList = "",
    *,
    window_ms: float = DEFAULT_WINDOW_MS,
    timeout_s: float = 10.0,
    progress: ProgressCallback | None = None,
) -> tuple[dict[str, npt.NDArray[Any]], int]:
    """Per-bucket statistics of ``parameters`` at ``hz`` through the buffering and interpolation
    pipeline: (columns ordered by parameter then bucket, with ``parameter`` holding indices into
    the de-duplicated ``parameters``; the number of samples that arrived too late to buffer)."""
    with SessionStore(broker_list, timeout_s=timeout_s) as store:
        return store.resample(session_key, parameters, hz, window_ms=window_ms, progress=progress)


def copy_session(
    session_key: str,
    source: BrokerList,
    target: BrokerList,
    *,
    timeout_s: float = 10.0,
    progress: ProgressCallback | None = None,
) -> CopyReport:
    """Copy one session from one store or broker to another (data packets byte for byte, record
    timestamps kept, offsets maps rewritten for the target). Raises ``SessionNotFoundError``,
    ``SessionCopyError`` (the target has it already) or ``TransportError``."""
    with (
        SessionStore(source, timeout_s=timeout_s) as origin,
        SessionStore(target, timeout_s=timeout_s) as destination,
    ):
        return origin.copy_to(destination, session_key, progress)

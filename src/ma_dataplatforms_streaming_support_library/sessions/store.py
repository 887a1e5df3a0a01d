"""SessionStore and the one-call functions: sessions on a store or broker, named by its broker list.

A ``SessionStore`` keeps one connection for several operations (the CLI, the Stream API server and
notebooks use it); ``read_session``, ``list_sessions``, ``resample_session`` and ``copy_session``
open one for a single call.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from types import TracebackType
from typing import Any

import numpy.typing as npt

from ..contracts.session_management.session_info import SessionInfo
from ..contracts.shared.stream_api_configuration import StreamingApiConfiguration
from ..contracts.shared.stream_creation_strategy import StreamCreationStrategy
from ..core.library.context import LibraryContext
from ..core.remote import is_remote
from ..errors import ConfigurationError, StoreNotFoundError
from ..transport import default_store_path, effective_broker_list, parse_broker_list
from .arguments import check_progress, check_read_arguments, check_session_key
from .copy import CopyReport, copy_between
from .ending import end_in
from .files import staged_output
from .listing import SessionSummary, list_in
from .lookup import resolve_session_key
from .read import read_in
from .resample import DEFAULT_WINDOW_MS, resample_in
from .selection import TimeBound, selection_of
from .types import ProgressCallback, SessionData

__all__ = [
    "BrokerList",
    "Properties",
    "SessionStore",
    "as_configuration",
    "copy_session",
    "list_sessions",
    "missing_store",
    "new_store",
    "read_session",
    "resample_session",
]

BrokerList = str | StreamingApiConfiguration
#: librdkafka properties: a dict, ``(key, value)`` pairs or ``"key=value"`` strings
Properties = Mapping[str, str] | Sequence[tuple[str, str]] | Sequence[str]


def as_configuration(
    broker_list: BrokerList, timeout_s: float, additional_properties: Properties | None = None
) -> StreamingApiConfiguration:
    """A broker list as a topic-based configuration; a configuration as it is.

    ``additional_properties`` (librdkafka properties) go into the new configuration; with a
    ``StreamingApiConfiguration`` they are an error (put them in the configuration instead).
    """
    if isinstance(broker_list, StreamingApiConfiguration):
        if additional_properties:
            raise ConfigurationError(
                "additional_properties: pass them in the StreamingApiConfiguration given as "
                "broker_list, not beside it"
            )
        return broker_list
    return StreamingApiConfiguration(
        broker_list, StreamCreationStrategy.TOPIC_BASE, additional_properties or [], timeout_s
    )


def server_address(configuration: StreamingApiConfiguration) -> str | None:
    """The Stream API server's address when the configuration names one (``grpc://``)."""
    broker_list = effective_broker_list(configuration.broker_list or "")
    return broker_list if is_remote(broker_list) else None


def missing_store(broker_list: BrokerList) -> Path | None:
    """The embedded store file ``broker_list`` names when that file does not exist, else None.

    Which broker lists are embedded is ``parse_broker_list``'s rule (transport/registry.py).
    """
    text = (
        broker_list.broker_list
        if isinstance(broker_list, StreamingApiConfiguration)
        else broker_list
    )
    address = parse_broker_list(text)
    if address.scheme != "embedded":
        return None
    path = Path(address.location or default_store_path()).expanduser()
    return None if path.exists() else path


def _drop_store_files(path: Path) -> None:
    for name in (path.name, f"{path.name}-wal", f"{path.name}-shm", f"{path.name}-journal"):
        path.with_name(name).unlink(missing_ok=True)


@contextlib.contextmanager
def new_store(
    target: BrokerList, *, timeout_s: float = 10.0, additional_properties: Properties | None = None
) -> Iterator[SessionStore]:
    """``target`` opened for writing. A new embedded store is built under a temporary name in its
    folder and renamed into place only when the block completes; an error or Ctrl-C in the
    block leaves no file behind."""
    path = None if isinstance(target, StreamingApiConfiguration) else missing_store(target)
    if path is None:
        with SessionStore(
            target, timeout_s=timeout_s, additional_properties=additional_properties, create=True
        ) as store:
            yield store
        return
    with (
        staged_output(path, _drop_store_files) as partial,
        SessionStore(f"embedded:{partial}", timeout_s=timeout_s, create=True) as store,
    ):
        yield store


class SessionStore:
    """An open store or broker: ``""`` (the embedded default store), ``embedded:PATH``,
    ``host:port[,…]`` for Kafka, or a full ``StreamingApiConfiguration`` (security properties,
    partition mappings). ``MA_STREAMING_BROKER`` overrides a broker list. ``timeout_s`` bounds
    each wait on the broker (a configuration's ``timeout_seconds`` wins);
    ``additional_properties`` are librdkafka properties (SASL, TLS) for a broker list.

    Opening a store to read never creates it: a missing embedded store raises
    ``StoreNotFoundError`` unless ``create`` is true (a copy's target).

    Use it as a context manager, or call ``close()``. Raises ``TransportError`` when the store or
    broker cannot be reached.
    """

    def __init__(
        self,
        broker_list: BrokerList = "",
        *,
        timeout_s: float = 10.0,
        additional_properties: Properties | None = None,
        create: bool = False,
    ) -> None:
        configuration = as_configuration(broker_list, timeout_s, additional_properties)
        server = server_address(configuration)
        if server is not None:
            raise ConfigurationError(
                f"broker_list {server!r} is a Stream API server: read_session reads sessions "
                "from it, but listing, resampling, exporting, copying and ending sessions scan "
                "the log by offset, which the Stream API does not expose; name the store or the "
                "Kafka cluster behind the server (embedded:PATH or host:port) for those"
            )
        missing = None if create else missing_store(configuration)
        if missing is not None:
            raise StoreNotFoundError(str(missing))
        self._context = LibraryContext(configuration)

    @property
    def location(self) -> str:
        """Where the sessions are: the store file or the broker list."""
        return self._context.transport.location

    def resolve(self, text: str, *, data_source: str | None = None) -> str:
        """The full session key ``text`` names: a key, a unique key prefix, a session identifier,
        or ``latest`` (the session started last). Raises ``SessionNotFoundError`` when none or
        several sessions match (the message lists the candidates)."""
        check_session_key(text)
        return resolve_session_key(self._context, text, data_source)

    def read(
        self,
        session_key: str,
        *,
        data_source: str | None = None,
        streams: Sequence[str] | None = None,
        partition_mappings: Mapping[str, int] | None = None,
        progress: ProgressCallback | None = None,
        parameters: Sequence[str] | None = None,
        start: TimeBound | None = None,
        end: TimeBound | None = None,
    ) -> SessionData:
        """One session (or the parameters and window asked for) as NumPy columns; see
        ``read_session``."""
        return read_in(
            self._context,
            session_key,
            data_source=data_source,
            streams=streams,
            partition_mappings=partition_mappings,
            progress=progress,
            parameters=parameters,
            start=start,
            end=end,
        )

    def list(
        self,
        *,
        data_source: str | None = None,
        count_packets: bool = False,
        progress: ProgressCallback | None = None,
    ) -> list[SessionSummary]:
        """Every session (of ``data_source``), oldest first; see ``list_sessions``."""
        check_progress(progress)
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
        check_progress(progress)
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
        check_progress(progress)
        return copy_between(self._context, target._context, session_key, progress)

    def end(self, session_key: str) -> SessionInfo:
        """Write the EndOfSession of a live session whose writer is gone; its info, now ended.

        Raises ``SessionNotFoundError`` for an unknown key and ``ValueError`` when the session
        has already ended."""
        return end_in(self._context, session_key)

    def close(self) -> None:
        """Close the connection to the store or broker."""
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
    additional_properties: Properties | None = None,
    partition_mappings: Mapping[str, int] | None = None,
    progress: ProgressCallback | None = None,
    parameters: Sequence[str] | None = None,
    start: TimeBound | None = None,
    end: TimeBound | None = None,
) -> SessionData:
    """Read one session into NumPy columns, for analysis rather than streaming::

        data = read_session(session_key, "embedded:/tmp/s.db")
        speed = data.parameter("vCar:Chassis")  # ParameterSeries(timestamps, values, status)
        frame = data.to_pandas()  # long form: timestamp, parameter, value, status
        data.to_parquet("session.parquet")
        lap = read_session(session_key, "embedded:/tmp/s.db", parameters=["vCar:Chassis"],
                           start=lap_start, end=lap_end)

    ``broker_list`` as ``StreamingApiConfiguration``: ``""`` (the embedded default store),
    ``embedded:PATH`` or ``host:port[,…]`` for Kafka; ``MA_STREAMING_BROKER`` overrides it; or a
    ``StreamingApiConfiguration``. ``data_source``, when given, must be the session's.
    ``streams`` limits the read to those streams (``""`` is the main stream); ``None`` reads all.
    ``partition_mappings`` names the partitions of a partition-based layout (otherwise they read
    as the main stream). ``timeout_s`` bounds each wait on the broker. ``additional_properties``
    are librdkafka properties for a secured cluster (a dict, ``(key, value)`` pairs or
    ``"key=value"`` strings), e.g. ``{"security.protocol": "SASL_SSL", "sasl.username": …}``.
    ``progress(records_scanned, records_to_scan)`` is called after each batch.

    ``parameters`` reads only those parameters; ``start`` and ``end`` only the samples with
    ``start <= timestamp < end`` (int ns since the Unix epoch, a ``datetime`` — naive ones are
    UTC — or a numpy ``datetime64``; either may be left open), and the markers and events of that
    window. The records are still scanned, but the header of each sample packet (its data format
    and time range) is read first and only the packets holding a requested parameter within the
    window are decoded, so a narrow read costs little more than the scan. Undecoded packets are
    not checked: ``corrupt_records`` then lists only the corrupt packets that were needed.
    A requested parameter that no data format of the session names raises ``KeyError`` (with
    close matches); one that merely has no samples in the window is absent from ``series``.
    ``ConfigurationError`` for an empty ``parameters`` or ``end <= start``.

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

    Raises ``SessionNotFoundError`` for an unknown key, ``StoreNotFoundError`` when the embedded
    store does not exist (reading never creates one) and ``TransportError`` when the store or
    broker cannot be reached or read.

    ``grpc://host:port`` (or ``grpcs://``) reads from a Stream API server — ours or Motion
    Applied's — through its ReadPackets and data format RPCs: the same ``SessionData``, with each
    corrupt record's origin given as (stream, -1, position in the read). An ended session is read
    to its EndOfSession packets, a live one until it has written nothing for ``timeout_s``.
    ``partition_mappings`` is the server's own configuration there, not an argument.
    """
    configuration = as_configuration(broker_list, timeout_s, additional_properties)
    server = server_address(configuration)
    if server is not None:
        return _read_from_server(
            configuration,
            server,
            session_key,
            data_source=data_source,
            streams=streams,
            partition_mappings=partition_mappings,
            progress=progress,
            parameters=parameters,
            start=start,
            end=end,
        )
    with SessionStore(
        broker_list, timeout_s=timeout_s, additional_properties=additional_properties
    ) as store:
        return store.read(
            session_key,
            data_source=data_source,
            streams=streams,
            partition_mappings=partition_mappings,
            progress=progress,
            parameters=parameters,
            start=start,
            end=end,
        )


def _read_from_server(
    configuration: StreamingApiConfiguration,
    server: str,
    session_key: str,
    *,
    data_source: str | None,
    streams: Sequence[str] | None,
    partition_mappings: Mapping[str, int] | None,
    progress: ProgressCallback | None,
    parameters: Sequence[str] | None,
    start: TimeBound | None,
    end: TimeBound | None,
) -> SessionData:
    check_read_arguments(session_key, data_source, streams, partition_mappings, progress)
    if partition_mappings:
        raise ConfigurationError(
            f"partition_mappings: {server} reads with the partition mappings of its own "
            "configuration; leave the argument out"
        )
    from .remote import read_remote  # imports grpc, an optional dependency

    return read_remote(
        configuration,
        server,
        session_key,
        data_source=data_source,
        streams=streams,
        progress=progress,
        selection=selection_of(parameters, start, end),
    )


def list_sessions(
    broker_list: BrokerList = "",
    *,
    data_source: str | None = None,
    count_packets: bool = False,
    timeout_s: float = 10.0,
    additional_properties: Properties | None = None,
    progress: ProgressCallback | None = None,
) -> list[SessionSummary]:
    """The sessions of a store, oldest first, without decoding any sample::

        for summary in list_sessions("embedded:/tmp/s.db"):
            print(summary.session_key, summary.info.identifier, summary.is_live)

    ``count_packets`` scans the sessions' partitions once to count each session's packets
    exactly (``SessionSummary.packets``); otherwise only the offset span is known.
    """
    with SessionStore(
        broker_list, timeout_s=timeout_s, additional_properties=additional_properties
    ) as store:
        return store.list(data_source=data_source, count_packets=count_packets, progress=progress)


def resample_session(
    session_key: str,
    parameters: Sequence[str],
    hz: float,
    broker_list: BrokerList = "",
    *,
    window_ms: float = DEFAULT_WINDOW_MS,
    timeout_s: float = 10.0,
    additional_properties: Properties | None = None,
    progress: ProgressCallback | None = None,
) -> tuple[dict[str, npt.NDArray[Any]], int]:
    """Per-bucket statistics of ``parameters`` at ``hz`` through the buffering and interpolation
    pipeline: (columns ordered by parameter then bucket, with ``parameter`` holding indices into
    the de-duplicated ``parameters``; the number of samples that arrived too late to buffer)."""
    with SessionStore(
        broker_list, timeout_s=timeout_s, additional_properties=additional_properties
    ) as store:
        return store.resample(session_key, parameters, hz, window_ms=window_ms, progress=progress)


def copy_session(
    session_key: str,
    source: BrokerList,
    target: BrokerList,
    *,
    timeout_s: float = 10.0,
    additional_properties: Properties | None = None,
    progress: ProgressCallback | None = None,
) -> CopyReport:
    """Copy one session from one store or broker to another (data packets byte for byte, record
    timestamps kept, offsets maps rewritten for the target). A new embedded target store appears
    only once the copy is complete. Raises ``SessionNotFoundError``, ``StoreNotFoundError`` (no
    source store), ``SessionCopyError`` (the target has it already) or ``TransportError``."""
    with SessionStore(
        source, timeout_s=timeout_s, additional_properties=additional_properties
    ) as origin:
        key = origin.resolve(session_key)  # before the target exists: a failed copy creates nothing
        with new_store(
            target, timeout_s=timeout_s, additional_properties=additional_properties
        ) as destination:
            return origin.copy_to(destination, key, progress)

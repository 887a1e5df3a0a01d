"""read_session: one session as NumPy columns per parameter, with markers, events and exports."""

from __future__ import annotations

import logging
import time
from collections.abc import Mapping, Sequence

from ..contracts.shared.stream_api_configuration import StreamingApiConfiguration
from ..contracts.shared.stream_creation_strategy import StreamCreationStrategy
from ..core.base.logger import StdlibLogger
from ..core.library.context import LibraryContext
from ..errors import SessionNotFoundError
from .collect import SessionCollector
from .scan import plan_scan, scan_records
from .types import (
    CorruptRecord,
    EventRecord,
    MarkerRecord,
    ParameterSeries,
    ProgressCallback,
    SessionData,
)

__all__ = [
    "CorruptRecord",
    "EventRecord",
    "MarkerRecord",
    "ParameterSeries",
    "ProgressCallback",
    "SessionData",
    "read_session",
    "read_session_in",
]

logger = logging.getLogger(__name__)


def read_session(
    session_key: str,
    broker_list: str = "",
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
    ``embedded:PATH`` or ``host:port[,…]`` for Kafka; ``MA_STREAMING_BROKER`` overrides it.
    ``data_source``, when given, must be the session's. ``streams`` limits the read to those
    streams (``""`` is the main stream); ``None`` reads all. ``partition_mappings`` names the
    partitions of a partition-based layout (otherwise they read as the main stream).
    ``timeout_s`` bounds each wait on the broker. ``progress(records_scanned, records_to_scan)``
    is called after each batch.

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
    configuration = StreamingApiConfiguration(
        broker_list, StreamCreationStrategy.TOPIC_BASE, [], timeout_s
    )
    context = LibraryContext(configuration, StdlibLogger(logger))
    try:
        return read_session_in(
            context,
            session_key,
            data_source=data_source,
            streams=streams,
            partition_mappings=partition_mappings,
            progress=progress,
        )
    finally:
        context.close()


def read_session_in(
    context: LibraryContext,
    session_key: str,
    *,
    data_source: str | None = None,
    streams: Sequence[str] | None = None,
    partition_mappings: Mapping[str, int] | None = None,
    progress: ProgressCallback | None = None,
) -> SessionData:
    """``read_session`` on an open library context (shares its transport and registries)."""
    transport = context.transport
    context.sessions.catch_up()
    record = context.sessions.get(session_key)
    if record is None or (data_source is not None and record.info.data_source != data_source):
        where = "" if data_source is None else f" of data source {data_source!r}"
        raise SessionNotFoundError(
            f"session {session_key} not found{where} in {transport.location}"
        )
    info = record.info
    scan = plan_scan(transport, record, streams, partition_mappings or {})
    context.data_formats.catch_up(info.data_source)
    collector = SessionCollector(info.data_source, context.data_formats, scan.total_records)
    total = scan.total_records
    done = 0
    started = time.perf_counter()
    for chunk in scan_records(transport, scan, context.timeout_s):
        collector.add_packets(chunk.streams, chunk.packets, chunk.origins)
        done += chunk.scanned
        if progress is not None:
            progress(done, total)
    result = collector.finish(info, complete=info.historical, location=transport.location)
    logger.info(
        "read session %s: %d packets, %d parameters, %d samples in %.2f s",
        session_key,
        sum(result.packet_counts.values()),
        len(result.series),
        result.sample_count,
        time.perf_counter() - started,
    )
    return result

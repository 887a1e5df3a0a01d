"""Reading one whole session into NumPy columns per parameter, on an open library context."""

from __future__ import annotations

import logging
import time
from collections.abc import Iterator, Mapping, Sequence

from ..core.library.context import LibraryContext
from ..core.session_management.registry import SessionRecord
from ..transport.base import KeyedReader
from .arguments import check_read_arguments
from .collect import SessionCollector
from .scan import SessionChunk, SessionScan, find_session, plan_scan, scan_records
from .selection import Selection, TimeBound, check_parameters_known, selection_of
from .skim import (
    label_plan,
    labelled_records,
    skim_records,
    whole_records,
    worth_skimming,
)
from .types import ProgressCallback, SessionData

__all__ = ["collect_in", "read_in"]

logger = logging.getLogger(__name__)


def read_in(
    context: LibraryContext,
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
    """``read_session`` on an open library context (shares its transport and registries).

    Raises ``ConfigurationError`` naming a bad argument before anything is read."""
    mappings = check_read_arguments(session_key, data_source, streams, partition_mappings, progress)
    selection = selection_of(parameters, start, end)
    record = find_session(context, session_key, data_source)
    result, seen = collect_in(context, record, selection, streams, mappings, progress)
    check_parameters_known(selection, seen, result.parameter_definitions, session_key)
    return result


def collect_in(
    context: LibraryContext,
    record: SessionRecord,
    selection: Selection | None,
    streams: Sequence[str] | None = None,
    partition_mappings: Mapping[str, int] | None = None,
    progress: ProgressCallback | None = None,
) -> tuple[SessionData, set[str]]:
    """The session of ``record`` (what ``selection`` asks of it), and the identifiers of every
    data format its packets use."""
    transport = context.transport
    info = record.info
    scan = plan_scan(transport, record, streams, partition_mappings or {})
    context.data_formats.catch_up(info.data_source)
    collector = SessionCollector(
        info.data_source, context.data_formats, scan.total_records, selection=selection
    )
    total = scan.total_records
    done = 0
    started = time.perf_counter()
    selective = selection is not None and selection.parameters is not None
    for chunk in session_chunks(context, scan, collector if selective else None):
        if len(chunk.packets):
            collector.add_packets(chunk.streams, chunk.packets, chunk.origins)
        done += chunk.scanned
        if progress is not None:
            progress(done, total)
    result = collector.finish(info, complete=info.historical, location=transport.location)
    logger.info(
        "read session %s: %d packets, %d parameters, %d samples in %.2f s",
        info.session_key,
        sum(result.packet_counts.values()),
        len(result.series),
        result.sample_count,
        time.perf_counter() - started,
    )
    return result, collector.seen_parameters


def session_chunks(
    context: LibraryContext, scan: SessionScan, collector: SessionCollector | None = None
) -> Iterator[SessionChunk]:
    """The scan's records in chunks, through the transport's keyed reader where it has one.
    With the ``collector`` of a selection, where few records hold the selected parameters, only
    the records the collector needs are read whole: found by the store's packet labels, or else
    by reading the heads of all first."""
    transport = context.transport
    reader = transport.keyed_reader()
    if reader is None:
        yield from scan_records(transport, scan, context.timeout_s)
        return
    with reader:
        chosen = None if collector is None else _chosen_records(reader, scan, collector)
        if chosen is None:
            chosen = (
                "all",
                scan_records(
                    transport, scan, context.timeout_s, source=lambda: whole_records(reader, scan)
                ),
            )
        way, chunks = chosen
        yield from chunks
        logger.debug(
            "%s: %d records (%d bytes) of %d read whole (%s)",
            transport.location,
            reader.whole_records,
            reader.whole_bytes,
            scan.total_records,
            way,
        )


def _chosen_records(
    reader: KeyedReader, scan: SessionScan, collector: SessionCollector
) -> tuple[str, Iterator[SessionChunk]] | None:
    """How, and which, records the collector's selection needs, where some can be left unread:
    by the store's packet labels, or where it has none for the session's sample packets, by
    reading the heads of all first; None: all are needed."""
    plan = label_plan(reader, scan, collector.needed_by_heads)
    if plan is not None:
        if plan.reads_all:
            return None
        return "by packet labels", labelled_records(
            reader, scan, plan, collector.needed_records, collector.skipped_records
        )
    if worth_skimming(reader, scan, collector.needed_records):
        return "by record heads", skim_records(
            reader, scan, collector.needed_records, collector.skipped_records
        )
    return None

"""What a read asks for: some parameters and a time window, and which packets that needs."""

from __future__ import annotations

import datetime as dt
import difflib
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from ..arrays import BoolArray, I64Array
from ..columnar import ContentBatch, PacketHeaders, peek_headers
from ..columnar._parsed import FORMAT_ID, FORMAT_NONE
from ..columnar.heads import DATA_TYPES, Heads
from ..errors import ConfigurationError
from .types import EventRecord, MarkerRecord

__all__ = [
    "Chooser",
    "Selection",
    "TimeBound",
    "as_ns",
    "check_parameters_known",
    "selection_of",
    "unknown_parameters_error",
]

#: the rows of a data format's selected parameters, and their identifiers
Rows = tuple[tuple[int, ...], tuple[str, ...]]
_NONE: Rows = ((), ())

# Header peeks of a parameter selection: after this many batches in a row with nothing to skip,
# only one batch in _REPEEK_EVERY is peeked at.
_QUIET_PEEKS = 4
_REPEEK_EVERY = 16

#: a time bound: int ns since the Unix epoch, a datetime (naive means UTC) or a numpy datetime64
TimeBound = int | dt.datetime | np.datetime64


_EPOCH = dt.datetime(1970, 1, 1, tzinfo=dt.timezone.utc)
_MICROSECOND = dt.timedelta(microseconds=1)


def as_ns(value: TimeBound, name: str) -> int:
    """``value`` as int64 ns since the Unix epoch; ConfigurationError naming ``name`` otherwise."""
    if isinstance(value, bool):
        raise ConfigurationError(f"{name} must be int ns or a datetime, not a bool")
    if isinstance(value, int | np.integer):
        ns = int(value)
    elif isinstance(value, dt.datetime):
        aware = value if value.tzinfo is not None else value.replace(tzinfo=dt.timezone.utc)
        # pandas Timestamps carry nanoseconds below the microseconds of a datetime.
        ns = (aware - _EPOCH) // _MICROSECOND * 1_000 + int(getattr(value, "nanosecond", 0))
    elif isinstance(value, np.datetime64):
        if np.isnat(value):
            raise ConfigurationError(f"{name} must be a time, not NaT")
        ns = int(value.astype("datetime64[ns]").astype(np.int64))
    else:
        raise ConfigurationError(
            f"{name} must be int ns since the epoch, a datetime or a numpy datetime64, "
            f"not {type(value).__name__}"
        )
    if not -(2**63) <= ns < 2**63:
        raise ConfigurationError(f"{name} is outside the int64 ns range: {value!r}")
    return ns


@dataclass(frozen=True, slots=True)
class Selection:
    """The parameters asked for (None: all) and the window ``[start_ns, end_ns)`` (None: open)."""

    parameters: frozenset[str] | None = None
    start_ns: int | None = None
    end_ns: int | None = None

    @property
    def has_window(self) -> bool:
        return self.start_ns is not None or self.end_ns is not None

    def overlapping(self, first_ns: I64Array, last_ns: I64Array) -> npt.NDArray[np.bool_]:
        """Which ``[first, last]`` time ranges share an instant with the window."""
        keep = np.ones(first_ns.size, np.bool_)
        if self.start_ns is not None:
            keep &= last_ns >= self.start_ns
        if self.end_ns is not None:
            keep &= first_ns < self.end_ns
        return keep

    def in_window(self, timestamps: I64Array) -> npt.NDArray[np.bool_] | None:
        """Which timestamps are in the window; None when all are (nothing to trim)."""
        if not self.has_window or timestamps.size == 0:
            return None
        if (self.start_ns is None or timestamps.min() >= self.start_ns) and (
            self.end_ns is None or timestamps.max() < self.end_ns
        ):
            return None
        return self.overlapping(timestamps, timestamps)

    def markers(self, markers: Iterable[MarkerRecord]) -> list[MarkerRecord]:
        """Markers whose span (``timestamp_ns`` to ``end_time_ns``) meets the window."""
        return [
            m
            for m in markers
            if (self.start_ns is None or max(m.timestamp_ns, m.end_time_ns) >= self.start_ns)
            and (self.end_ns is None or m.timestamp_ns < self.end_ns)
        ]

    def events(self, events: Iterable[EventRecord]) -> list[EventRecord]:
        return [
            e
            for e in events
            if (self.start_ns is None or e.timestamp_ns >= self.start_ns)
            and (self.end_ns is None or e.timestamp_ns < self.end_ns)
        ]


class Chooser:
    """Which packets and rows a selection needs, from packet headers and data formats.

    ``resolve`` gives the parameters of a data format id (None for an unknown id).
    """

    def __init__(
        self, selection: Selection | None, resolve: Callable[[int], tuple[str, ...] | None]
    ) -> None:
        self._selection = selection
        self._resolve = resolve
        self._rows: dict[tuple[str, ...], Rows | None] = {}
        #: identifiers of every data format met (a selection's unknown parameters are the others)
        self.seen: set[str] = set()
        #: batches in a row, per packet type, of which every packet was needed
        self._unskipped: Counter[str] = Counter()

    def identifiers(self, fmt: int | tuple[str, ...]) -> tuple[str, ...] | None:
        """A data format's parameters (None for an unknown id), noted as seen."""
        found = self._resolve(fmt) if isinstance(fmt, int) else fmt
        if found is not None and found not in self._rows:
            self.seen.update(found)
        return found

    def rows(self, identifiers: tuple[str, ...]) -> Rows | None:
        """The rows and identifiers of the selected parameters of a data format (None: all)."""
        if identifiers not in self._rows:
            self.seen.update(identifiers)
            wanted = self._selection.parameters if self._selection is not None else None
            rows = None
            if wanted is not None and not wanted.issuperset(identifiers):
                picked = [(i, p) for i, p in enumerate(identifiers) if p in wanted]
                rows = (tuple(i for i, _ in picked), tuple(p for _, p in picked))
            self._rows[identifiers] = rows
        return self._rows[identifiers]

    def holds_selected(self, data_format_id: int) -> bool:
        """Whether packets of a data format id are needed: it holds a selected parameter, or it
        is unknown (its packets are then decoded, to be counted as unresolved)."""
        identifiers = self.identifiers(data_format_id)
        return identifiers is None or self.rows(identifiers) != _NONE

    def needed_records(self, heads: Heads) -> tuple[BoolArray, Counter[str]]:
        """Which records (by their heads) must be fetched whole, and how many packets of each
        sample type the others are. A record whose head is not read plainly is fetched."""
        needed = heads.kinds < 0
        sample = np.flatnonzero(~needed)
        ids = heads.format_ids[sample]
        for data_format_id in np.unique(ids).tolist():
            if self.holds_selected(int(data_format_id)):
                needed[sample[ids == data_format_id]] = True
        skipped_kinds = np.bincount(heads.kinds[~needed], minlength=len(DATA_TYPES))
        skipped = Counter(
            {DATA_TYPES[kind]: count for kind, count in enumerate(skipped_kinds.tolist()) if count}
        )
        return needed, skipped

    def pick(
        self, packet_type: str, contents: ContentBatch, unresolved: Counter[int]
    ) -> I64Array | None:
        """The sample packets the selection needs, by their headers (None: all). A packet whose
        header cannot be read plainly is decoded to tell; those of an unknown data format id
        are counted in ``unresolved`` instead."""
        selection = self._selection
        if not self._worth_peeking(packet_type):
            return None
        headers = peek_headers(contents, packet_type)
        keep = headers.known.copy()
        if selection is not None and selection.has_window:
            keep &= selection.overlapping(headers.first_ns, headers.last_ns)
        if selection is not None and selection.parameters is not None:
            keep &= self._holding(headers, keep, unresolved)
        keep |= ~headers.known
        everything = bool(keep.all())
        self._unskipped[packet_type] = self._unskipped[packet_type] + 1 if everything else 0
        return None if everything else np.flatnonzero(keep)

    def _worth_peeking(self, packet_type: str) -> bool:
        """Whether to peek at a batch's headers: always for a time window (the packets past it
        are left out); for parameters alone, after ``_QUIET_PEEKS`` batches in a row of which
        every packet was needed, only every ``_REPEEK_EVERY`` batch (decoding a packet the
        parameters do not need gives the same result, only slower, and the peek costs a
        tenth of a decode)."""
        if self._selection is not None and self._selection.has_window:
            return True
        quiet = self._unskipped[packet_type]
        if quiet < _QUIET_PEEKS or (quiet - _QUIET_PEEKS) % _REPEEK_EVERY == _REPEEK_EVERY - 1:
            return True
        self._unskipped[packet_type] += 1
        return False

    def _holding(
        self, headers: PacketHeaders, candidates: BoolArray, unresolved: Counter[int]
    ) -> BoolArray:
        holds: BoolArray = headers.format_kinds == FORMAT_NONE  # decoded, to be reported as corrupt
        by_id = np.flatnonzero(headers.known & (headers.format_kinds == FORMAT_ID))
        ids = headers.format_ids[by_id]
        for data_format_id in np.unique(ids).tolist():
            members = by_id[ids == data_format_id]
            identifiers = self.identifiers(data_format_id)
            if identifiers is None:
                unresolved[data_format_id] += int(candidates[members].sum())
            elif self.rows(identifiers) != _NONE:
                holds[members] = True
        for packet, identifiers in headers.format_lists.items():
            holds[packet] = self.rows(identifiers) != _NONE
        return holds


def selection_of(
    parameters: Sequence[str] | None, start: TimeBound | None, end: TimeBound | None
) -> Selection | None:
    """The selection the arguments of a read ask for; None for a whole session."""
    if isinstance(parameters, str):
        raise ConfigurationError("parameters must be a list of identifiers, not one string")
    if parameters is not None and not parameters:
        raise ConfigurationError("parameters must name at least one parameter (None reads all)")
    start_ns = None if start is None else as_ns(start, "start")
    end_ns = None if end is None else as_ns(end, "end")
    if start_ns is not None and end_ns is not None and end_ns <= start_ns:
        raise ConfigurationError(f"end ({end!r}) must be after start ({start!r})")
    if parameters is None and start_ns is None and end_ns is None:
        return None
    wanted = None if parameters is None else frozenset(parameters)
    return Selection(wanted, start_ns, end_ns)


def check_parameters_known(
    selection: Selection | None, seen: Iterable[str], defined: Iterable[str], session: str
) -> None:
    """Raise the ``unknown_parameters_error`` for requested parameters that neither a data
    format the session's packets use (``seen``) nor its configuration (``defined``) names."""
    if selection is None or selection.parameters is None:
        return
    known = set(seen) | set(defined)
    unknown = selection.parameters - known
    if unknown:
        raise unknown_parameters_error(unknown, known, session)


def unknown_parameters_error(
    unknown: Iterable[str], known: Iterable[str], session: str
) -> KeyError:
    """The KeyError for requested parameters no data format of the session names."""
    names = sorted(unknown)
    pool = sorted(set(known))
    hints = []
    for name in names:
        close = [p for p in pool if name.lower() in p.lower()]
        close += difflib.get_close_matches(name, pool, n=5)
        hints += [p for p in dict.fromkeys(close) if p not in hints][:5]
    hint = f"; did you mean {', '.join(hints[:5])}?" if hints else ""
    listed = ", ".join(repr(n) for n in names)
    return KeyError(f"parameter(s) {listed} are in no data format of session {session}{hint}")

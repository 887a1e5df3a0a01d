"""Vectorised decoding of ``DoubleSampleList``/``Int32SampleList``/``BoolSampleList`` payloads.

A sample list is a run of records ``0A <len> <sample>``. proto3 omits a 0.0 value and an
UNSPECIFIED status, so records are not fixed width: a ``DoubleSample`` payload is 0, 2 (status),
9 (value) or 11 (both) bytes. Record starts form a chain ``next = start + 2 + len`` that cannot be
followed without a sequential loop, so instead:

1. every ``0A`` byte whose next byte is a plausible length is a candidate record start (one
   ``flatnonzero`` over the bytes);
2. where each candidate's successor ``start + 2 + len`` is the next candidate, the chain is proven
   for that stretch; a "break" is where it is not (a ``0A`` byte inside a double, or the list end);
3. each list is walked from break to break, all lists in lock-step, so the number of numpy steps
   is the number of false candidates on the longest list plus one, independent of its length;
4. the payload of each proven record is checked byte-wise against the canonical layouts and its
   value and status gathered by length class.

Lists with any other layout (multi-byte lengths or statuses, reordered or unknown fields, wrong
wire types) are reported as bad, for the caller to decode by the reference path.
"""

from __future__ import annotations

import bisect
import logging
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from ._wire import I64Array, U8Array, concat_ranges, read_varints, unaligned_view
from .model import ColumnKind

__all__ = ["ListSamples", "decode_sample_lists"]

logger = logging.getLogger(__name__)

F64Array = npt.NDArray[np.float64]
I8Array = npt.NDArray[np.int8]
BoolArray = npt.NDArray[np.bool_]

_LIST_ITEM_TAG = 0x0A  # field 1 (samples), wire type LEN
_VALUE_DOUBLE_TAG = 0x09  # field 1, I64
_VALUE_VARINT_TAG = 0x08  # field 1, VARINT
_STATUS_TAG = 0x10  # field 2, VARINT
# Lists are decoded in chunks of about this many bytes so the temporaries stay in cache (the
# last-level one: smaller chunks fit L2 but pay more per-chunk Python overhead).
_CHUNK_BYTES = 2 << 20
# Lists still walking after the vectorised steps are finished in Python below this count.
_PYTHON_WALK = 8


@dataclass(frozen=True, eq=False)
class ListSamples:
    """Samples of many lists: ``counts[j]`` samples of list ``j``, lists back to back.

    Bad lists (not decodable here) have count 0 and contribute no samples.
    """

    counts: I64Array
    values: F64Array
    status: I8Array
    bad: BoolArray


def decode_sample_lists(
    data: bytes, starts: I64Array, ends: I64Array, kind: ColumnKind
) -> ListSamples:
    """Decode the sample-list payloads ``data[starts[j]:ends[j]]``, all of one numeric kind."""
    if kind not in (ColumnKind.DOUBLE, ColumnKind.INT32, ColumnKind.BOOL):
        raise ValueError(f"no vectorised decoder for {kind!r} lists")
    n = starts.size
    if n == 0:
        return _empty(0)
    ordered = bool(np.all(starts[1:] >= ends[:-1]))
    order = np.arange(n) if ordered else np.argsort(starts, kind="stable")
    s, e = starts[order], ends[order]
    sizes = np.cumsum(e - s)
    cuts = np.searchsorted(sizes, np.arange(_CHUNK_BYTES, int(sizes[-1]), _CHUNK_BYTES), "right")
    # Lists of one chunk must not overlap (only possible with hand-made overlapping spans).
    overlaps = np.flatnonzero(s[1:] < e[:-1]) + 1
    bounds = np.unique(np.concatenate(([0], cuts, overlaps, [n])))
    buf = np.frombuffer(data, dtype=np.uint8)
    f64 = unaligned_view(data, "<f8")
    parts = [
        _decode_chunk(buf, f64, s[a:b], e[a:b], kind)
        for a, b in zip(bounds[:-1].tolist(), bounds[1:].tolist(), strict=True)
    ]
    out = parts[0] if len(parts) == 1 else _concat(parts)
    return out if ordered else _unpermute(out, order)


def _empty(n: int) -> ListSamples:
    return ListSamples(
        np.zeros(n, np.int64), np.zeros(0, np.float64), np.zeros(0, np.int8), np.zeros(n, bool)
    )


def _concat(parts: list[ListSamples]) -> ListSamples:
    return ListSamples(
        np.concatenate([p.counts for p in parts]),
        np.concatenate([p.values for p in parts]),
        np.concatenate([p.status for p in parts]),
        np.concatenate([p.bad for p in parts]),
    )


def _unpermute(sorted_out: ListSamples, order: I64Array) -> ListSamples:
    """Back from position order to the caller's list order."""
    counts = np.empty_like(sorted_out.counts)
    counts[order] = sorted_out.counts
    bad = np.empty_like(sorted_out.bad)
    bad[order] = sorted_out.bad
    sorted_offsets = np.cumsum(sorted_out.counts) - sorted_out.counts
    first = np.empty_like(sorted_offsets)
    first[order] = sorted_offsets
    take = concat_ranges(first, counts)
    return ListSamples(counts, sorted_out.values[take], sorted_out.status[take], bad)


def _decode_chunk(
    buf: U8Array, f64: F64Array, s: I64Array, e: I64Array, kind: ColumnKind
) -> ListSamples:
    """Lists ``s[j]:e[j]`` (sorted, disjoint). Positions are kept relative to the chunk start and
    offsets applied by slicing the views (``seg[2:][pos]`` is the byte at ``pos + 2``), which
    spares one pass of index arithmetic per gathered field."""
    lo, hi = int(s[0]), int(e.max())
    seg = buf[lo:]
    s, e = s - lo, e - lo
    cand = np.flatnonzero(seg[: hi - lo] == _LIST_ITEM_TAG)
    length = seg[1:][cand]
    if kind == ColumnKind.DOUBLE:
        # Payload lengths 0, 2, 9 and 11 are the only canonical DoubleSample sizes.
        folded = length & np.uint8(0xFD)
        plausible = (folded == 0) | (folded == 9)
    else:
        plausible = length <= 13  # tag + 10-byte varint + status field
    if not plausible.all():
        cand, length = cand[plausible], length[plausible]
    keep, counts, bad = _locate(cand, length, s, e)
    if keep is not None:
        cand, length = cand[keep], length[keep]
    if kind == ColumnKind.DOUBLE:
        values, status, bad_rec = _double_payloads(seg, f64[lo + 3 :], cand, length)
    else:
        values, status, bad_rec = _varint_payloads(seg, cand, length, kind)
    if bad_rec.any():
        offsets = np.cumsum(counts)
        bad[np.searchsorted(offsets, np.flatnonzero(bad_rec), "right")] = True
        keep_samples = np.repeat(~bad, counts)
        values, status = values[keep_samples], status[keep_samples]
        counts[bad] = 0
    return ListSamples(counts, values, status, bad)


def _locate(
    cand: I64Array, length: U8Array, s: I64Array, e: I64Array
) -> tuple[BoolArray | None, I64Array, BoolArray]:
    """Which candidates are records of the lists ``s[j]:e[j]`` (sorted, disjoint): a mask over
    ``cand``, or None when all are; the record count of each list; the bad lists (count 0)."""
    m = cand.size
    n = s.size
    succ = cand + (length + np.uint8(2))
    nonempty = s < e
    first = np.searchsorted(cand, s)
    first_c = np.minimum(first, max(m - 1, 0))
    starts_ok = nonempty & (first < m) & (cand[first_c] == s) if m else np.zeros(n, bool)
    bad = nonempty & ~starts_ok
    last = np.searchsorted(cand, e) - 1
    breaks = np.flatnonzero(succ[:-1] != cand[1:])
    # Duplicates are harmless here: breaks is only searched.
    breaks = np.sort(np.concatenate((breaks, last[starts_ok])))
    active = np.flatnonzero(starts_ok)
    x = first[active]
    runs: list[tuple[I64Array, I64Array, I64Array]] = []
    while active.size > _PYTHON_WALK:
        k = breaks[np.searchsorted(breaks, x)]
        reach = succ[k]
        end = e[active]
        done = reach == end
        going = np.flatnonzero(reach < end)
        target = reach[going]
        nxt = np.searchsorted(cand, target)
        found = np.zeros(active.size, bool)
        found[going] = (nxt < m) & (cand[np.minimum(nxt, m - 1)] == target)
        kept = done | found
        runs.append((active[kept], x[kept], k[kept]))
        bad[active[~kept]] = True
        x_next = np.zeros(active.size, np.int64)
        x_next[going] = nxt
        active, x = active[found], x_next[found]
    if active.size:
        runs.append(_walk(cand, succ, breaks, e, active, x, bad))
    if len(runs) == 1:
        lists, run_x, run_k = runs[0]
    elif runs:
        lists, run_x, run_k = (np.concatenate(c) for c in zip(*runs, strict=True))
        # Lists are disjoint and in position order, so position order is list order.
        order = np.argsort(run_x, kind="stable")
        lists, run_x, run_k = lists[order], run_x[order], run_k[order]
    else:
        lists = run_x = run_k = np.zeros(0, np.int64)
    good = ~bad[lists]
    if not good.all():
        lists, run_x, run_k = lists[good], run_x[good], run_k[good]
    sizes = run_k - run_x + 1
    counts = np.bincount(lists, weights=sizes, minlength=n).astype(np.int64)
    if int(sizes.sum()) == m:
        return None, counts, bad
    # Few candidates are not records (list headers, false starts): drop the gaps between runs.
    gap_start = np.concatenate(([0], run_k + 1))
    gap_size = np.concatenate((run_x, [m])) - gap_start
    keep = np.ones(m, bool)
    keep[concat_ranges(gap_start, gap_size)] = False
    return keep, counts, bad


def _walk(
    cand: I64Array,
    succ: I64Array,
    breaks: I64Array,
    e: I64Array,
    active: I64Array,
    x: I64Array,
    bad: BoolArray,
) -> tuple[I64Array, I64Array, I64Array]:
    """The same walk as the vectorised loop, in Python, for the last few lists (cheaper than
    ~20 numpy calls per step on arrays of a few elements)."""
    stops = breaks.tolist()
    runs: list[tuple[int, int, int]] = []
    for j, at in zip(active.tolist(), x.tolist(), strict=True):
        end = int(e[j])
        mine: list[tuple[int, int, int]] = []
        complete = False
        while not complete:
            k = stops[bisect.bisect_left(stops, at)]
            reach = int(succ[k])
            if reach > end:
                break
            mine.append((j, at, k))
            complete = reach == end
            if not complete:
                at = int(np.searchsorted(cand, reach))
                if at >= cand.size or int(cand[at]) != reach:
                    break
        if complete:
            runs.extend(mine)
        else:
            bad[j] = True
    table = np.array(runs, dtype=np.int64).reshape(-1, 3)
    return table[:, 0], table[:, 1], table[:, 2]


def _double_payloads(
    seg: U8Array, value_at: F64Array, pos: I64Array, length: U8Array
) -> tuple[F64Array, I8Array, BoolArray]:
    """Values, statuses and a bad mask of DoubleSample records at ``pos`` with payload ``length``
    (``value_at[i]`` is the double at ``seg[i + 3]``).

    Canonical layouts: ``09 <8 bytes> 10 <status>`` (11), ``09 <8 bytes>`` (9), ``10 <status>``
    (2) and empty (0). The status, when present, is always the last byte of the record and its
    tag the one before, which spares a per-class gather.
    """
    status_tag_at = pos + length  # record end - 2
    value_tag = seg[2:][pos]
    status = seg[1:][status_tag_at]
    status_tag = seg[status_tag_at]
    has_value = length >= 9
    has_status = (length & np.uint8(2)).astype(bool)
    bad = has_value & (value_tag != _VALUE_DOUBLE_TAG)
    bad |= has_status & ((status_tag != _STATUS_TAG) | (status >= 0x80))
    status *= has_status
    values = value_at[pos].astype(np.float64, copy=False)
    values[length < 9] = 0.0
    return values, status.view(np.int8), bad


def _varint_payloads(
    seg: U8Array, pos: I64Array, length: U8Array, kind: ColumnKind
) -> tuple[F64Array, I8Array, BoolArray]:
    """The same for Int32Sample/BoolSample records: ``08 <varint> [10 <status>]`` or
    ``10 <status>`` or empty."""
    first_tag = seg[pos + 2]
    values = np.zeros(pos.size, np.float64)
    status = np.zeros(pos.size, np.uint8)
    ok = length == 0
    status_only = (first_tag == _STATUS_TAG) & (length == 2)
    so = np.flatnonzero(status_only)
    so_status = seg[pos[so] + 3]
    ok[so] = so_status < 0x80
    status[so] = so_status
    with_value = np.flatnonzero((first_tag == _VALUE_VARINT_TAG) & (length >= 2))
    vpos = pos[with_value] + 3
    raw, vlen = read_varints(seg, vpos)
    rest = length[with_value].astype(np.int64) - 1 - vlen
    tail = vpos + vlen
    tail_tag = seg[tail]
    tail_status = seg[tail + 1]
    has_status = rest == 2
    good = (vlen > 0) & (
        (rest == 0) | (has_status & (tail_tag == _STATUS_TAG) & (tail_status < 0x80))
    )
    ok[with_value] = good
    status[with_value] = np.where(has_status, tail_status, 0)
    if kind == ColumnKind.INT32:
        # int32 keeps the low 32 bits of the (sign-extended) varint.
        low = (raw & np.uint64(0xFFFFFFFF)).astype(np.uint32).view(np.int32)
        values[with_value] = low
    else:
        values[with_value] = raw != 0
    return values, status.view(np.int8), ~ok

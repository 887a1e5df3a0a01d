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
# Lists are decoded in chunks of about this many bytes so the temporaries stay in cache.
_CHUNK_BYTES = 1 << 20


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
    bounds = np.unique(np.concatenate(([0], cuts, [n])))
    buf = np.frombuffer(data, dtype=np.uint8)
    parts = [
        _decode_chunk(data, buf, s[a:b], e[a:b], kind)
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
    data: bytes, buf: U8Array, s: I64Array, e: I64Array, kind: ColumnKind
) -> ListSamples:
    lo, hi = int(s[0]), int(e.max())
    cand = np.flatnonzero(buf[lo:hi] == _LIST_ITEM_TAG)
    cand += lo
    length = buf[cand + 1]
    if kind == ColumnKind.DOUBLE:
        # Payload lengths 0, 2, 9 and 11 are the only canonical DoubleSample sizes.
        folded = length & np.uint8(0xFD)
        plausible = (folded == 0) | (folded == 9)
    else:
        plausible = length <= 13  # tag + 10-byte varint + status field
    cand = cand[plausible]
    length = length[plausible]
    records, counts, bad = _locate(cand, length, s, e)
    rec_pos = cand[records]
    rec_len = length[records]
    if kind == ColumnKind.DOUBLE:
        values, status, bad_rec = _double_payloads(data, buf, rec_pos, rec_len)
    else:
        values, status, bad_rec = _varint_payloads(buf, rec_pos, rec_len, kind)
    if bad_rec.any():
        offsets = np.cumsum(counts)
        bad[np.searchsorted(offsets, np.flatnonzero(bad_rec), "right")] = True
        keep = np.repeat(~bad, counts)
        values, status = values[keep], status[keep]
        counts[bad] = 0
    return ListSamples(counts, values, status, bad)


def _locate(
    cand: I64Array, length: U8Array, s: I64Array, e: I64Array
) -> tuple[I64Array, I64Array, BoolArray]:
    """Indices into ``cand`` of the records of every list (list after list), the record count
    of each list and the bad lists (count 0)."""
    m = cand.size
    n = s.size
    succ = cand + 2
    succ += length
    nonempty = s < e
    first = np.searchsorted(cand, s)
    first_c = np.minimum(first, max(m - 1, 0))
    starts_ok = nonempty & (first < m) & (cand[first_c] == s) if m else np.zeros(n, bool)
    bad = nonempty & ~starts_ok
    last = np.searchsorted(cand, e) - 1
    breaks = np.flatnonzero(succ[:-1] != cand[1:])
    breaks = np.union1d(breaks, last[starts_ok])
    active = np.flatnonzero(starts_ok)
    x = first[active]
    runs: list[tuple[I64Array, I64Array, I64Array]] = []
    while active.size:
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
    if len(runs) == 1:
        lists, run_x, run_k = runs[0]
    elif runs:
        lists, run_x, run_k = (np.concatenate(c) for c in zip(*runs, strict=True))
        order = np.lexsort((run_x, lists))
        lists, run_x, run_k = lists[order], run_x[order], run_k[order]
    else:
        lists = run_x = run_k = np.zeros(0, np.int64)
    keep = ~bad[lists]
    if not keep.all():
        lists, run_x, run_k = lists[keep], run_x[keep], run_k[keep]
    sizes = run_k - run_x + 1
    counts = np.bincount(lists, weights=sizes, minlength=n).astype(np.int64)
    return concat_ranges(run_x, sizes), counts, bad


def _double_payloads(
    data: bytes, buf: U8Array, pos: I64Array, length: U8Array
) -> tuple[F64Array, I8Array, BoolArray]:
    """Values, statuses and a bad mask of DoubleSample records at ``pos`` with payload ``length``.

    Canonical layouts: ``09 <8 bytes> 10 <status>`` (11), ``09 <8 bytes>`` (9), ``10 <status>``
    (2) and empty (0). The status, when present, is always the last byte of the record and its
    tag the one before, which spares a per-class gather.
    """
    after = pos + 2
    after += length
    value_tag = buf[pos + 2]
    after -= 1
    status = buf[after]
    after -= 1
    status_tag = buf[after]
    has_value = length >= 9
    has_status = (length & np.uint8(2)).astype(bool)
    bad = has_value & (value_tag != _VALUE_DOUBLE_TAG)
    bad |= has_status & ((status_tag != _STATUS_TAG) | (status >= 0x80))
    status *= has_status
    f64 = unaligned_view(data, "<f8")
    values = f64[pos + 3].astype(np.float64, copy=False)
    np.copyto(values, 0.0, where=~has_value)
    return values, status.view(np.int8), bad


def _varint_payloads(
    buf: U8Array, pos: I64Array, length: U8Array, kind: ColumnKind
) -> tuple[F64Array, I8Array, BoolArray]:
    """The same for Int32Sample/BoolSample records: ``08 <varint> [10 <status>]`` or
    ``10 <status>`` or empty."""
    first_tag = buf[pos + 2]
    values = np.zeros(pos.size, np.float64)
    status = np.zeros(pos.size, np.uint8)
    ok = length == 0
    status_only = (first_tag == _STATUS_TAG) & (length == 2)
    so = np.flatnonzero(status_only)
    so_status = buf[pos[so] + 3]
    ok[so] = so_status < 0x80
    status[so] = so_status
    with_value = np.flatnonzero((first_tag == _VALUE_VARINT_TAG) & (length >= 2))
    vpos = pos[with_value] + 3
    raw, vlen = read_varints(buf, vpos)
    rest = length[with_value].astype(np.int64) - 1 - vlen
    tail = vpos + vlen
    tail_tag = buf[tail]
    tail_status = buf[tail + 1]
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

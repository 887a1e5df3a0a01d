"""Vectorised decoding of ``DoubleSampleList``/``Int32SampleList``/``BoolSampleList`` payloads.

A sample list is a run of records ``0A <len> <sample>``. proto3 omits a 0.0 value and an
UNSPECIFIED status, so records are not fixed width: a ``DoubleSample`` payload is 0, 2 (status),
9 (value) or 11 (both) bytes. Record starts form a chain ``next = start + 2 + len`` that cannot be
followed without a sequential loop, so instead:

1. every ``0A`` byte whose next byte is a plausible length is a candidate record start (one
   ``flatnonzero`` over a mask built over the bytes);
2. where each candidate's successor ``start + 2 + len`` is the next candidate, the chain is proven
   for that stretch; a "node" is where it is not (a ``0A`` byte inside a double, or a list end);
3. each node jumps to the first node at or after its successor, and the nodes on each list's
   path are found by pointer doubling over the nodes, so the number of numpy steps grows with the
   log of the longest path, not with the list lengths;
4. the 16 bytes after each proven record's tag are gathered in one step, and the canonical
   layout checked and its value and status read at fixed offsets of that window.

Lists with any other layout (multi-byte lengths or statuses, reordered or unknown fields, wrong
wire types) are reported as bad, for the caller to decode by the reference path.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from ._wire import I64Array, U8Array, concat_ranges, read_varints
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
# The largest one-byte payload length of a canonical record: tag, value, status tag, status
# (a varint value takes up to 10 bytes).
_MAX_PAYLOAD = {ColumnKind.DOUBLE: 11, ColumnKind.INT32: 13, ColumnKind.BOOL: 13}
# A record's bytes after its 0A tag in the canonical DoubleSample layout, read as two-byte
# little-endian words: (length 0B, value tag 09) first, (status tag 10, status) sixth.
_CANONICAL_HEAD = 0x090B
_STATUS_PAIR_MASK = 0x80FF
_STATUS_PAIR = 0x0010


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
    """Lists ``s[j]:e[j]`` (sorted, disjoint). Positions are kept relative to the chunk start and
    offsets applied by slicing the views (``seg[1:][pos]`` is the byte at ``pos + 1``), which
    spares one pass of index arithmetic per gathered field."""
    lo, hi = int(s[0]), int(e.max())
    seg = buf[lo:]
    s, e = s - lo, e - lo
    # Filtering on the length byte here, over bytes, is cheaper than filtering the int64
    # candidates afterwards; the few 0A bytes inside values that pass are false starts _locate
    # steps over.
    starts = seg[: hi - lo] == _LIST_ITEM_TAG
    short = seg[1 : hi - lo + 1] <= _MAX_PAYLOAD[kind]
    starts &= short
    cand = np.flatnonzero(starts)
    length = seg[1:][cand]
    keep, counts, bad = _locate(cand, length, s, e)
    if keep is not None:
        cand = cand[keep]
    if kind == ColumnKind.DOUBLE:
        values, status, bad_rec = _double_payloads(data, lo, cand)
    else:
        kept_length = length if keep is None else length[keep]
        values, status, bad_rec = _varint_payloads(seg, cand, kept_length, kind)
    if bad_rec.size:
        offsets = np.cumsum(counts)
        bad[np.searchsorted(offsets, bad_rec, "right")] = True
        keep_samples = np.repeat(~bad, counts)
        values, status = values[keep_samples], status[keep_samples]
        counts[bad] = 0
    return ListSamples(counts, values, status, bad)


def _locate(
    cand: I64Array, length: U8Array, s: I64Array, e: I64Array
) -> tuple[BoolArray | None, I64Array, BoolArray]:
    """Which candidates are records of the lists ``s[j]:e[j]`` (sorted, disjoint): a mask over
    ``cand``, or None when all are; the record count of each list; the bad lists (count 0).

    Only "nodes" need deciding: candidates whose successor is not the next candidate (a false
    start follows, or a list ends). Each node jumps to the first node at or after its
    successor; the nodes on the lists' paths are found by pointer doubling, so the number of
    numpy steps grows with the log of the longest path, not with its length.
    """
    m = cand.size
    n = s.size
    nonempty = s < e
    first = np.searchsorted(cand, s)
    first_c = np.minimum(first, max(m - 1, 0))
    starts_ok = nonempty & (first < m) & (cand[first_c] == s) if m else np.zeros(n, bool)
    bad = nonempty & ~starts_ok
    lists = np.flatnonzero(starts_ok)
    if lists.size == 0:
        return (np.zeros(m, bool) if m else None), np.zeros(n, np.int64), bad
    succ = cand + (length + np.uint8(2))
    # A node too many is harmless (it just ends one run where the next begins); so the last
    # candidate is one, and every list's last candidate.
    is_node = np.empty(m, bool)
    np.not_equal(succ[:-1], cand[1:], out=is_node[:-1])
    is_node[-1] = True
    is_node[np.searchsorted(cand, e[lists]) - 1] = True
    nodes = np.flatnonzero(is_node)
    reach = succ[nodes]
    target = np.searchsorted(cand, reach)
    linked = (target < m) & (cand[np.minimum(target, m - 1)] == reach)
    owner = np.searchsorted(s, cand[nodes], "right") - 1
    end = e[owner]
    # A node going on stays in its list (its successor is before the list end); a walkable
    # list's last candidate is a node, so the first node at or after the successor is the
    # list's next one (clipping only matters for lists no path starts in).
    going = linked & (reach < end)
    following = np.minimum(np.searchsorted(nodes, target), nodes.size - 1)
    jump = np.where(going, following, np.arange(nodes.size))
    head = np.searchsorted(nodes, first[lists])
    on = np.zeros(nodes.size, bool)
    on[head] = True
    while True:
        on[jump[on]] = True
        twice = jump[jump]
        if np.array_equal(twice, jump):
            break
        jump = twice
    final = jump[head]
    ok = reach[final] == end[final]
    bad[lists[~ok]] = True
    good = np.zeros(n, bool)
    good[lists[ok]] = True
    path = np.flatnonzero(on & good[owner])
    is_head = np.zeros(nodes.size, bool)
    is_head[head] = True
    starts_run = is_head[path]
    entry = np.empty(path.size, np.int64)
    entry[1:] = target[path[:-1]]
    entry[starts_run] = first[owner[path[starts_run]]]
    run_end = nodes[path]
    sizes = run_end - entry + 1
    counts = np.bincount(owner[path], weights=sizes, minlength=n).astype(np.int64)
    if int(sizes.sum()) == m:
        return None, counts, bad
    # Few candidates are not records (list headers, false starts): drop the gaps between runs.
    gap_start = np.concatenate(([0], run_end + 1))
    gap_size = np.concatenate((entry, [m])) - gap_start
    keep = np.ones(m, bool)
    keep[concat_ranges(gap_start, gap_size)] = False
    return keep, counts, bad


def _double_payloads(data: bytes, lo: int, pos: I64Array) -> tuple[F64Array, I8Array, I64Array]:
    """Values, statuses and the bad rows of the DoubleSample records at ``lo + pos``.

    Canonical layouts: ``09 <8 bytes> 10 <status>`` (11), ``09 <8 bytes>`` (9), ``10 <status>``
    (2) and empty (0). One gather of the 16 bytes after each record's tag costs about what a
    gather of its unaligned double alone does (numpy's slow path for unaligned items is per item,
    not per byte), and leaves length, tags, value and status at fixed offsets: the common
    11-byte layout is then checked with two comparisons of aligned words, the others in a
    small second pass.
    """
    if pos.size == 0:
        return np.zeros(0, np.float64), np.zeros(0, np.int8), pos
    count = len(data) - lo - 16
    windows = np.ndarray((count,), "V16", data, lo + 1, (1,))[pos]
    raw = windows.view(np.uint8).reshape(-1, 16)
    pairs = windows.view("<u2").reshape(-1, 8)
    full = pairs[:, 0] == _CANONICAL_HEAD
    full &= (pairs[:, 5] & np.uint16(_STATUS_PAIR_MASK)) == _STATUS_PAIR
    values: F64Array = np.ndarray((pos.size,), "<f8", windows, 2, (16,)).copy()
    status = raw[:, 11].copy()
    others = np.flatnonzero(~full)
    if others.size == 0:
        return values, status.view(np.int8), others
    rest = raw[others]
    length, tag, short_status = rest[:, 0], rest[:, 1], rest[:, 2]
    ok = length == 0
    ok |= (length == 2) & (tag == _STATUS_TAG) & (short_status < 0x80)
    ok |= (length == 9) & (tag == _VALUE_DOUBLE_TAG)
    values[others[length < 9]] = 0.0
    status[others] = np.where(length == 2, short_status, 0)
    return values, status.view(np.int8), others[~ok]


def _varint_payloads(
    seg: U8Array, pos: I64Array, length: U8Array, kind: ColumnKind
) -> tuple[F64Array, I8Array, I64Array]:
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
    return values, status.view(np.int8), np.flatnonzero(~ok)

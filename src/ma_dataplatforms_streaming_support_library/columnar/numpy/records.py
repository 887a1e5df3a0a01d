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

Double lists first try a shortcut for the layout encoders produce (13-byte records and 4-byte
zeros, every status set): only the zeros are searched for, the records between them sit at known
positions, and every record is checked; the steps above decide whatever does not fit.

Lists with any other layout (multi-byte lengths or statuses, reordered or unknown fields, wrong
wire types) are reported as bad, for the caller to decode by the reference path.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ...arrays import BoolArray, F64Array, I8Array, I64Array, U8Array
from .._batch import concat_ranges
from ..model import ColumnKind
from .wire import read_varints

__all__ = ["ListSamples", "decode_sample_lists"]


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
# The same from the tag on: bytes 0-2 (0A 0B 09) as a 32-bit word, and bytes 11-12 (status tag
# 10, status below 0x80) within the second 64-bit word.
_FULL_RECORD = 13  # 0A 0B 09 <value> 10 <status>
_ZERO_RECORD = 4  # 0A 02 10 <status>: proto3 leaves a 0.0 value out
_TILE_HEAD = 0x090B0A
_TILE_TAIL_MASK = 0x80FF000000
_TILE_TAIL = 0x10000000
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
    tags = seg[: hi - lo] == _LIST_ITEM_TAG
    if kind == ColumnKind.DOUBLE:
        tiled = _tiled_doubles(data, lo, seg, tags, s, e)
        if tiled is not None:
            return tiled
    # Filtering on the length byte here, over bytes, is cheaper than filtering the int64
    # candidates afterwards; the few 0A bytes inside values that pass are false starts _locate
    # steps over.
    tags &= seg[1 : hi - lo + 1] <= _MAX_PAYLOAD[kind]
    cand = np.flatnonzero(tags)
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


def _tiled_doubles(
    data: bytes, lo: int, seg: U8Array, tags: BoolArray, s: I64Array, e: I64Array
) -> ListSamples | None:
    """The common case without the general machinery, or None: lists made only of 13-byte
    records ``0A 0B 09 <value> 10 <status>`` and 4-byte ``0A 02 10 <status>`` ones (0.0).

    Only the short records are searched for (``0A 02 10`` is rare inside a double): the 13-byte
    records between two of them, or a list end, sit at known positions, which spares the dense
    candidate scan and the chain proof. Every record of the tiling is then checked byte by byte;
    a list parses in exactly one way, so a tiling that checks out is protobuf's parse. Anything
    else (another layout, a short-record head inside a value) gets None.
    """
    lists = s.size
    heads = tags & (seg[1 : tags.size + 1] == _ZERO_RECORD - 2)
    z = np.flatnonzero(heads)
    z = z[seg[2:][z] == _STATUS_TAG]
    owner = np.searchsorted(s, z, "right") - 1
    inside = z < e[owner]
    if not inside.all():
        z, owner = z[inside], owner[inside]
    zeros = np.bincount(owner, minlength=lists)
    # Runs of 13-byte records: one per list and one after each short record. Run i of list j
    # follows i - j short records, so short record k follows run k + owner[k].
    runs = lists + z.size
    after = np.arange(z.size) + owner
    first_run = np.arange(lists) + np.cumsum(zeros) - zeros
    run_start = np.empty(runs, np.int64)
    run_end = np.empty(runs, np.int64)
    run_start[first_run] = s
    run_start[after + 1] = z + _ZERO_RECORD
    run_end[after] = z
    run_end[first_run + zeros] = e
    gap = run_end - run_start
    run_count, rest = np.divmod(gap, _FULL_RECORD)
    short_status = seg[3:][z]
    if rest.any() or (gap < 0).any() or (short_status >= 0x80).any():
        return None
    # Runs and short records in position order: run i is the (2i - j)th, short record k the
    # one after its run.
    run_list = np.repeat(np.arange(lists), zeros + 1)
    run_at = 2 * np.arange(runs) - run_list
    short_at = 2 * after - owner + 1
    part_start = np.empty(runs + z.size, np.int64)
    part_size = np.ones(runs + z.size, np.int64)
    part_start[run_at] = run_start
    part_size[run_at] = run_count
    part_start[short_at] = z
    first = np.cumsum(part_size) - part_size
    total = int(first[-1] + part_size[-1])
    counts = np.bincount(run_list, weights=run_count, minlength=lists).astype(np.int64)
    counts += zeros
    bad = np.zeros(lists, bool)
    if total == 0:
        return ListSamples(counts, np.zeros(0, np.float64), np.zeros(0, np.int8), bad)
    pos = np.repeat(part_start - _FULL_RECORD * first, part_size)
    pos += np.arange(0, _FULL_RECORD * total, _FULL_RECORD)
    windows = np.ndarray((len(data) - lo - 15,), "V16", data, lo, (1,))[pos]
    words = windows.view("<u4").reshape(-1, 4)
    ok = (words[:, 0] & np.uint32(0xFFFFFF)) == _TILE_HEAD
    ok &= (windows.view("<u8").reshape(-1, 2)[:, 1] & np.uint64(_TILE_TAIL_MASK)) == _TILE_TAIL
    # A short record fails the 13-byte check (its length byte is 02): the count says it all.
    if np.count_nonzero(ok) != total - z.size:
        return None
    values: F64Array = np.ndarray((total,), "<f8", windows, 3, (16,)).copy()
    status = windows.view(np.uint8).reshape(-1, 16)[:, 12].copy()
    values[first[short_at]] = 0.0
    status[first[short_at]] = short_status
    return ListSamples(counts, values, status.view(np.int8), bad)


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

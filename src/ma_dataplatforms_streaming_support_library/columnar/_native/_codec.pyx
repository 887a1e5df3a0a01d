# cython: language_level=3, boundscheck=False, wraparound=False, cdivision=True, initializedcheck=False
"""Compiled wire codecs: sample packets and Packet envelopes to arrays, doubles to packets.

Every read is bounded by the end of the message it belongs to (see _wire.pxd), and every write
by the capacity of the array or bytes object it goes to (checked per sample). What this module cannot prove it reads exactly as
protobuf would (duplicated or mistyped fields, merged oneofs, unpacked times, statuses outside
0..127, invalid UTF-8, anything malformed) it declines with a reason code; the caller hands
those packets to the protobuf reference path, which also reports the corrupt ones.
"""

from cpython.bytes cimport PyBytes_AS_STRING, PyBytes_FromStringAndSize, PyBytes_GET_SIZE
from cpython.unicode cimport PyUnicode_DecodeUTF8
from libc.math cimport NAN
from libc.stdint cimport int8_t, int32_t, int64_t, uint8_t, uint16_t, uint32_t, uint64_t
from libc.string cimport memcmp, memcpy, memset

import numpy as np

from ._wire cimport Field, WIRE_I64, WIRE_LEN, WIRE_VARINT, next_field, read_varint

# Decline codes, the values of columnar._fallback.Decline.
cdef enum:
    OK = 0
    MALFORMED = 1
    WIRE_TYPE = 2
    DUPLICATE = 3
    ONEOF = 4
    UNPACKED = 5
    SAMPLES = 6
    TEXT = 7
    ENVELOPE = 8
    ROOM = 9  # internal, never a reason: an output array is full (the passes disagree)

# Packet kinds (argument ``kind``), and the list kinds of columnar.model.ColumnKind.
cdef enum:
    PERIODIC = 0
    SYNCHRO = 1
    ROW = 2

cdef enum:
    K_NONE = 0
    K_DOUBLE = 1
    K_INT32 = 2
    K_BOOL = 3
    K_STRING = 4

cdef enum:
    FORMAT_NONE = 0
    FORMAT_ID = 1
    FORMAT_LIST = 2

cdef uint64_t LOW32 = 0xFFFFFFFFULL  # uint32 fields keep the low 32 bits of their varint


cdef struct Out:
    # per packet, written by every pass
    uint8_t* format_kind
    uint64_t* format_id
    int64_t* format_start
    int64_t* format_stop
    uint64_t* start_ns
    int64_t* interval_ns
    int64_t* time_count
    int64_t* list_count
    int64_t* sample_count
    # a filling pass (``fill``) writes these up to their capacities, a counting pass does not
    bint fill
    uint64_t* times
    Py_ssize_t t
    Py_ssize_t t_cap
    uint8_t* list_kinds
    int64_t* list_samples
    int64_t* text_start
    int64_t* text_stop
    Py_ssize_t l
    Py_ssize_t l_cap
    double* values
    int8_t* status
    Py_ssize_t s
    Py_ssize_t s_cap


cdef inline int put_sample(Out* o, int kind, uint64_t bits, uint64_t st) noexcept nogil:
    cdef double v
    if o.s >= o.s_cap:
        return ROOM
    if kind == K_DOUBLE:
        memcpy(&v, &bits, 8)
    elif kind == K_INT32:
        v = <double>(<int32_t>(<uint32_t>bits))
    elif kind == K_BOOL:
        v = 1.0 if bits != 0 else 0.0
    else:
        v = NAN
    o.values[o.s] = v
    o.status[o.s] = <int8_t>st
    o.s += 1
    return OK


cdef inline Py_ssize_t plain_doubles(const uint8_t* b, Py_ssize_t* pos, Py_ssize_t end,
                                     double* values, int8_t* status,
                                     Py_ssize_t room) noexcept nogil:
    """DoubleSamples from ``b[pos[0]:end]`` for as long as they come in one of the layouts
    encoders write (field 1 the 8-byte value, field 2 a one-byte status, each omitted when 0):

        0A 0B 09 <value> 10 <status>    0A 09 09 <value>    0A 02 10 <status>    0A 00

    Stores at most ``room`` of them (none when ``values`` is NULL: the counting pass), moves
    pos[0] past them and returns how many. Every byte read is checked against ``end``; any
    other layout stops the run and the caller's general walk reads that sample."""
    cdef Py_ssize_t p = pos[0], n = 0
    cdef uint8_t length
    cdef uint32_t head
    cdef uint16_t tail
    cdef bint fill = values != NULL
    while end - p >= 2:
        if fill and n >= room:
            break
        if end - p >= 13:
            # The common layout in two compares: bytes 0..2 and 11..12 (status < 0x80).
            memcpy(&head, b + p, 4)
            memcpy(&tail, b + p + 11, 2)
            if (head & 0xFFFFFF) == 0x090B0A and (tail & 0x80FF) == 0x0010:
                if fill:
                    memcpy(values + n, b + p + 3, 8)
                    status[n] = <int8_t>(tail >> 8)
                p += 13
                n += 1
                continue
        if b[p] != 0x0A:
            break
        length = b[p + 1]
        if length == 0x02:
            if end - p < 4 or b[p + 2] != 0x10 or b[p + 3] >= 0x80:
                break
            if fill:
                values[n] = 0.0
                status[n] = <int8_t>b[p + 3]
            p += 4
        elif length == 0x09:
            if end - p < 11 or b[p + 2] != 0x09:
                break
            if fill:
                memcpy(values + n, b + p + 3, 8)
                status[n] = 0
            p += 11
        elif length == 0x00:
            if fill:
                values[n] = 0.0
                status[n] = 0
            p += 2
        else:
            break
        n += 1
    pos[0] = p
    return n


cdef int walk_list(const uint8_t* b, Py_ssize_t p, Py_ssize_t end, int kind, Out* o,
                   int64_t* count) noexcept nogil:
    """The samples of one typed sample list ``b[p:end]``."""
    cdef Field f, g
    cdef int64_t n = 0
    cdef uint64_t bits, st
    cdef Py_ssize_t q, run
    while p < end:
        if kind == K_DOUBLE:
            if o.fill:
                run = plain_doubles(b, &p, end, o.values + o.s, o.status + o.s, o.s_cap - o.s)
                o.s += run
            else:
                run = plain_doubles(b, &p, end, NULL, NULL, 0)
            n += run
            if p >= end:
                break
        if not next_field(b, &p, end, &f):
            return MALFORMED
        if f.number != 1:
            continue
        if f.wire != WIRE_LEN:
            return WIRE_TYPE
        bits = 0
        st = 0
        q = f.start
        while q < f.stop:
            if not next_field(b, &q, f.stop, &g):
                return MALFORMED
            if g.number == 1:
                if kind == K_DOUBLE:
                    if g.wire != WIRE_I64:
                        return WIRE_TYPE
                    memcpy(&bits, b + g.start, 8)
                elif kind == K_STRING:
                    if g.wire != WIRE_LEN:
                        return WIRE_TYPE
                elif g.wire != WIRE_VARINT:
                    return WIRE_TYPE
                else:
                    bits = g.varint
            elif g.number == 2:
                if g.wire != WIRE_VARINT:
                    return WIRE_TYPE
                st = g.varint
        if st > 127:
            return SAMPLES
        if o.fill and put_sample(o, kind, bits, st):
            return ROOM
        n += 1
    count[0] = n
    return OK


cdef int walk_format(const uint8_t* b, Py_ssize_t p, Py_ssize_t end, Py_ssize_t i,
                     Out* o) noexcept nogil:
    """The SampleDataFormat oneof: a data-format id or the span of a ParameterList."""
    cdef Field f
    cdef int members = 0
    while p < end:
        if not next_field(b, &p, end, &f):
            return MALFORMED
        if f.number == 1:
            if f.wire != WIRE_VARINT:
                return WIRE_TYPE
            members += 1
            o.format_kind[i] = FORMAT_ID
            o.format_id[i] = f.varint
        elif f.number == 2:
            if f.wire != WIRE_LEN:
                return WIRE_TYPE
            members += 1
            o.format_kind[i] = FORMAT_LIST
            o.format_start[i] = f.start
            o.format_stop[i] = f.stop
    return ONEOF if members > 1 else OK


cdef int walk_times(const uint8_t* b, Field* f, int kind, Out* o, int64_t* count) noexcept nogil:
    """Packed synchro intervals (uint32 varints) or row timestamps (fixed64)."""
    cdef Py_ssize_t q = f.start
    cdef uint64_t t
    cdef int64_t n = 0
    if kind == ROW:
        if (f.stop - f.start) % 8:
            return MALFORMED
        n = (f.stop - f.start) // 8
        if o.fill:
            if o.t + n > o.t_cap:
                return ROOM
            memcpy(o.times + o.t, b + f.start, <size_t>(8 * n))
            o.t += n
    else:
        while q < f.stop:
            if not read_varint(b, &q, f.stop, &t):
                return MALFORMED
            if o.fill:
                if o.t >= o.t_cap:
                    return ROOM
                o.times[o.t] = t & LOW32
                o.t += 1
            n += 1
    count[0] = n
    return OK


cdef int walk_column(const uint8_t* b, Field* f, Out* o, int64_t* count) noexcept nogil:
    """One SampleColumn (or SampleRow): at most one member of its list oneof."""
    cdef Field g
    cdef Py_ssize_t q = f.start
    cdef Py_ssize_t ls = 0
    cdef Py_ssize_t le = 0
    cdef int member = K_NONE
    cdef int code
    count[0] = 0
    while q < f.stop:
        if not next_field(b, &q, f.stop, &g):
            return MALFORMED
        if 1 <= g.number <= 4:
            if g.wire != WIRE_LEN:
                return WIRE_TYPE
            if member != K_NONE:
                return ONEOF
            member = <int>g.number
            ls = g.start
            le = g.stop
    if member != K_NONE:
        code = walk_list(b, ls, le, member, o, count)
        if code:
            return code
    if o.fill:
        if o.l >= o.l_cap:
            return ROOM
        o.list_kinds[o.l] = member
        o.list_samples[o.l] = count[0]
        o.text_start[o.l] = ls if member == K_STRING else 0
        o.text_stop[o.l] = le if member == K_STRING else 0
        o.l += 1
    return OK


cdef int walk_packet(const uint8_t* b, Py_ssize_t p, Py_ssize_t end, int kind, Py_ssize_t i,
                     Out* o) noexcept nogil:
    cdef Field f
    cdef bint seen_format = False, seen_start = False, seen_interval = False, seen_times = False
    cdef int code
    cdef int lists_field = 3 if kind == ROW else 4
    cdef int times_field = 2 if kind == ROW else (3 if kind == SYNCHRO else 0)
    cdef int unpacked_wire = WIRE_I64 if kind == ROW else WIRE_VARINT
    cdef int64_t lists = 0, samples = 0, times = 0, count
    while p < end:
        if not next_field(b, &p, end, &f):
            return MALFORMED
        if f.number == 1:
            if f.wire != WIRE_LEN:
                return WIRE_TYPE
            if seen_format:
                return DUPLICATE
            seen_format = True
            code = walk_format(b, f.start, f.stop, i, o)
            if code:
                return code
        elif f.number == 2 and kind != ROW:
            if f.wire != WIRE_I64:
                return WIRE_TYPE
            if seen_start:
                return DUPLICATE
            seen_start = True
            memcpy(&o.start_ns[i], b + f.start, 8)
        elif f.number == 3 and kind == PERIODIC:
            if f.wire != WIRE_VARINT:
                return WIRE_TYPE
            if seen_interval:
                return DUPLICATE
            seen_interval = True
            o.interval_ns[i] = <int64_t>(f.varint & LOW32)
        elif f.number == times_field:
            if f.wire != WIRE_LEN:
                return UNPACKED if f.wire == unpacked_wire else WIRE_TYPE
            if seen_times:
                return UNPACKED
            seen_times = True
            code = walk_times(b, &f, kind, o, &times)
            if code:
                return code
        elif f.number == lists_field:
            if f.wire != WIRE_LEN:
                return WIRE_TYPE
            code = walk_column(b, &f, o, &count)
            if code:
                return code
            lists += 1
            samples += count
    o.time_count[i] = times
    o.list_count[i] = lists
    o.sample_count[i] = samples
    return OK


cdef void clear_packet(Out* o, Py_ssize_t i) noexcept nogil:
    o.format_kind[i] = FORMAT_NONE
    o.format_id[i] = 0
    o.start_ns[i] = 0
    o.interval_ns[i] = 0
    o.time_count[i] = 0
    o.list_count[i] = 0
    o.sample_count[i] = 0


cdef object utf8(const uint8_t* b, Py_ssize_t start, Py_ssize_t stop):
    """The str of ``b[start:stop]``, or None for invalid UTF-8 (protobuf rejects those)."""
    try:
        return PyUnicode_DecodeUTF8(<const char*>(b + start), stop - start, "strict")
    except UnicodeDecodeError:
        return None


cdef object parameter_list(const uint8_t* b, Py_ssize_t p, Py_ssize_t end):
    """The identifiers of a ParameterList, or None where the reference path must decide."""
    cdef Field f
    out = []
    while p < end:
        if not next_field(b, &p, end, &f):
            return None
        if f.number == 1:
            if f.wire != WIRE_LEN:
                return None
            text = utf8(b, f.start, f.stop)
            if text is None:
                return None
            out.append(text)
    return tuple(out)


cdef object string_values(const uint8_t* b, Py_ssize_t p, Py_ssize_t end, Py_ssize_t count):
    """The values of a StringSampleList already walked by walk_list, or None (bad UTF-8)."""
    cdef Field f, g
    cdef Py_ssize_t q, vs, ve, k = 0
    out = np.empty(count, dtype=object)
    while p < end and k < count:
        if not next_field(b, &p, end, &f):
            return None
        if f.number != 1:
            continue
        vs = ve = 0
        q = f.start
        while q < f.stop:
            if not next_field(b, &q, f.stop, &g):
                return None
            if g.number == 1:
                vs, ve = g.start, g.stop
        text = utf8(b, vs, ve)
        if text is None:
            return None
        out[k] = text
        k += 1
    return out if k == count else None


cdef void check_spans(const int64_t[::1] starts, const int64_t[::1] ends, Py_ssize_t size,
                      uint8_t[::1] reasons) noexcept nogil:
    cdef Py_ssize_t i
    for i in range(starts.shape[0]):
        if starts[i] < 0 or ends[i] < starts[i] or ends[i] > size:
            reasons[i] = MALFORMED


cdef int walk_packets(const uint8_t* b, const int64_t[::1] starts, const int64_t[::1] ends,
                      int kind, uint8_t[::1] reasons, Out* o) noexcept nogil:
    """Walk every packet still without a reason into ``o`` (counting, or filling its arrays).
    A packet that fails gets its reason, its partial output taken back and its per-packet
    fields cleared. Returns ROOM as soon as an output array is full, else OK."""
    cdef Py_ssize_t i, t, l, s
    cdef int code
    for i in range(starts.shape[0]):
        code = reasons[i]
        if code == OK:
            t, l, s = o.t, o.l, o.s
            code = walk_packet(b, starts[i], ends[i], kind, i, o)
            if code == ROOM:
                return ROOM
            if code != OK:
                reasons[i] = code
                o.t, o.l, o.s = t, l, s
        if code != OK:
            clear_packet(o, i)
    return OK


cdef void bind_packets(Out* o, list arrays):
    """Point ``o`` at the per-packet arrays (all of one length, at least 1): format kind, id,
    list start and stop, start ns, interval ns, time, list and sample counts."""
    cdef uint8_t[::1] fk = arrays[0]
    cdef uint64_t[::1] fi = arrays[1], sn = arrays[4]
    cdef int64_t[::1] fs = arrays[2], fe = arrays[3], iv = arrays[5]
    cdef int64_t[::1] tc = arrays[6], lc = arrays[7], sc = arrays[8]
    o.format_kind, o.format_id, o.format_start, o.format_stop = &fk[0], &fi[0], &fs[0], &fe[0]
    o.start_ns, o.interval_ns = &sn[0], &iv[0]
    o.time_count, o.list_count, o.sample_count = &tc[0], &lc[0], &sc[0]


cdef tuple bind_outputs(Out* o, Py_ssize_t times, Py_ssize_t lists, Py_ssize_t samples):
    """New times, per-list and sample arrays of exactly the given counts, for ``o`` to fill
    from the start (an empty array gets no pointer: nothing is written to it)."""
    arrays = (
        np.empty(times, np.uint64),
        np.empty(lists, np.uint8),
        np.empty(lists, np.int64),
        np.empty(lists, np.int64),
        np.empty(lists, np.int64),
        np.empty(samples, np.float64),
        np.empty(samples, np.int8),
    )
    cdef uint64_t[::1] tv = arrays[0]
    cdef uint8_t[::1] lk = arrays[1]
    cdef int64_t[::1] ls = arrays[2], ts = arrays[3], te = arrays[4]
    cdef double[::1] vv = arrays[5]
    cdef int8_t[::1] st = arrays[6]
    o.fill = True
    o.t = o.l = o.s = 0
    o.t_cap, o.l_cap, o.s_cap = times, lists, samples
    if times:
        o.times = &tv[0]
    if lists:
        o.list_kinds, o.list_samples = &lk[0], &ls[0]
        o.text_start, o.text_stop = &ts[0], &te[0]
    if samples:
        o.values, o.status = &vv[0], &st[0]
    return arrays


def parse_samples(bytes buffer, const int64_t[::1] starts, const int64_t[::1] ends, int kind):
    """Read the sample packets ``buffer[starts[i]:ends[i]]`` of one kind (0 periodic,
    1 synchro, 2 row). Returns ``(reasons, per-packet arrays, per-list arrays, samples, texts,
    format lists)``; packets with a nonzero reason come back empty.

    A first pass counts every packet's times, lists and samples, a second fills arrays of
    exactly that size. (Arrays sized from the byte count would save the first pass but cost
    more than it in page faults: the allocator hands out fresh memory for every oversized
    array, where exact arrays reuse what the last batch freed.)"""
    cdef Py_ssize_t n = starts.shape[0]
    cdef Py_ssize_t size = PyBytes_GET_SIZE(buffer)
    cdef const uint8_t* b = <const uint8_t*>PyBytes_AS_STRING(buffer)
    cdef int code
    reasons_arr = np.zeros(n, np.uint8)
    cdef uint8_t[::1] reasons = reasons_arr
    per_packet = [np.zeros(n, dtype) for dtype in (
        np.uint8, np.uint64, np.int64, np.int64, np.uint64, np.int64, np.int64, np.int64, np.int64)]
    format_kind, format_id, format_start, format_stop, start_ns, interval_ns = per_packet[:6]
    time_count, list_count, sample_count = per_packet[6:]
    cdef Out o
    memset(&o, 0, sizeof(Out))
    if n:
        bind_packets(&o, per_packet)
    with nogil:
        check_spans(starts, ends, size, reasons)
        walk_packets(b, starts, ends, kind, reasons, &o)
    arrays = bind_outputs(&o, time_count.sum(), list_count.sum(), sample_count.sum())
    with nogil:
        code = walk_packets(b, starts, ends, kind, reasons, &o)
    if code != OK or o.t != o.t_cap or o.l != o.l_cap or o.s != o.s_cap:
        raise RuntimeError("native columnar decoder: second pass disagrees with the first")
    times_arr, list_kinds, list_samples, text_start, text_stop, values, status = arrays
    formats = {}
    cache = {}
    for i in np.flatnonzero((format_kind == FORMAT_LIST) & (reasons_arr == OK)).tolist():
        raw = buffer[format_start[i]:format_stop[i]]
        found = cache.get(raw, False)
        if found is False:
            found = cache[raw] = parameter_list(b, format_start[i], format_stop[i])
        if found is None:
            reasons[i] = TEXT
        else:
            formats[i] = found
    texts = _texts(b, list_kinds, list_samples, text_start, text_stop, list_count, reasons_arr)
    return (
        reasons_arr,
        (format_kind, format_id, formats, start_ns, interval_ns, time_count, list_count),
        (list_kinds, list_samples),
        (times_arr, values, status),
        texts,
    )


cdef dict _texts(const uint8_t* b, list_kinds, list_samples, text_start, text_stop, list_count,
                 reasons_arr):
    """String-list values by list index; a packet with invalid UTF-8 is declined (TEXT)."""
    texts = {}
    text_lists = np.flatnonzero(list_kinds == K_STRING)
    if text_lists.size == 0:
        return texts
    owners = np.repeat(np.arange(list_count.size), list_count)[text_lists]
    for j, owner in zip(text_lists.tolist(), owners.tolist()):
        found = string_values(b, text_start[j], text_stop[j], list_samples[j])
        if found is None:
            reasons_arr[owner] = TEXT
        else:
            texts[j] = found
    return texts


cdef object reuse_or_decode(const uint8_t* b, Py_ssize_t start, Py_ssize_t stop,
                            Py_ssize_t* last_start, Py_ssize_t* last_stop, list last):
    """The str of ``b[start:stop]``: the previous packet's object when the bytes are equal
    (a batch holds few distinct types and session keys), else decoded; None for bad UTF-8."""
    cdef Py_ssize_t length = stop - start
    if (last[0] is not None and length == last_stop[0] - last_start[0]
            and memcmp(b + start, b + last_start[0], <size_t>length) == 0):
        return last[0]
    text = utf8(b, start, stop) if length else ""
    if text is not None:
        last[0] = text
        last_start[0], last_stop[0] = start, stop
    return text


def parse_envelopes(bytes buffer, const int64_t[::1] starts, const int64_t[::1] ends):
    """Read the ``Packet`` envelopes ``buffer[starts[i]:ends[i]]``. Returns ``(reasons, types,
    session keys, is_essential, ids, content starts, content ends)``."""
    cdef Py_ssize_t n = starts.shape[0]
    cdef Py_ssize_t size = PyBytes_GET_SIZE(buffer)
    cdef const uint8_t* b = <const uint8_t*>PyBytes_AS_STRING(buffer)
    cdef Py_ssize_t i, p, end
    cdef Field f
    cdef int seen
    cdef int code
    cdef Py_ssize_t span[4]
    cdef Py_ssize_t type_start = 0, type_stop = 0, key_start = 0, key_stop = 0
    reasons_arr = np.zeros(n, np.uint8)
    essential_arr = np.zeros(n, np.bool_)
    ids_arr = np.zeros(n, np.uint64)
    cstart_arr = np.zeros(n, np.int64)
    cstop_arr = np.zeros(n, np.int64)
    cdef uint8_t[::1] reasons = reasons_arr
    cdef uint8_t[::1] essential = essential_arr.view(np.uint8)
    cdef uint64_t[::1] ids = ids_arr
    cdef int64_t[::1] cstart = cstart_arr, cstop = cstop_arr
    types = [""] * n
    keys = [""] * n
    last_type = [None]
    last_key = [None]
    check_spans(starts, ends, size, reasons)
    for i in range(n):
        if reasons[i] != OK:
            continue
        p, end = starts[i], ends[i]
        seen = 0
        code = OK
        span[0] = span[1] = span[2] = span[3] = 0
        while p < end:
            if not next_field(b, &p, end, &f):
                code = MALFORMED
                break
            if f.number < 1 or f.number > 5:
                continue
            if seen & (1 << f.number):
                code = DUPLICATE
                break
            seen |= 1 << f.number
            if f.wire != (WIRE_VARINT if f.number in (3, 5) else WIRE_LEN):
                code = WIRE_TYPE
                break
            if f.number == 1:
                span[0], span[1] = f.start, f.stop
            elif f.number == 2:
                span[2], span[3] = f.start, f.stop
            elif f.number == 3:
                essential[i] = f.varint != 0
            elif f.number == 4:
                cstart[i], cstop[i] = f.start, f.stop
            else:
                ids[i] = f.varint
        if code == OK:
            type_text = reuse_or_decode(b, span[0], span[1], &type_start, &type_stop, last_type)
            key_text = reuse_or_decode(b, span[2], span[3], &key_start, &key_stop, last_key)
            if type_text is None or key_text is None:
                code = TEXT
            else:
                types[i], keys[i] = type_text, key_text
        if code != OK:
            reasons[i] = code
            essential[i], ids[i], cstart[i], cstop[i] = 0, 0, 0, 0
    return reasons_arr, types, keys, essential_arr, ids_arr, cstart_arr, cstop_arr


# Marks of packet_marks: what a record's value is, as far as a packet reader must know.
cdef enum:
    MARK_PACKET = 0
    MARK_UNDECIDED = 1
    MARK_END_OF_SESSION = 2
    MARK_COVERAGE_CURSOR = 3

# The Packet.type fields (field 1 leads the encoding) of the packets a reader acts on.
cdef bytes END_OF_SESSION_HEAD = b"\x0a\x0cEndOfSession"
cdef bytes COVERAGE_CURSOR_HEAD = b"\x0a\x12CoverageCursorInfo"


cdef inline bint ascii(const uint8_t* b, Py_ssize_t start, Py_ssize_t stop) noexcept nogil:
    cdef Py_ssize_t i
    for i in range(start, stop):
        if b[i] >= 0x80:
            return False
    return True


cdef inline bint starts_with(const uint8_t* b, Py_ssize_t size, bytes head):
    cdef Py_ssize_t length = PyBytes_GET_SIZE(head)
    return size >= length and memcmp(b, PyBytes_AS_STRING(head), <size_t>length) == 0


cdef struct Envelope:
    Py_ssize_t key_start  # the session key: b[key_start:key_stop]
    Py_ssize_t key_stop
    bint essential


cdef int envelope_mark(const uint8_t* b, Py_ssize_t end, Envelope* out) noexcept nogil:
    """MARK_PACKET for a ``Packet`` protobuf parses, with a non-empty type; MARK_UNDECIDED
    for anything else this walk cannot vouch for (malformed, duplicated or mistyped fields,
    non-ASCII text, no type): the caller asks protobuf about those. ``out`` gets the session
    key's span and the essential flag of a vouched envelope."""
    cdef Py_ssize_t p = 0
    cdef Field f
    cdef int seen = 0
    cdef bint typed = False
    out.key_start, out.key_stop, out.essential = 0, 0, False
    while p < end:
        if not next_field(b, &p, end, &f):
            return MARK_UNDECIDED
        if f.number < 1 or f.number > 5:
            continue
        if seen & (1 << f.number):
            return MARK_UNDECIDED
        seen |= 1 << f.number
        if f.wire != (WIRE_VARINT if f.number in (3, 5) else WIRE_LEN):
            return MARK_UNDECIDED
        if f.number <= 2:
            if not ascii(b, f.start, f.stop):
                return MARK_UNDECIDED
            if f.number == 1:
                typed = f.stop > f.start
            else:
                out.key_start, out.key_stop = f.start, f.stop
        elif f.number == 3:
            out.essential = f.varint != 0
    return MARK_PACKET if typed else MARK_UNDECIDED


def envelope_facts(bytes value):
    """``(session_key, is_essential)`` of the ``Packet`` envelope ``value``, as protobuf reads
    them, where the walk of ``packet_marks`` vouches for the envelope (it parses and names its
    type); None for anything else, which the caller hands to protobuf."""
    cdef Envelope envelope
    cdef const uint8_t* b = <const uint8_t*>PyBytes_AS_STRING(value)
    if envelope_mark(b, PyBytes_GET_SIZE(value), &envelope) != MARK_PACKET:
        return None
    return utf8(b, envelope.key_start, envelope.key_stop), envelope.essential


def packet_marks(values):
    """One mark per record value of the iterable ``values``, as bytes: 0 for an Open Data
    ``Packet`` envelope that names its type, 2 and 3 for one whose encoding starts with the
    type EndOfSession or CoverageCursorInfo, 1 where protobuf must decide (anything this walk
    cannot vouch for, and values that are not bytes)."""
    marks = bytearray()
    cdef const uint8_t* b
    cdef Py_ssize_t size
    cdef int mark
    cdef Envelope envelope
    for value in values:
        if type(value) is not bytes:
            marks.append(MARK_UNDECIDED)
            continue
        b = <const uint8_t*>PyBytes_AS_STRING(value)
        size = PyBytes_GET_SIZE(value)
        mark = envelope_mark(b, size, &envelope)
        if mark == MARK_PACKET:
            if starts_with(b, size, END_OF_SESSION_HEAD):
                mark = MARK_END_OF_SESSION
            elif starts_with(b, size, COVERAGE_CURSOR_HEAD):
                mark = MARK_COVERAGE_CURSOR
        marks.append(mark)
    return bytes(marks)


cdef inline int varint_size(uint64_t v) noexcept nogil:
    cdef int n = 1
    while v >= 0x80:
        v >>= 7
        n += 1
    return n


cdef inline Py_ssize_t put_varint(uint8_t* out, Py_ssize_t at, uint64_t v) noexcept nogil:
    while v >= 0x80:
        out[at] = <uint8_t>(v & 0x7F) | 0x80
        v >>= 7
        at += 1
    out[at] = <uint8_t>v
    return at + 1


cdef struct Column:
    # one column of doubles and its statuses, ``n`` samples ``step`` bytes apart (0: repeated)
    const uint8_t* values
    Py_ssize_t value_step
    const uint8_t* status
    Py_ssize_t status_step
    Py_ssize_t n


cdef inline void column_at(Column* col, const double[:, :, :] vals, const uint8_t[:, :, :] stat,
                           Py_ssize_t p, Py_ssize_t c) noexcept nogil:
    col.n = vals.shape[2]
    col.value_step, col.status_step = vals.strides[2], stat.strides[2]
    if col.n:
        col.values = <const uint8_t*>&vals[p, c, 0]
        col.status = &stat[p, c, 0]


cdef int64_t samples_size(const Column* col) noexcept nogil:
    """Bytes of a column's sample records: each 0A <len>, then 09 <value> unless the value's
    bits are 0 and 10 <status> unless the status is 0."""
    cdef Py_ssize_t k
    cdef int64_t size = 2 * col.n
    cdef uint64_t bits
    for k in range(col.n):
        memcpy(&bits, col.values + k * col.value_step, 8)
        size += (9 if bits != 0 else 0) + (2 if col.status[k * col.status_step] != 0 else 0)
    return size


cdef Py_ssize_t put_samples(uint8_t* out, Py_ssize_t at, Py_ssize_t limit,
                            const Column* col) noexcept nogil:
    """The column's sample records from ``out[at]``; -1 rather than write past ``limit`` (the
    arrays changed since they were sized: another thread may write them while this one runs
    without the GIL)."""
    cdef Py_ssize_t k
    cdef uint64_t bits
    cdef uint8_t s
    for k in range(col.n):
        memcpy(&bits, col.values + k * col.value_step, 8)
        s = col.status[k * col.status_step]
        if limit - at < 2 + (9 if bits != 0 else 0) + (2 if s != 0 else 0):
            return -1
        if bits != 0 and s != 0:
            out[at] = 0x0A
            out[at + 1] = 0x0B
            out[at + 2] = 0x09
            memcpy(out + at + 3, &bits, 8)
            out[at + 11] = 0x10
            out[at + 12] = s
            at += 13
            continue
        out[at] = 0x0A
        out[at + 1] = (9 if bits != 0 else 0) + (2 if s != 0 else 0)
        at += 2
        if bits != 0:
            out[at] = 0x09
            memcpy(out + at + 1, &bits, 8)
            at += 9
        if s != 0:
            out[at] = 0x10
            out[at + 1] = s
            at += 2
    return at


cdef Py_ssize_t content_size(const double[:, :, :] vals, const uint8_t[:, :, :] stat,
                             Py_ssize_t p, int64_t[::1] list_size, Py_ssize_t header) noexcept nogil:
    """Bytes of packet ``p`` (``header`` bytes before its columns); fills ``list_size``."""
    cdef Py_ssize_t c, total = header
    cdef int64_t size, column
    cdef Column col
    for c in range(vals.shape[1]):
        column_at(&col, vals, stat, p, c)
        size = samples_size(&col)
        list_size[c] = size
        column = 1 + varint_size(<uint64_t>size) + size
        total += 1 + varint_size(<uint64_t>column) + column
    return total


cdef Py_ssize_t put_columns(uint8_t* out, Py_ssize_t at, Py_ssize_t limit,
                            const double[:, :, :] vals, const uint8_t[:, :, :] stat,
                            Py_ssize_t p, const int64_t[::1] list_size) noexcept nogil:
    """The columns of packet ``p`` from ``out[at]``, each sized by ``list_size``; -1 when a
    column's samples no longer fit its size (see put_samples)."""
    cdef Py_ssize_t c
    cdef int64_t size
    cdef Column col
    for c in range(vals.shape[1]):
        size = list_size[c]
        out[at] = 0x22
        at = put_varint(out, at + 1, <uint64_t>(1 + varint_size(<uint64_t>size) + size))
        out[at] = 0x0A
        at = put_varint(out, at + 1, <uint64_t>size)
        column_at(&col, vals, stat, p, c)
        if size > limit - at:
            return -1
        at = put_samples(out, at, at + size, &col)
        if at < 0:
            return -1
    return at


cdef Py_ssize_t put_header(uint8_t* out, Py_ssize_t at, const uint64_t[::1] ids,
                           const uint8_t* fmt, Py_ssize_t fmt_len, uint64_t start,
                           int64_t interval, Py_ssize_t p) noexcept nogil:
    """A packet's data_format, start_time and interval fields (the last two left off when 0)."""
    cdef uint64_t fid
    if ids is not None:
        fid = ids[p]
        out[at] = 0x0A
        out[at + 1] = <uint8_t>(1 + varint_size(fid))
        out[at + 2] = 0x08
        at = put_varint(out, at + 3, fid)
    else:
        memcpy(out + at, fmt, <size_t>fmt_len)
        at += fmt_len
    if start != 0:
        out[at] = 0x11
        memcpy(out + at + 1, &start, 8)
        at += 9
    if interval != 0:
        out[at] = 0x18
        at = put_varint(out, at + 1, <uint64_t>interval)
    return at


def encode_periodic(const double[:, :, :] vals, const uint8_t[:, :, :] stat,
                    const uint64_t[::1] starts, const int64_t[::1] intervals,
                    const uint64_t[::1] ids, bytes fmt_bytes, bytes head=None,
                    const uint64_t[::1] packet_ids=None):
    """Serialized PeriodicDataPackets, byte-identical to protobuf's (arguments checked by the
    caller: statuses 0..127, intervals within uint32, ``ids`` per packet or None with
    ``fmt_bytes`` the serialized data_format field of an explicit list). ``vals`` and ``stat``
    may have any strides (a transposed or broadcast view is read in place).

    With ``head`` (the serialized Packet fields before ``content``) each packet comes in its
    Packet envelope: ``head``, the content field, then the id from ``packet_ids`` (None: no
    ids), left off when 0 as protobuf does."""
    cdef Py_ssize_t packets = vals.shape[0], p, header, content, total, at, begin, written
    cdef int64_t interval
    cdef uint64_t packet_id
    cdef uint8_t* out
    cdef const uint8_t* fmt = <const uint8_t*>PyBytes_AS_STRING(fmt_bytes)
    cdef Py_ssize_t fmt_len = PyBytes_GET_SIZE(fmt_bytes)
    cdef bint wrap = head is not None
    cdef const uint8_t* head_at = <const uint8_t*>PyBytes_AS_STRING(head) if wrap else NULL
    cdef Py_ssize_t head_len = PyBytes_GET_SIZE(head) if wrap else 0
    if stat.shape[0] != packets or stat.shape[1] != vals.shape[1] or stat.shape[2] != vals.shape[2]:
        raise ValueError("status must have the shape of values")
    if starts.shape[0] != packets or intervals.shape[0] != packets:
        raise ValueError("one start time and one interval per packet")
    if ids is not None and ids.shape[0] != packets:
        raise ValueError("one data-format id per packet")
    if packet_ids is not None and packet_ids.shape[0] != packets:
        raise ValueError("one packet id per packet")
    sizes_arr = np.zeros(vals.shape[1], np.int64)
    cdef int64_t[::1] list_size = sizes_arr
    result = []
    for p in range(packets):
        interval = intervals[p]
        header = (3 + varint_size(ids[p])) if ids is not None else fmt_len
        header += (9 if starts[p] != 0 else 0) + ((1 + varint_size(<uint64_t>interval)) if interval != 0 else 0)
        with nogil:
            # Without the GIL: the store's thread commits earlier packets meanwhile.
            content = content_size(vals, stat, p, list_size, header)
        packet_id = packet_ids[p] if packet_ids is not None else 0
        total = content
        if wrap:
            total += head_len + ((1 + varint_size(<uint64_t>content)) if content else 0)
            total += (1 + varint_size(packet_id)) if packet_id else 0
        blob = PyBytes_FromStringAndSize(NULL, total)
        out = <uint8_t*>PyBytes_AS_STRING(blob)
        with nogil:
            at = 0
            if wrap:
                memcpy(out, head_at, <size_t>head_len)
                at = head_len
                if content:
                    out[at] = 0x22
                    at = put_varint(out, at + 1, <uint64_t>content)
            begin = at
            at = put_header(out, at, ids, fmt, fmt_len, starts[p], interval, p)
            at = put_columns(out, at, begin + content, vals, stat, p, list_size)
            written = at - begin
            if written == content and packet_id:
                out[at] = 0x28
                at = put_varint(out, at + 1, packet_id)
        if written != content or at != total:
            raise RuntimeError("native columnar encoder: size and bytes written disagree")
        result.append(blob)
    return result


cdef struct Header:
    int format_kind
    uint64_t format_id
    Py_ssize_t format_start
    Py_ssize_t format_stop
    uint64_t start_ns
    uint64_t interval_ns
    uint64_t span_ns     # periodic: samples - 1 (times interval later); synchro: sum of intervals
    uint64_t points      # periodic: samples of the first column
    uint64_t row_first
    uint64_t row_last
    bint has_times


cdef bint count_list(const uint8_t* b, Py_ssize_t p, Py_ssize_t end, uint64_t* count) noexcept nogil:
    """The samples of the first SampleColumn ``b[p:end]``: entries of its one list member."""
    cdef Field f, g
    cdef Py_ssize_t q
    cdef int members = 0
    cdef uint64_t n = 0
    while p < end:
        if not next_field(b, &p, end, &f):
            return False
        if 1 <= f.number <= 4:
            if f.wire != WIRE_LEN:
                return False
            members += 1
            q = f.start
            while q < f.stop:
                # The layout encoders write for doubles: 0A 0B <11 bytes>.
                if f.stop - q >= 13 and b[q] == 0x0A and b[q + 1] == 0x0B:
                    n += 1
                    q += 13
                    continue
                if not next_field(b, &q, f.stop, &g):
                    return False
                if g.number == 1:
                    # A sample with another wire type is an unknown field to protobuf, not a
                    # sample: the full decoder decides such a packet.
                    if g.wire != WIRE_LEN:
                        return False
                    n += 1
    count[0] = n
    return members <= 1


cdef bint peek_times(const uint8_t* b, Field* f, int kind, Header* h) noexcept nogil:
    cdef Py_ssize_t q = f.start
    cdef uint64_t t, total = 0, low = 0xFFFFFFFFFFFFFFFFULL, high = 0
    if kind == ROW:
        if (f.stop - f.start) % 8:
            return False
        while q < f.stop:
            memcpy(&t, b + q, 8)
            low = t if t < low else low
            high = t if t > high else high
            q += 8
        h.row_first, h.row_last = low, high
        return True
    while q < f.stop:
        if not read_varint(b, &q, f.stop, &t):
            return False
        total += t & LOW32
    h.span_ns = total
    return True


cdef bint peek_packet(const uint8_t* b, Py_ssize_t p, Py_ssize_t end, int kind,
                      Header* h) noexcept nogil:
    """The header fields of one data packet; False when any of them is not plainly readable
    (the full decoder then decides)."""
    cdef Field f, g
    cdef Py_ssize_t q
    cdef bint seen_format = False, seen_start = False, seen_interval = False, seen_column = False
    cdef int lists_field = 3 if kind == ROW else 4
    cdef int times_field = 2 if kind == ROW else (3 if kind == SYNCHRO else 0)
    cdef int members
    while p < end:
        if not next_field(b, &p, end, &f):
            return False
        if f.number == 1:
            if f.wire != WIRE_LEN or seen_format:
                return False
            seen_format = True
            q = f.start
            members = 0
            while q < f.stop:
                if not next_field(b, &q, f.stop, &g):
                    return False
                if g.number == 1 and g.wire == WIRE_VARINT:
                    members += 1
                    h.format_kind, h.format_id = FORMAT_ID, g.varint
                elif g.number == 2 and g.wire == WIRE_LEN:
                    members += 1
                    h.format_kind, h.format_start, h.format_stop = FORMAT_LIST, g.start, g.stop
                elif g.number == 1 or g.number == 2:
                    return False
            if members > 1:
                return False
        elif f.number == 2 and kind != ROW:
            if f.wire != WIRE_I64 or seen_start:
                return False
            seen_start = True
            memcpy(&h.start_ns, b + f.start, 8)
        elif f.number == 3 and kind == PERIODIC:
            if f.wire != WIRE_VARINT or seen_interval:
                return False
            seen_interval = True
            h.interval_ns = f.varint & LOW32
        elif f.number == times_field:
            if f.wire != WIRE_LEN or h.has_times:
                return False
            h.has_times = True
            if not peek_times(b, &f, kind, h):
                return False
        elif f.number == lists_field and kind == PERIODIC and not seen_column:
            if f.wire != WIRE_LEN:
                return False
            seen_column = True
            if not count_list(b, f.start, f.stop, &h.points):
                return False
    return True


cdef bint time_range(Header* h, int kind, int64_t* first, int64_t* last) noexcept nogil:
    """The packet's first and last sample time; False past int64 (the decoder reports those)."""
    cdef uint64_t limit = <uint64_t>0x7FFFFFFFFFFFFFFFULL
    if kind == ROW:
        if not h.has_times:
            first[0] = last[0] = 0
            return True
        if h.row_last > limit:
            return False
        first[0], last[0] = <int64_t>h.row_first, <int64_t>h.row_last
        return True
    if h.start_ns > limit:
        return False
    if kind == PERIODIC:
        if h.points > 1 and h.interval_ns:
            if h.points - 1 > (limit - h.start_ns) // h.interval_ns:
                return False
            h.span_ns = (h.points - 1) * h.interval_ns
        else:
            h.span_ns = 0
    elif h.span_ns > limit - h.start_ns:
        return False
    first[0] = <int64_t>h.start_ns
    last[0] = <int64_t>(h.start_ns + h.span_ns)
    return True


def peek_headers(bytes buffer, const int64_t[::1] starts, const int64_t[::1] ends, int kind):
    """Read only the headers of the sample packets ``buffer[starts[i]:ends[i]]`` of one kind:
    data format and time range, without their samples. Returns ``(known, format kinds, format
    ids, format lists, first ns, last ns)``; a packet not ``known`` must be decoded to tell."""
    cdef Py_ssize_t n = starts.shape[0]
    cdef Py_ssize_t size = PyBytes_GET_SIZE(buffer)
    cdef const uint8_t* b = <const uint8_t*>PyBytes_AS_STRING(buffer)
    cdef Py_ssize_t i
    cdef Header h
    known_arr = np.zeros(n, np.bool_)
    kinds_arr = np.zeros(n, np.uint8)
    ids_arr = np.zeros(n, np.uint64)
    first_arr = np.zeros(n, np.int64)
    last_arr = np.zeros(n, np.int64)
    spans_arr = np.zeros((n, 2), np.int64)
    cdef uint8_t[::1] known = known_arr.view(np.uint8)
    cdef uint8_t[::1] kinds = kinds_arr
    cdef uint64_t[::1] ids = ids_arr
    cdef int64_t[::1] first = first_arr, last = last_arr
    cdef int64_t[:, ::1] spans = spans_arr
    with nogil:
        for i in range(n):
            if starts[i] < 0 or ends[i] < starts[i] or ends[i] > size:
                continue
            memset(&h, 0, sizeof(Header))
            if not peek_packet(b, starts[i], ends[i], kind, &h):
                continue
            if not time_range(&h, kind, &first[i], &last[i]):
                continue
            known[i] = 1
            kinds[i] = <uint8_t>h.format_kind
            ids[i] = h.format_id
            spans[i, 0], spans[i, 1] = h.format_start, h.format_stop
    formats = {}
    cache = {}
    for i in np.flatnonzero(known_arr & (kinds_arr == FORMAT_LIST)).tolist():
        raw = buffer[spans_arr[i, 0]:spans_arr[i, 1]]
        found = cache.get(raw, False)
        if found is False:
            found = cache[raw] = parameter_list(b, spans_arr[i, 0], spans_arr[i, 1])
        if found is None:
            known_arr[i] = False
        else:
            formats[i] = found
    return known_arr, kinds_arr, ids_arr, formats, first_arr, last_arr


# Packet labels (columnar.heads): the sample kind, as an index of DATA_TYPES, and data format id
# of Packets read plainly from their first bytes, by the rules of heads.read_heads.
cdef inline int8_t sample_kind(const uint8_t* b, Py_ssize_t size) noexcept nogil:
    if size == 12 and memcmp(b, b"PeriodicData", 12) == 0:
        return 0
    if size == 7 and memcmp(b, b"RowData", 7) == 0:
        return 1
    if size == 11 and memcmp(b, b"SynchroData", 11) == 0:
        return 2
    return -1


cdef int8_t label_packet(const uint8_t* b, Py_ssize_t end, uint64_t* format_id) noexcept nogil:
    """The kind of the Packet in b[0:end] whose fields up to its content are single-byte tags
    of varint or length-delimited fields, and whose content opens with a data format id; -1
    for any other bytes. ``format_id`` gets the id."""
    cdef Py_ssize_t p = 0, type_at = 0, type_size = -1, q
    cdef uint64_t value, fid
    cdef uint8_t tag
    cdef int8_t kind
    while p < end:
        tag = b[p]
        p += 1
        if tag == 0x22:  # the content
            if not read_varint(b, &p, end, &value) or value == 0 or p >= end:
                return -1
            kind = sample_kind(b + type_at, type_size)
            if kind < 0 or p + 3 > end or b[p] != 0x0A or b[p + 2] != 0x08:
                return -1
            q = p + 3
            if not read_varint(b, &q, end, &fid) or b[p + 1] != 1 + (q - p - 3):
                return -1
            format_id[0] = fid
            return kind
        if tag >= 0x80 or (tag & 7) not in (WIRE_VARINT, WIRE_LEN):
            return -1
        if not read_varint(b, &p, end, &value):
            return -1
        if tag & 7 == WIRE_LEN:
            if value > <uint64_t>(end - p):
                return -1
            if tag == 0x0A:
                type_at, type_size = p, <Py_ssize_t>value
            p += <Py_ssize_t>value
    return -1


def packet_labels(list values, Py_ssize_t head_bytes):
    """(kinds int8, format ids uint64) of the Packets in ``values`` (bytes), each read from its
    first ``head_bytes`` bytes; kind -1 (id 0) where a value is not read plainly."""
    cdef Py_ssize_t n = len(values), i, size
    kinds_array = np.full(n, -1, np.int8)
    ids_array = np.zeros(n, np.uint64)
    cdef int8_t[::1] kinds = kinds_array
    cdef uint64_t[::1] ids = ids_array
    cdef uint64_t fid
    cdef bytes value
    for i in range(n):
        value = values[i]
        size = min(PyBytes_GET_SIZE(value), head_bytes)
        fid = 0
        kinds[i] = label_packet(<const uint8_t*>PyBytes_AS_STRING(value), size, &fid)
        if kinds[i] >= 0:
            ids[i] = fid
    return kinds_array, ids_array


include "_delivery.pxi"

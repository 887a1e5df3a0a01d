# Bounds-checked protobuf wire reads shared by the decoder and the envelope reader.
from libc.stdint cimport uint8_t, uint64_t

cdef struct Field:
    uint64_t number
    int wire
    Py_ssize_t start   # payload: value bytes (VARINT, I64, I32) or content (LEN)
    Py_ssize_t stop
    uint64_t varint    # VARINT value (0 for other wire types)

cdef enum:
    WIRE_VARINT = 0
    WIRE_I64 = 1
    WIRE_LEN = 2
    WIRE_I32 = 5

cdef inline bint read_varint(const uint8_t* b, Py_ssize_t* pos, Py_ssize_t end,
                             uint64_t* out) noexcept nogil:
    """A varint at pos[0] that ends before ``end``; False for a truncated one, one longer than
    10 bytes, or one whose 10th byte overflows 64 bits."""
    cdef Py_ssize_t p = pos[0]
    cdef uint64_t value = 0
    cdef uint64_t byte
    cdef int shift = 0
    while True:
        if p >= end:
            return False
        byte = b[p]
        p += 1
        if shift == 63 and byte > 1:
            return False
        value |= (byte & 0x7F) << shift
        if byte < 0x80:
            break
        shift += 7
        if shift > 63:
            return False
    pos[0] = p
    out[0] = value
    return True

cdef inline bint next_field(const uint8_t* b, Py_ssize_t* pos, Py_ssize_t end,
                            Field* f) noexcept nogil:
    """The field at pos[0] (which must be < end), bounded by ``end``; False when it cannot be
    walked: bad tag, field number 0, group or reserved wire type, payload past ``end``."""
    cdef uint64_t tag, length
    cdef Py_ssize_t p = pos[0]
    if not read_varint(b, &p, end, &tag) or tag >= (<uint64_t>1 << 32):
        return False
    f.number = tag >> 3
    f.wire = <int>(tag & 7)
    f.varint = 0
    if f.number == 0:
        return False
    f.start = p
    if f.wire == WIRE_VARINT:
        if not read_varint(b, &p, end, &f.varint):
            return False
        f.stop = p
    elif f.wire == WIRE_LEN:
        if not read_varint(b, &p, end, &length) or length > <uint64_t>(end - p):
            return False
        f.start = p
        f.stop = p + <Py_ssize_t>length
    elif f.wire == WIRE_I64:
        if end - p < 8:
            return False
        f.stop = p + 8
    elif f.wire == WIRE_I32:
        if end - p < 4:
            return False
        f.stop = p + 4
    else:
        return False
    pos[0] = f.stop
    return True

# Included by _codec.pyx (one extension): a packet reader's delivery loop, compiled.
#
# A reader hands each plain packet of a poll to its handlers as a ReceivedPacketDto holding a
# PacketBytes. Built in Python, the two objects cost two constructor calls (~190 ns a packet, a
# third of what the reader adds to the Kafka client's own cost); here they are allocated and
# their slots filled directly, then each handler's ``handle`` is called. Only slots that Python
# itself declared (member descriptors of the types, holding objects) are filled, and only with
# what their constructors would store: the record's value (exact bytes, as PacketBytes keeps
# it), the run's data source, session key and stream, and the submit time.

from cpython.object cimport PyObject, PyTypeObject
from cpython.ref cimport Py_INCREF
from cpython.tuple cimport PyTuple_GET_SIZE

import types


cdef extern from "Python.h":
    ctypedef struct PyMemberDef:
        const char* name
        int type
        Py_ssize_t offset
        int flags
    ctypedef struct PyMemberDescrObject:
        PyMemberDef* d_member
    object PyType_GenericAlloc(PyTypeObject* type, Py_ssize_t items)
    object PyObject_CallNoArgs(object callable)
    object PyObject_CallOneArg(object callable, object arg)
    object PyObject_CallMethodOneArg(object obj, object name, object arg)

# structmember.h's member type of an object slot (T_OBJECT_EX, Py_T_OBJECT_EX from 3.12) and
# its read-only flag: stable ABI values.
cdef enum:
    MEMBER_OBJECT = 16
    MEMBER_READONLY = 1


cdef str HANDLE = "handle"


cdef Py_ssize_t slot_offset(type owner, str name) except -1:
    """Where ``owner`` keeps the object slot ``name`` in its instances; ValueError when that
    is not a plain writable object slot of ``owner`` itself."""
    descriptor = owner.__dict__.get(name)
    if type(descriptor) is not types.MemberDescriptorType:
        raise ValueError(f"{owner.__name__}.{name} is not a slot")
    cdef PyMemberDef* member = (<PyMemberDescrObject*>descriptor).d_member
    if member.type != MEMBER_OBJECT or member.flags & MEMBER_READONLY:
        raise ValueError(f"{owner.__name__}.{name} is not a writable object slot")
    if member.offset < <Py_ssize_t>sizeof(PyObject) or (
        member.offset + <Py_ssize_t>sizeof(PyObject*) > (<PyTypeObject*>owner).tp_basicsize
    ):
        raise ValueError(f"{owner.__name__}.{name} lies outside its instances")
    return member.offset


cdef inline void fill(object instance, Py_ssize_t offset, object value):
    # The slot of a new instance is NULL: nothing to release.
    Py_INCREF(value)
    (<PyObject**>((<char*><PyObject*>instance) + offset))[0] = <PyObject*>value


cdef class PacketDelivery:
    """Delivers runs of plain packets of one partition and session key (see ``deliver``).

    ``dto_type`` must keep ``dto_fields`` (data source, session key, stream, packet bytes,
    submit time, in that order) in slots, and ``bytes_type`` its bytes in the slot
    ``bytes_field``; ValueError otherwise.
    """

    cdef type dto_type
    cdef type bytes_type
    cdef Py_ssize_t at_source, at_key, at_stream, at_packet, at_time, at_bytes

    def __init__(self, type dto_type, tuple dto_fields, type bytes_type, str bytes_field):
        if len(dto_fields) != 5:
            raise ValueError(f"dto_fields must name 5 slots, got {dto_fields!r}")
        self.dto_type = dto_type
        self.bytes_type = bytes_type
        self.at_source = slot_offset(dto_type, dto_fields[0])
        self.at_key = slot_offset(dto_type, dto_fields[1])
        self.at_stream = slot_offset(dto_type, dto_fields[2])
        self.at_packet = slot_offset(dto_type, dto_fields[3])
        self.at_time = slot_offset(dto_type, dto_fields[4])
        self.at_bytes = slot_offset(bytes_type, bytes_field)

    def deliver(
        self,
        list records,
        const uint8_t[::1] marks,
        Py_ssize_t start,
        str data_source,
        str session_key,
        str stream,
        tuple handlers,
        object is_stopping,
        object last_ms,
        object submit_time,
        object submit_time_of,
        object handler_failed,
    ):
        """Hand ``records[start:]`` to ``handlers`` for as long as they stay plain packets of
        the run ``records[start]`` opens: mark 0, the same topic, partition and key, rising
        offsets, exact bytes values. Stops early when ``is_stopping()``, checked before each.

        A record's submit time is ``submit_time_of(timestamp_ms)``, asked again only when the
        timestamp changes (``last_ms`` and ``submit_time`` carry the last one between calls).
        A handler that raises is reported by ``handler_failed(handler, record)``, called while
        the exception is being handled; the other handlers and records go on.

        Returns (index of the first record not delivered, last_ms, submit_time).
        """
        cdef Py_ssize_t n = min(len(records), marks.shape[0]), i = start
        cdef long long offset, previous = -1
        cdef tuple first = None, record
        cdef object item, value, dto, packet_bytes, timestamp
        while i < n:
            item = records[i]
            # Records are named tuples: their items are read as a tuple's (a subclass's item
            # lookup goes through Python-level __getitem__).
            if marks[i] != MARK_PACKET or not isinstance(item, tuple):
                break
            record = <tuple>item
            if PyTuple_GET_SIZE(record) != 6:
                break
            if first is None:
                first = record
            elif (
                record[1] != first[1] or record[3] != first[3] or record[0] != first[0]
            ):
                break
            offset = record[2]
            value = record[4]
            if offset <= previous or type(value) is not bytes:
                break
            if PyObject_CallNoArgs(is_stopping):
                break
            previous = offset
            timestamp = record[5]
            if timestamp != last_ms:
                last_ms = timestamp
                submit_time = PyObject_CallOneArg(submit_time_of, timestamp)
            packet_bytes = PyType_GenericAlloc(<PyTypeObject*>self.bytes_type, 0)
            fill(packet_bytes, self.at_bytes, value)
            dto = PyType_GenericAlloc(<PyTypeObject*>self.dto_type, 0)
            fill(dto, self.at_source, data_source)
            fill(dto, self.at_key, session_key)
            fill(dto, self.at_stream, stream)
            fill(dto, self.at_packet, packet_bytes)
            fill(dto, self.at_time, submit_time)
            for handler in handlers:
                try:
                    PyObject_CallMethodOneArg(handler, HANDLE, dto)
                except Exception:
                    handler_failed(handler, record)
            i += 1
        return i, last_ms, submit_time

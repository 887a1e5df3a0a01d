"""PacketBytes: a serialized Open Data ``Packet`` envelope."""

from __future__ import annotations

__all__ = ["PacketBytes"]


class PacketBytes:
    """Immutable wrapper of ``Packet.SerializeToString()`` output; readers hand packets over in it.

    A plain slotted class rather than a frozen dataclass: one is built per packet on every read
    and write, and a frozen dataclass's ``__init__`` costs several times more.
    """

    __slots__ = ("_data",)

    def __init__(self, data: bytes) -> None:
        if type(data) is not bytes:
            if isinstance(data, (bytes, bytearray, memoryview)):
                data = bytes(data)
            else:
                raise TypeError(
                    "PacketBytes.data must be bytes (Packet.SerializeToString()), "
                    f"got {type(data).__name__}"
                )
        self._data = data

    @property
    def data(self) -> bytes:
        return self._data

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, PacketBytes):
            return NotImplemented
        return self._data == other._data

    def __hash__(self) -> int:
        return hash(self._data)

    def __repr__(self) -> str:
        preview = self._data[:16].hex()
        return (
            f"PacketBytes({len(self._data)} bytes: {preview}{'…' if len(self._data) > 16 else ''})"
        )

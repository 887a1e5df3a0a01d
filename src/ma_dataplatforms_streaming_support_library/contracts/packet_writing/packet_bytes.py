"""PacketBytes: a serialized Open Data ``Packet`` envelope."""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["PacketBytes"]


@dataclass(frozen=True, slots=True)
class PacketBytes:
    data: bytes

    def __post_init__(self) -> None:
        if isinstance(self.data, (bytearray, memoryview)):
            object.__setattr__(self, "data", bytes(self.data))
        elif not isinstance(self.data, bytes):
            raise TypeError(
                f"PacketBytes.data must be bytes (Packet.SerializeToString()), "
                f"got {type(self.data).__name__}"
            )

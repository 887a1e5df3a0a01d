"""CanData: a raw CAN frame carried in the merged output when CAN data is included."""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["CanData"]


@dataclass(frozen=True, slots=True)
class CanData:
    """Mirrors ``RawCANDataPacket``; ``type`` is the protobuf ``CanType`` number."""

    timestamp: int
    bus: int = 0
    can_id: int = 0
    payload: bytes = b""
    type: int = 0

"""ReceivedPacketDto: one packet delivered by a reader, with where it came from."""

from __future__ import annotations

import datetime
from dataclasses import dataclass, field

from ..packet_writing.packet_bytes import PacketBytes

__all__ = ["ReceivedPacketDto"]


def _epoch() -> datetime.datetime:
    return datetime.datetime.fromtimestamp(0, tz=datetime.timezone.utc)


@dataclass(slots=True)
class ReceivedPacketDto:
    data_source: str
    session_key: str
    stream: str
    packet_bytes: PacketBytes
    submit_time: datetime.datetime = field(default_factory=_epoch)

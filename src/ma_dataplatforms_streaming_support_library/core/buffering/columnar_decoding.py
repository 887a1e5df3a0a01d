"""The sample reader's production decoder: one sample packet's content through columnar/."""

from __future__ import annotations

from collections.abc import Sequence

from ...columnar import decode_periodic, decode_row, decode_synchro
from ...columnar.model import PeriodicPacketArrays, RowPacketArrays, SynchroPacketArrays
from .packet_decoding import DecodedSamples

__all__ = ["decode_sample_packet"]


def decode_sample_packet(packet_type: str, content: bytes) -> list[DecodedSamples]:
    """A ``PeriodicData``/``RowData``/``SynchroData`` content as parameters x time blocks.

    Raises the columnar ``PacketDecodeError`` for a packet it cannot decode (the sample reader
    logs it and skips the packet).
    """
    blocks: Sequence[PeriodicPacketArrays | RowPacketArrays | SynchroPacketArrays]
    if packet_type == "PeriodicData":
        blocks = decode_periodic([content])
    elif packet_type == "RowData":
        blocks = decode_row([content])
    elif packet_type == "SynchroData":
        blocks = decode_synchro([content])
    else:
        raise ValueError(f"not a sample packet type: {packet_type!r}")
    return [
        DecodedSamples(block.data_format, block.timestamps_ns, block.values, block.status)
        for block in blocks
    ]

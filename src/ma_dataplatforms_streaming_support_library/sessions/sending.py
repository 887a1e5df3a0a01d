"""The packets of one session onto its streams: envelopes, packet ids, NewSession per stream."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator

from ..columnar import wrap_packets
from ..contracts.packet_writing.i_packet_writer_service import IPacketWriterService
from ..contracts.packet_writing.packet_bytes import PacketBytes
from ..errors import TransportError
from ..protos.packets import PacketType

__all__ = ["SessionPackets"]


class SessionPackets:
    """Wraps contents in Packet envelopes numbered from 0 and writes them through the official
    writer service; a stream's first packet is preceded by the session's NewSession packet."""

    def __init__(
        self,
        writer: IPacketWriterService,
        data_source: str,
        session_key: str,
        new_session: bytes,
    ) -> None:
        self._writer = writer
        self._data_source = data_source
        self._session_key = session_key
        self._new_session = new_session
        self._next_id = 0
        #: the streams written to so far, in order
        self.streams: list[str] = []

    def send(
        self,
        stream: str,
        packet_type: PacketType,
        contents: Iterable[bytes],
        essential: bool = False,
    ) -> int:
        """Write the contents as packets of ``packet_type``; returns how many. Raises
        ``TransportError`` naming the session, stream and type when the writer refuses one."""
        self.open(stream)
        return self._write(stream, packet_type, list(contents), essential)

    def send_packets(
        self, stream: str, packet_type: PacketType, build: Callable[[int], Iterable[bytes]]
    ) -> int:
        """Write packets that come in their envelopes already: ``build(first_id)`` makes them,
        numbered from ``first_id``, for this session, each written as soon as it is made.
        Returns how many."""
        self.open(stream)
        return self._put(stream, packet_type, self._numbered(build(self._next_id)))

    def _numbered(self, packets: Iterable[bytes]) -> Iterator[bytes]:
        """``packets``, counting each one's id as taken when it is made (also when writing it
        then fails, so that no id is ever used twice)."""
        for packet in packets:
            self._next_id += 1
            yield packet

    def open(self, stream: str) -> None:
        """Write the NewSession packet to ``stream`` unless it has one already."""
        if stream not in self.streams:
            self.streams.append(stream)
            self._write(stream, PacketType.NEW_SESSION, [self._new_session], False)

    def _write(
        self, stream: str, packet_type: PacketType, contents: list[bytes], essential: bool
    ) -> int:
        ids = range(self._next_id, self._next_id + len(contents))
        self._next_id += len(contents)
        packets = wrap_packets(
            contents,
            packet_type.value,
            session_key=self._session_key,
            is_essential=essential,
            ids=ids,
        )
        return self._put(stream, packet_type, packets)

    def _put(self, stream: str, packet_type: PacketType, packets: Iterable[bytes]) -> int:
        write = self._writer.write_data
        written = 0
        for packet in packets:
            result = write(self._data_source, stream, self._session_key, PacketBytes(packet))
            if not result.success:
                raise TransportError(
                    f"session {self._session_key}: writing a {packet_type.value} packet to "
                    f"stream {stream!r} failed: {result.error_message}"
                )
            written += 1
        return written

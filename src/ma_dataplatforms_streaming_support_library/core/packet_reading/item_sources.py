"""Where the iterators' items come from: a packet reader's packets, a sample reader's windows.

A source sets the iterator's handler on the reader, starts the services that are not started
yet (it then owns them and stops them at the end), says when nothing more will come, and reports
the error that stopped the reader's thread.
"""

from __future__ import annotations

import abc
import threading
from collections.abc import Callable
from typing import Any, Generic, TypeVar

from ...contracts.buffering.i_sample_reader_service import ISampleReaderService
from ...contracts.buffering.sample_data import SampleData
from ...contracts.buffering.timestamp_data import TimestampData
from ...contracts.packet_reading.i_packet_reader_service import IPacketReaderService
from ...contracts.packet_reading.received_packet_dto import ReceivedPacketDto
from ...contracts.shared.i_handler import IHandler
from ...errors import ConfigurationError, StreamingError

__all__ = ["Forwarder", "ItemSource", "PacketSource", "WindowSource"]

T = TypeVar("T")


class Forwarder(IHandler[Any]):
    """The handler set on a reader: hands each object to the channel (waiting for room)."""

    def __init__(self, offer: Callable[[Any], bool]) -> None:
        self._offer = offer

    def handle(self, obj: Any) -> None:
        self._offer(obj)


class ItemSource(abc.ABC, Generic[T]):
    """What an iterator reads from: attaches a handler, says when it is done, detaches."""

    @abc.abstractmethod
    def attach(self, handler: IHandler[Any]) -> None:
        """Set ``handler`` and start the services that are not started yet (they become owned)."""

    @abc.abstractmethod
    def finished(self) -> bool:
        """True once nothing more will be delivered."""

    @abc.abstractmethod
    def alive(self) -> bool:
        """False once the services are stopping: a delivery waiting for room then gives up."""

    @abc.abstractmethod
    def detach(self) -> None:
        """Remove the handler and stop the owned services (raising what stopping raises)."""

    @abc.abstractmethod
    def failure(self) -> BaseException | None:
        """The error that stopped the reader's thread, if any."""


def _reader_finished(reader: IPacketReaderService) -> bool:
    finished = getattr(reader, "finished", None)
    if isinstance(finished, threading.Event):
        return finished.is_set()
    return not reader.is_started


def _reader_failure(reader: IPacketReaderService) -> BaseException | None:
    failure = getattr(reader, "failure", None)
    return failure if isinstance(failure, BaseException) else None


def _start_owned(service: Any, what: str) -> bool:
    """Start ``service`` if it is not started; True if this call started it."""
    if service.is_started:
        return False
    service.start()
    if not service.is_started:
        raise StreamingError(f"the {what} has been stopped; create a new one to iterate")
    return True


class PacketSource(ItemSource[ReceivedPacketDto]):
    """The packets of one packet reader."""

    def __init__(self, reader: IPacketReaderService) -> None:
        self.reader = reader
        self._handler: IHandler[Any] | None = None
        self._owned = False

    def attach(self, handler: IHandler[Any]) -> None:
        self._handler = handler
        self.reader.set_handler(handler)
        self._owned = _start_owned(self.reader, "packet reader")

    def finished(self) -> bool:
        return _reader_finished(self.reader)

    def alive(self) -> bool:
        return self.reader.is_started

    def detach(self) -> None:
        if self._handler is not None:
            self.reader.remove_handler(self._handler)
        if self._owned:
            self.reader.stop()

    def failure(self) -> BaseException | None:
        return _reader_failure(self.reader)


class WindowSource(ItemSource[Any]):
    """The windows a sample reader releases (``TimestampData`` or ``SampleData``, with the
    ``Start…``/``End…`` items), fed by ``packet_reader`` (already given to
    ``set_reader_service``). The sample reader starts before the packet reader, as it must."""

    def __init__(
        self,
        sample_reader: ISampleReaderService,
        packet_reader: IPacketReaderService,
        data_type: type = TimestampData,
    ) -> None:
        if not (isinstance(data_type, type) and issubclass(data_type, (TimestampData, SampleData))):
            raise ConfigurationError(
                f"data_type must be TimestampData or SampleData, got {data_type!r}"
            )
        self.sample_reader = sample_reader
        self.packet_reader = packet_reader
        self.data_type = data_type
        self._handler: IHandler[Any] | None = None
        self._owned: list[Any] = []

    def attach(self, handler: IHandler[Any]) -> None:
        self._handler = handler
        self.sample_reader.set_handler(handler, self.data_type)
        if _start_owned(self.sample_reader, "sample reader"):
            self._owned.append(self.sample_reader)
        if _start_owned(self.packet_reader, "packet reader"):
            self._owned.insert(0, self.packet_reader)

    def finished(self) -> bool:
        return _reader_finished(self.packet_reader)

    def alive(self) -> bool:
        return self.sample_reader.is_started and self.packet_reader.is_started

    def detach(self) -> None:
        if self._handler is not None:
            self.sample_reader.remove_handler(self._handler)
        # The packet reader first (no more input), then the sample reader (releases the rest).
        owned, self._owned = self._owned, []
        for service in owned:
            service.stop()

    def failure(self) -> BaseException | None:
        return _reader_failure(self.packet_reader)

"""IHandler[T]: the callback interface a reader delivers objects to."""

from __future__ import annotations

import abc
from typing import Generic, TypeVar

__all__ = ["IHandler"]

T = TypeVar("T")


class IHandler(abc.ABC, Generic[T]):
    """Subclass as ``IHandler[ReceivedPacketDto]`` and implement ``handle``; no ``__init__`` needed."""

    @abc.abstractmethod
    def handle(self, obj: T) -> None:
        """Called on the reader's delivery thread with each object, in order."""

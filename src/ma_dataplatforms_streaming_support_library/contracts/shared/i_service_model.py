"""IServiceModel: the create → initialise → start → stop lifecycle every service follows."""

from __future__ import annotations

import abc
import uuid

__all__ = ["IServiceModel"]


class IServiceModel(abc.ABC):
    """A service's lifecycle: ``initialise``, ``start``, ``stop``, with events for each."""

    @abc.abstractmethod
    def initialise(self) -> None: ...

    @abc.abstractmethod
    def start(self) -> None: ...

    @abc.abstractmethod
    def stop(self) -> None: ...

    @property
    @abc.abstractmethod
    def is_initialised(self) -> bool: ...

    @property
    @abc.abstractmethod
    def is_started(self) -> bool: ...

    @property
    @abc.abstractmethod
    def id(self) -> uuid.UUID: ...

"""ISupportLibApi: the support library object; it hands out the module APIs."""

from __future__ import annotations

import abc
from typing import Any

__all__ = ["ISupportLibApi"]


class ISupportLibApi(abc.ABC):
    """The support library: its lifecycle and the module APIs that create its services."""

    @abc.abstractmethod
    def initialise(self) -> None: ...

    @abc.abstractmethod
    def start(self) -> None: ...

    @abc.abstractmethod
    def stop(self) -> None: ...

    @property
    @abc.abstractmethod
    def is_initialised(self) -> bool: ...

    @abc.abstractmethod
    def get_session_manager_api(self) -> Any: ...

    @abc.abstractmethod
    def get_data_format_manager_api(self) -> Any: ...

    @abc.abstractmethod
    def get_writing_packet_api(self) -> Any: ...

    @abc.abstractmethod
    def get_reading_packet_api(self) -> Any: ...

    @abc.abstractmethod
    def get_sample_reader_api(self) -> Any: ...

    @abc.abstractmethod
    def get_data_reader_api(self) -> Any: ...

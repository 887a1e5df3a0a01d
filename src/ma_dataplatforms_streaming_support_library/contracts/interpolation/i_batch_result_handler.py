"""IBatchResultHandler: receives the batches of one data reader subscription."""

from __future__ import annotations

import abc

from .batch_result import BatchResult

__all__ = ["IBatchResultHandler"]


class IBatchResultHandler(abc.ABC):
    """Receives the interpolation results of one subscription, a batch per delivery."""

    @abc.abstractmethod
    def handle(self, result: BatchResult) -> None:
        """Called on a data reader thread with each batch, in time order per session."""

"""ISubscriptionProcessor: a custom computation run on every grid cell of every parameter."""

from __future__ import annotations

import abc

from .i_process_result import IProcessResult
from .process_context import ProcessContext

__all__ = ["ISubscriptionProcessor"]


class ISubscriptionProcessor(abc.ABC):
    """Called once per parameter per cell, in time order; may keep state between calls."""

    @abc.abstractmethod
    def process(self, context: ProcessContext) -> IProcessResult: ...

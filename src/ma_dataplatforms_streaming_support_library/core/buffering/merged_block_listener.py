"""MergedBlockListener: the array-level feed of a sample reader (what the data reader uses)."""

from __future__ import annotations

import abc

from ...contracts.session_management.session_info import SessionInfo
from .merged_block import MergedBlock

__all__ = ["MergedBlockListener"]


class MergedBlockListener(abc.ABC):
    """Receives every release of a sample reader as arrays, in order, per session.

    Blocks carry the subscribed parameters by number (``SampleReaderService.parameter_registry``);
    a block without data still tells that time has advanced. The last block of a session has
    ``final`` set; ``on_session_completed`` follows it (also for a session without any data).
    """

    def on_session_started(self, session: SessionInfo) -> None:  # noqa: B027 - optional hook
        """Merging of ``session`` begins."""

    @abc.abstractmethod
    def on_merged_block(self, session: SessionInfo, block: MergedBlock) -> None: ...

    def on_session_completed(self, session: SessionInfo) -> None:  # noqa: B027 - optional hook
        """Merging of ``session`` is over; nothing more will come for it."""

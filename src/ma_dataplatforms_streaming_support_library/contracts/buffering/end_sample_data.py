"""EndSampleData: the last item a SampleData handler receives for a session."""

from __future__ import annotations

from .sample_data import SampleData

__all__ = ["EndSampleData"]


class EndSampleData(SampleData):
    """Marks the end of a session's merged data; carries no values."""

    __slots__ = ()

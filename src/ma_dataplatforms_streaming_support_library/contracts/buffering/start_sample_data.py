"""StartSampleData: the first item a SampleData handler receives for a session."""

from __future__ import annotations

from .sample_data import SampleData

__all__ = ["StartSampleData"]


class StartSampleData(SampleData):
    """Marks the start of a session's merged data; carries no values."""

    __slots__ = ()

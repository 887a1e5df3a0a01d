"""StreamCreationStrategy: how streams map onto Kafka topics and partitions."""

from __future__ import annotations

import enum

__all__ = ["StreamCreationStrategy"]


class StreamCreationStrategy(enum.IntEnum):
    """Numeric values as the C# enum; ``STREAM_BASE`` is an alias of ``PARTITION_BASE``."""

    PARTITION_BASE = 1
    TOPIC_BASE = 2
    STREAM_BASE = 1

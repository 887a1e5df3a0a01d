"""Many serialized messages in one zero-padded buffer, and the array helpers every codec shares."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

from ..arrays import I64Array, U8Array

__all__ = [
    "PAD",
    "ContentBatch",
    "ContentsLike",
    "I64Array",
    "U8Array",
    "as_content_batch",
    "concat_ranges",
    "unaligned_view",
]


# Zero bytes after the last message: fixed-width gathers (up to 16 bytes past a record start, or a
# 10-byte varint) never leave the buffer, so no read needs a bounds check of its own.
PAD = 32


@dataclass(frozen=True, eq=False)
class ContentBatch:
    """Many serialized messages held as ``buffer[starts[i]:ends[i]]`` of one zero-padded buffer."""

    buffer: bytes
    starts: I64Array
    ends: I64Array

    def __post_init__(self) -> None:
        if self.starts.shape != self.ends.shape or self.starts.ndim != 1:
            raise ValueError("starts and ends must be 1-D arrays of the same length")
        if self.starts.size and (self.starts.min() < 0 or np.any(self.ends < self.starts)):
            raise ValueError("every span needs 0 <= start <= end")
        limit = int(self.ends.max()) if self.ends.size else 0
        if len(self.buffer) < limit + PAD:
            raise ValueError(f"buffer must extend at least {PAD} bytes past the last message")

    @classmethod
    def from_messages(cls, messages: Sequence[bytes | bytearray | memoryview]) -> ContentBatch:
        """Concatenate serialized messages (one copy, in C) into a batch."""
        lengths = np.fromiter(map(len, messages), dtype=np.int64, count=len(messages))
        ends = np.cumsum(lengths)
        buffer = b"".join([*messages, bytes(PAD)])
        return cls(buffer, ends - lengths, ends)

    def __len__(self) -> int:
        return int(self.starts.size)

    @property
    def array(self) -> U8Array:
        return np.frombuffer(self.buffer, dtype=np.uint8)

    def message(self, index: int) -> bytes:
        return self.buffer[int(self.starts[index]) : int(self.ends[index])]

    def take(self, indices: npt.ArrayLike) -> ContentBatch:
        """A batch of some of the messages, sharing this buffer."""
        idx = np.asarray(indices, dtype=np.int64)
        return ContentBatch(self.buffer, self.starts[idx], self.ends[idx])


ContentsLike = ContentBatch | Sequence[bytes | bytearray | memoryview]


def as_content_batch(contents: ContentsLike) -> ContentBatch:
    if isinstance(contents, ContentBatch):
        return contents
    return ContentBatch.from_messages(contents)


def unaligned_view(buffer: bytes | U8Array, dtype: npt.DTypeLike) -> npt.NDArray[Any]:
    """An array whose element ``i`` is the value of ``dtype`` stored at byte offset ``i``
    (writable when ``buffer`` is a writable array)."""
    dt = np.dtype(dtype)
    count = len(buffer) - dt.itemsize + 1
    view: npt.NDArray[Any] = np.ndarray((count,), dtype=dt, buffer=buffer, strides=(1,))
    return view


def concat_ranges(starts: I64Array, lengths: I64Array) -> I64Array:
    """``concatenate([arange(s, s + n) for s, n in zip(starts, lengths)])`` without the loop."""
    total = int(lengths.sum())
    if total == 0:
        return np.zeros(0, dtype=np.int64)
    before = np.cumsum(lengths) - lengths
    out: I64Array = np.arange(total, dtype=np.int64) + np.repeat(starts - before, lengths)
    return out

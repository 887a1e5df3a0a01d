"""Output files that are never half-written: written under a temporary name, renamed when complete."""

from __future__ import annotations

import contextlib
import os
from collections.abc import Callable, Iterator
from pathlib import Path

__all__ = ["staged_output"]


def _remove(path: Path) -> None:
    path.unlink(missing_ok=True)


@contextlib.contextmanager
def staged_output(path: Path, remove: Callable[[Path], None] = _remove) -> Iterator[Path]:
    """A temporary name in ``path``'s folder to write to: renamed to ``path`` when the block
    completes, removed (by ``remove``) when it raises or is interrupted, so ``path`` never holds a
    partial file. The rename is atomic on one file system."""
    partial = path.with_name(f".{path.name}.{os.getpid()}.partial")
    try:
        yield partial
        os.replace(partial, path)
    finally:
        remove(partial)

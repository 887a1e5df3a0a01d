"""Peek at sample packets: data format and time range of each, without reading its samples.

A reader asking for some parameters or a time window decodes only the packets the headers say
it needs. ``peek_headers`` runs the compiled peek when the native parser is active, else a
vectorised one; a packet either cannot read plainly is not ``known`` and must be decoded.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from ..arrays import I64Array, U8Array, U64Array
from ._batch import ContentsLike, as_content_batch
from ._parsed import FORMAT_ID, FORMAT_LIST, PacketKind
from .model import DataFormatKey, Impl
from .parsers import get_parser

__all__ = ["PacketHeaders", "peek_headers"]

_KIND_CODES = {PacketKind.PERIODIC: 0, PacketKind.SYNCHRO: 1, PacketKind.ROW: 2}


@dataclass(frozen=True, eq=False)
class PacketHeaders:
    """Per packet: whether it was read (``known``), its data format, and its sample times.

    ``first_ns`` is the first sample time; ``last_ns`` the last, or (vectorised peek of periodic
    packets) an upper bound of it. Values of packets not ``known`` are 0.
    """

    known: npt.NDArray[np.bool_]
    format_kinds: U8Array
    format_ids: U64Array
    format_lists: dict[int, tuple[str, ...]]
    first_ns: I64Array
    last_ns: I64Array

    def __len__(self) -> int:
        return int(self.known.size)

    def data_format(self, packet: int) -> DataFormatKey:
        """The packet's data format, as ``FormatBatch.data_format`` gives it."""
        kind = int(self.format_kinds[packet])
        if kind == FORMAT_ID:
            return int(self.format_ids[packet])
        if kind == FORMAT_LIST:
            return self.format_lists[packet]
        return None


def peek_headers(
    contents: ContentsLike, kind: PacketKind | str, *, impl: Impl | None = None
) -> PacketHeaders:
    """The headers of Periodic/Synchro/Row data packet contents (``kind`` is the packet type
    name, e.g. ``"PeriodicData"``, or a ``PacketKind``)."""
    batch = as_content_batch(contents)
    packet_kind = PacketKind(kind)
    if get_parser(impl).name == "native":
        from ._native._codec import peek_headers as native_peek

        known, kinds, ids, lists, first, last = native_peek(
            batch.buffer, batch.starts, batch.ends, _KIND_CODES[packet_kind]
        )
        return PacketHeaders(known, kinds, ids, lists, first, last)
    from .numpy.headers import peek_fast

    reasons, kinds, ids, lists, first, last = peek_fast(batch, packet_kind)
    known = reasons == 0
    return PacketHeaders(
        known, kinds, ids, {p: f for p, f in lists.items() if known[p]}, first, last
    )

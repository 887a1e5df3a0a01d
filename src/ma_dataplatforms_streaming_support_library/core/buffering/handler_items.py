"""Building the official TimestampData/SampleData objects from a released block, lazily."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from ...contracts.buffering.generic_value import GenericValue
from ...contracts.buffering.sample_data import SampleData
from ...contracts.buffering.sample_value import SampleValue
from ...contracts.buffering.timestamp_column import TimestampColumn
from ...contracts.buffering.timestamp_data import TimestampData
from ...contracts.buffering.timestamp_value import TimestampValue
from ...contracts.buffering.value_status import ValueStatus
from .merged_block import ExtraItem, MergedBlock
from .sample_block import SampleBlock

__all__ = ["sample_data_items", "timestamp_data_items"]

_STATUS = {int(status): status for status in ValueStatus}


def _status(code: int) -> ValueStatus:
    return _STATUS.get(code, ValueStatus.UNSPECIFIED)


def _slice_pieces(block: MergedBlock, lo: int, hi: int) -> list[SampleBlock]:
    pieces = []
    for group in block.groups:
        a, b = np.searchsorted(group.timestamps, [lo, hi]).tolist()
        if b > a:
            pieces.append(
                SampleBlock(
                    group.parameters,
                    group.timestamps[a:b],
                    group.values[:, a:b],
                    group.status[:, a:b],
                )
            )
    return pieces


def _slice_extras(block: MergedBlock, lo: int, hi: int) -> list[ExtraItem]:
    return [item for item in block.extras if lo <= item[0] < hi]


def timestamp_data_items(
    block: MergedBlock, data_source: str, session_key: str, name: Callable[[int], str]
) -> list[TimestampData]:
    """One TimestampData per slide of the block that holds data; columns built on first read."""
    items = []
    for lo, hi in block.slice_bounds():
        pieces = _slice_pieces(block, lo, hi)
        extras = _slice_extras(block, lo, hi)
        items.append(
            TimestampData.lazy(
                data_source, session_key, lo, hi, _column_builder(pieces, extras, name)
            )
        )
    return items


def _column_builder(
    pieces: list[SampleBlock], extras: list[ExtraItem], name: Callable[[int], str]
) -> Callable[[], list[TimestampColumn]]:
    def build() -> list[TimestampColumn]:
        columns: dict[int, list[SampleValue]] = {}
        if pieces:
            stamps = np.concatenate([np.tile(p.timestamps, p.parameters.size) for p in pieces])
            numbers = np.concatenate([np.repeat(p.parameters, p.timestamps.size) for p in pieces])
            values = np.concatenate([p.values.ravel() for p in pieces])
            status = np.concatenate([p.status.ravel() for p in pieces])
            order = np.lexsort((numbers, stamps))
            names = {n: name(n) for n in np.unique(numbers).tolist()}
            for stamp, number, value, code in zip(
                stamps[order].tolist(),
                numbers[order].tolist(),
                values[order].tolist(),
                status[order].tolist(),
                strict=True,
            ):
                column = columns.get(stamp)
                if column is None:
                    column = columns[stamp] = []
                column.append(SampleValue(names[number], GenericValue(value), _status(code)))
        for stamp, identifier, value in extras:
            columns.setdefault(stamp, []).append(
                SampleValue(identifier, GenericValue(value), ValueStatus.VALID)
            )
        return [TimestampColumn(stamp, columns[stamp]) for stamp in sorted(columns)]

    return build


def sample_data_items(
    block: MergedBlock, data_source: str, session_key: str, name: Callable[[int], str]
) -> list[SampleData]:
    """Per slide of the block, one SampleData per parameter (then per extra identifier) with
    values in it; parameters in subscription order; values built on first read."""
    items = []
    for lo, hi in block.slice_bounds():
        rows = [
            (int(number), piece.timestamps, piece.values[row], piece.status[row])
            for piece in _slice_pieces(block, lo, hi)
            for row, number in enumerate(piece.parameters.tolist())
        ]
        rows.sort(key=lambda item: item[0])
        for number, stamps, values, status in rows:
            items.append(
                SampleData.lazy(
                    data_source,
                    session_key,
                    lo,
                    hi,
                    name(number),
                    _value_builder(stamps, values, status),
                )
            )
        by_identifier: dict[str, list[TimestampValue]] = {}
        for stamp, identifier, value in _slice_extras(block, lo, hi):
            by_identifier.setdefault(identifier, []).append(
                TimestampValue(stamp, GenericValue(value), ValueStatus.VALID)
            )
        for identifier, extra_values in by_identifier.items():
            items.append(SampleData(data_source, session_key, lo, hi, identifier, extra_values))
    return items


def _value_builder(
    stamps: np.ndarray, values: np.ndarray, status: np.ndarray
) -> Callable[[], list[TimestampValue]]:
    def build() -> list[TimestampValue]:
        return [
            TimestampValue(stamp, GenericValue(value), _status(code))
            for stamp, value, code in zip(
                stamps.tolist(), values.tolist(), status.tolist(), strict=True
            )
        ]

    return build

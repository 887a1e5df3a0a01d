"""Merging of buffered sample blocks into one time-ordered series per parameter."""

from __future__ import annotations

from collections.abc import Sequence
from itertools import pairwise

import numpy as np

from .sample_block import SampleBlock, concatenate_blocks, last_of_runs_order

__all__ = ["merge_blocks"]


def merge_blocks(parts: Sequence[SampleBlock]) -> list[SampleBlock]:
    """Merge blocks given in arrival order into groups where every parameter appears once.

    Each output group has strictly ascending timestamps. A parameter seen twice at the same
    timestamp keeps the value that arrived last. Blocks carrying the same
    parameter set (one stream's packets) are joined along time without copying per parameter;
    a parameter carried by blocks of different parameter sets (two streams, or a re-sent subset)
    is merged on its own.
    """
    if not parts:
        return []
    by_signature: dict[bytes, list[SampleBlock]] = {}
    for part in parts:
        by_signature.setdefault(part.parameters.tobytes(), []).append(part)
    groups = [_merge_same_parameters(same) for same in by_signature.values()]
    if len(groups) == 1:
        return groups
    all_parameters = np.concatenate([group.parameters for group in groups])
    unique, counts = np.unique(all_parameters, return_counts=True)
    if unique.size == all_parameters.size:
        return groups
    shared = unique[counts > 1]
    result: list[SampleBlock] = []
    for group in groups:
        rest = group.take_rows(~np.isin(group.parameters, shared))
        if rest is not None:
            result.append(rest)
    result.extend(_merge_one_parameter(parts, int(parameter)) for parameter in shared)
    return result


def _merge_same_parameters(parts: list[SampleBlock]) -> SampleBlock:
    in_order = all(
        int(later.timestamps[0]) > int(earlier.timestamps[-1]) for earlier, later in pairwise(parts)
    )
    joined = concatenate_blocks(parts)
    if in_order:
        return joined
    keep = last_of_runs_order(joined.timestamps)
    return SampleBlock(
        joined.parameters,
        joined.timestamps[keep],
        joined.values[:, keep],
        joined.status[:, keep],
    )


def _merge_one_parameter(parts: Sequence[SampleBlock], parameter: int) -> SampleBlock:
    stamps, values, status = [], [], []
    for part in parts:
        row = int(np.searchsorted(part.parameters, parameter))
        if row < part.parameters.size and int(part.parameters[row]) == parameter:
            stamps.append(part.timestamps)
            values.append(part.values[row])
            status.append(part.status[row])
    all_stamps = np.concatenate(stamps)
    keep = last_of_runs_order(all_stamps)
    return SampleBlock(
        np.array([parameter], dtype=np.int32),
        all_stamps[keep],
        np.concatenate(values)[keep][np.newaxis, :],
        np.concatenate(status)[keep][np.newaxis, :],
    )

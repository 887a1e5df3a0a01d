"""Interpolation contract types: constructors as the official API names them, results, batches."""

from __future__ import annotations

import importlib

import pytest

from ma_dataplatforms_streaming_support_library.contracts import interpolation
from ma_dataplatforms_streaming_support_library.contracts.interpolation import (
    BatchResult,
    DataPoint,
    DefaultResult,
    IBatchResultHandler,
    IProcessResult,
    ISubscriptionProcessor,
    ProcessContext,
    ProcessResult,
)


def test_every_public_class_has_its_own_module() -> None:
    for name in interpolation.__all__:
        module_name = "".join(f"_{c.lower()}" if c.isupper() else c for c in name).lstrip("_")
        module = importlib.import_module(f"{interpolation.__name__}.{module_name}")
        assert getattr(module, name) is getattr(interpolation, name)


def test_default_result_constructors() -> None:
    full = DefaultResult(
        "p", start=0, end=10, first=1.0, last=2.0, min=1.0, max=2.0, mean=1.5, count=2
    )
    assert (full.interval_start_time_nano, full.interval_end_time_nano) == (0, 10)
    assert not full.is_super_sampled and full.missing_count == 0
    held = DefaultResult.super_sampled("p", 10, 20, 2)
    assert (held.first, held.last, held.min, held.max, held.mean, held.count) == (2.0,) * 5 + (0,)
    assert held.is_super_sampled
    empty = DefaultResult.empty("p", 20, 30)
    assert (empty.first, empty.mean, empty.count, empty.is_super_sampled) == (None, None, 0, False)
    assert isinstance(empty, ProcessResult) and isinstance(empty, IProcessResult)
    assert DefaultResult("p", 0, 1) == DefaultResult("p", 0, 1) != DefaultResult("p", 0, 2)
    assert "interval_start_time_nano=20" in repr(empty)


def test_process_result_and_context() -> None:
    result = ProcessResult("p", 5, 6)
    assert (result.identifier, result.interval_start_time_nano, result.interval_end_time_nano) == (
        "p",
        5,
        6,
    )
    point = DataPoint("p", 5, 1.5)
    context = ProcessContext("p", 0, 10, [point])
    assert context.interval_data_points[0].timestamp_nanoseconds == 5
    assert ProcessContext("p", 0, 10).interval_data_points == []


def test_batch_result_attributes_and_lazy_results() -> None:
    calls = []

    def build() -> list[IProcessResult]:
        calls.append(1)
        return [ProcessResult("p", 0, 10)]

    batch = BatchResult.lazy("Default", "key", "sub", 0, 10, build)
    assert (batch.data_source, batch.session_key, batch.subscription_key) == (
        "Default",
        "key",
        "sub",
    )
    assert (batch.delivery_interval_start_time_nano, batch.delivery_interval_end_time_nano) == (
        0,
        10,
    )
    assert calls == [] and len(batch.results) == 1 and len(batch.results) == 1 and calls == [1]
    plain = BatchResult("Default", "key", "sub", 0, 10, [])
    assert plain.results == [] and "results=0" in repr(plain)


def test_interfaces_are_abstract() -> None:
    with pytest.raises(TypeError):
        IBatchResultHandler()  # type: ignore[abstract]
    with pytest.raises(TypeError):
        ISubscriptionProcessor()  # type: ignore[abstract]

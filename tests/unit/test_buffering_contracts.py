"""Buffering contract types: values, casts, lazily built items, import paths."""

from __future__ import annotations

import importlib

import pytest

from ma_dataplatforms_streaming_support_library.contracts import buffering
from ma_dataplatforms_streaming_support_library.contracts.buffering import (
    EndTimestampData,
    GenericValue,
    MarkerData,
    SampleData,
    SampleValue,
    StartSampleData,
    TimestampColumn,
    TimestampData,
    TimestampValue,
    ValueStatus,
)


def test_every_public_class_has_its_own_module() -> None:
    for name in buffering.__all__:
        module_name = "".join(f"_{c.lower()}" if c.isupper() else c for c in name).lstrip("_")
        module = importlib.import_module(f"{buffering.__name__}.{module_name}")
        assert getattr(module, name) is getattr(buffering, name)


def test_value_status_mirrors_data_status() -> None:
    assert [int(s) for s in ValueStatus] == [0, 1, 2, 3]
    assert ValueStatus.VALID.name == "VALID"


def test_generic_value_casts() -> None:
    value = GenericValue(2.5)
    assert value.value_type is float
    assert value.cast(float) == 2.5 and value.cast(int) == 2 and value.cast(str) is None
    marker = GenericValue(MarkerData(1, 2, "Lap"))
    assert marker.cast(MarkerData) == MarkerData(1, 2, "Lap") and marker.cast(float) is None
    assert GenericValue(1.0) == GenericValue(1.0) and GenericValue(1.0) != GenericValue(2.0)


def test_sample_and_timestamp_values_delegate_to_the_generic_value() -> None:
    sample = SampleValue("vCar", GenericValue(3.0), ValueStatus.MISSING)
    assert (sample.value_type, sample.cast(float), sample.status) == (
        float,
        3.0,
        ValueStatus.MISSING,
    )
    stamped = TimestampValue(10, GenericValue("on"))
    assert (stamped.value_type, stamped.cast(str), stamped.status) == (str, "on", ValueStatus.VALID)


def test_timestamp_data_builds_its_columns_once_and_on_demand() -> None:
    calls = []

    def build() -> list[TimestampColumn]:
        calls.append(1)
        return [TimestampColumn(5, [SampleValue("a", GenericValue(1.0))])]

    data = TimestampData.lazy("Default", "key", 0, 10, build)
    assert calls == []
    assert data.timestamp == 0 and data.end_time == 10
    assert [c.timestamp for c in data.time_columns] == [5]
    assert [c.timestamp for c in data.time_columns] == [5]
    assert calls == [1]
    data.time_columns = []
    assert data.time_columns == []
    assert "columns=0" in repr(data)


def test_sample_data_and_markers_of_the_session_bounds() -> None:
    data = SampleData.lazy(
        "Default", "key", 0, 10, "a", lambda: [TimestampValue(1, GenericValue(2.0))]
    )
    assert data.identifier == "a" and [v.timestamp for v in data.values] == [1]
    start = StartSampleData("Default", "key")
    assert isinstance(start, SampleData) and start.values == []
    end = EndTimestampData("Default", "key", 0, 10)
    assert isinstance(end, TimestampData) and end.time_columns == []
    with pytest.raises(AttributeError):
        start.unknown = 1  # type: ignore[attr-defined]

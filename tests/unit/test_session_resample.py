"""Resampling an ended session over whole arrays gives the interpolation pipeline's table."""

from __future__ import annotations

import math
from collections.abc import Iterator
from typing import Any

import numpy as np
import pytest
from test_session_data import ERROR, MISSING, MS, T0, VALID, Writer

from ma_dataplatforms_streaming_support_library.columnar import IMPL_ENVIRONMENT_VARIABLE
from ma_dataplatforms_streaming_support_library.errors import ConfigurationError
from ma_dataplatforms_streaming_support_library.sessions import SessionStore, resample
from ma_dataplatforms_streaming_support_library.sessions.resample import _stacked
from ma_dataplatforms_streaming_support_library.sessions.scan import find_session
from ma_dataplatforms_streaming_support_library.sessions.store import SessionStore as Store
from ma_dataplatforms_streaming_support_library.transport import BROKER_ENVIRONMENT_VARIABLE

PARAMETERS = ["speed:R", "rpm:R", "gear:R", "never:R", "lat:R"]


@pytest.fixture
def broker(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> str:
    monkeypatch.delenv(BROKER_ENVIRONMENT_VARIABLE, raising=False)
    monkeypatch.delenv(IMPL_ENVIRONMENT_VARIABLE, raising=False)
    return f"memory:{request.node.nodeid}"


@pytest.fixture
def ended(broker: str) -> Iterator[str]:
    """Three parameters sharing packets, one in packets of its own on another stream starting
    later, gaps of empty buckets, every status and NaN values; ``never:R`` has no sample."""
    writer = Writer(broker)
    rng = np.random.default_rng(3)
    statuses = [VALID] * 6 + [MISSING, ERROR, 0]
    try:
        key = writer.new_session("resample")
        shared = writer.format_id(PARAMETERS[:3])
        for k in range(40):
            if k % 9 in (4, 5):  # gaps: buckets without samples
                continue
            columns = [
                [
                    (
                        math.nan if rng.random() < 0.05 else float(rng.normal()),
                        int(rng.choice(statuses)),
                    )
                    for _ in range(10)
                ]
                for _ in range(3)
            ]
            writer.periodic(key, "", shared, T0 + 3 + k * 40 * MS, 4 * MS, columns)
            if k > 6 and k % 3:
                lateral = [[(float(k + j), VALID) for j in range(4)]]
                writer.periodic(key, "Chassis", ["lat:R"], T0 + k * 40 * MS + 7, 9 * MS, lateral)
        writer.end(key)
        writer.flush()
        yield key
    finally:
        writer.close()


def _pipeline(broker: str, key: str, parameters: list[str], hz: float) -> dict[str, Any]:
    with Store(broker) as store:
        context = store._context
        record = find_session(context, key)
        buffering = resample.BufferingConfiguration(parameters, resample.DEFAULT_WINDOW_MS, 5)
        table, late = resample._resample_live(context, record, buffering, parameters, hz, None)
    assert late == 0
    return table


@pytest.mark.parametrize("hz", [100.0, 33.0, 7.5, 1.0])
@pytest.mark.parametrize("parameters", [PARAMETERS, ["lat:R", "rpm:R"], ["never:R"]])
def test_the_vectorised_table_equals_the_pipelines(
    ended: str, broker: str, hz: float, parameters: list[str]
) -> None:
    with SessionStore(broker) as store:
        table, late = store.resample(ended, parameters, hz)
    expected = _pipeline(broker, ended, parameters, hz)

    assert late == 0
    assert sorted(table) == sorted(expected)
    for name, column in expected.items():
        np.testing.assert_array_equal(table[name], column, err_msg=name)  # NaN equals NaN
        assert table[name].dtype == column.dtype, name
    if parameters == PARAMETERS and hz > 1:  # the data exercises empty buckets and statuses
        assert bool(table["super_sampled"].any()) and int(table["missing_count"].sum()) > 0


@pytest.fixture
def all_valid(broker: str) -> Iterator[str]:
    """Every sample VALID (the plain reductions), a NaN value in some buckets of one parameter,
    single-sample buckets, gaps, and a parameter whose first sample comes late."""
    writer = Writer(broker)
    try:
        key = writer.new_session("all valid")
        shared = writer.format_id(PARAMETERS[:3])
        for k in range(30):
            if k % 7 == 3:
                continue
            columns = [
                [(math.nan if (k, j, row) in {(2, 1, 0), (9, 0, 0)} else k + j / 4 + row, VALID)
                 for j in range(5)]
                for row in range(3)
            ]  # fmt: skip
            writer.periodic(key, "", shared, T0 + k * 30 * MS, 6 * MS, columns)
            if k > 10:  # one sample per 30 ms
                writer.periodic(key, "Chassis", ["lat:R"], T0 + k * 30 * MS + 1, MS, [[(k, VALID)]])
        writer.end(key)
        writer.flush()
        yield key
    finally:
        writer.close()


@pytest.mark.parametrize("hz", [100.0, 33.0, 10.0])
def test_all_valid_sessions_equal_the_pipeline_too(all_valid: str, broker: str, hz: float) -> None:
    with SessionStore(broker) as store:
        table, _ = store.resample(all_valid, PARAMETERS, hz)
    expected = _pipeline(broker, all_valid, PARAMETERS, hz)
    for name, column in expected.items():
        np.testing.assert_array_equal(table[name], column, err_msg=name)
    assert int(table["nan_count"].sum()) == 2
    assert int(table["missing_count"].sum() + table["error_count"].sum()) == 0
    if hz == 100.0:  # the gaps leave buckets empty
        assert bool(table["super_sampled"].any())


def test_bad_rates_are_configuration_errors(ended: str, broker: str) -> None:
    with SessionStore(broker) as store, pytest.raises(ConfigurationError, match="hz"):
        store.resample(ended, ["rpm:R"], 0.0)


def test_rows_of_one_array_are_stacked_as_a_view_others_copied() -> None:
    group = np.arange(40.0).reshape(5, 8)
    group.flags.writeable = False
    rows = [group[1], group[2], group[3]]
    view = _stacked(rows)
    np.testing.assert_array_equal(view, np.stack(rows))
    assert np.shares_memory(view, group)
    assert not view.flags.writeable
    uneven = [group[0], group[1], group[3]]
    copied = _stacked(uneven)
    np.testing.assert_array_equal(copied, np.stack(uneven))
    assert not np.shares_memory(copied, group)
    backwards = [group[3], group[1]]
    np.testing.assert_array_equal(_stacked(backwards), np.stack(backwards))

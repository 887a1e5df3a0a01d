"""BufferingConfiguration: defaults, resolved values and argument validation."""

from __future__ import annotations

import math

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ma_dataplatforms_streaming_support_library.contracts.buffering import (
    BufferingConfiguration,
    MergeStrategy,
)


def test_defaults_are_resolved() -> None:
    configuration = BufferingConfiguration()
    configuration.validate()
    assert configuration.subscribed_parameters is None
    assert configuration.buffering_window_length == 3000
    assert configuration.sliding_window_percentage == 5
    assert configuration.merge_strategy is MergeStrategy.READING_MERGE
    assert not any(
        (
            configuration.include_marker_data,
            configuration.include_event_data,
            configuration.include_error_data,
            configuration.include_can_data,
        )
    )
    assert configuration.slide_length_ns == 150_000_000
    assert configuration.window_length_ns == 3_000_000_000


@pytest.mark.parametrize(
    "window, percentage, slide_ms",
    [(3000, 5, 150), (5000, 10, 500), (3000, 10, 300), (20000, 5, 1000), (3000, 100, 3000)],
)
def test_documented_slides(window: int, percentage: int, slide_ms: int) -> None:
    assert BufferingConfiguration(None, window, percentage).slide_length_ns == slide_ms * 1_000_000


def test_positional_order() -> None:
    configuration = BufferingConfiguration(
        ["a"], 1000, 20, MergeStrategy.WRITING_MERGE, True, None, True
    )
    assert configuration.subscribed_parameters == ["a"]
    assert configuration.merge_strategy is MergeStrategy.WRITING_MERGE
    assert configuration.include_marker_data and configuration.include_error_data
    assert not configuration.include_event_data


@pytest.mark.parametrize("window", [0, -1, math.nan, math.inf, True, "3000"])
def test_bad_window_length(window: object) -> None:
    configuration = BufferingConfiguration(None, window)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="buffering_window_length"):
        configuration.validate()


@given(
    st.one_of(st.floats(max_value=0), st.floats(min_value=100, exclude_min=True), st.just(math.nan))
)
def test_bad_sliding_percentage(percentage: float) -> None:
    with pytest.raises(ValueError, match="sliding_window_percentage"):
        BufferingConfiguration(None, 3000, percentage).validate()


@given(st.floats(min_value=0, max_value=100, exclude_min=True))
def test_good_sliding_percentage(percentage: float) -> None:
    configuration = BufferingConfiguration(None, 3000, percentage)
    configuration.validate()
    assert configuration.slide_length_ns >= 1


def test_bad_parameter_list_and_strategy() -> None:
    with pytest.raises(ValueError, match="subscribed_parameters"):
        BufferingConfiguration("vCar").validate()  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="subscribed_parameters"):
        BufferingConfiguration([1]).validate()  # type: ignore[list-item]
    with pytest.raises(ValueError, match="merge_strategy"):
        BufferingConfiguration(None, 3000, 5, 7).validate()  # type: ignore[arg-type]
    BufferingConfiguration(None, 3000, 5, 0).validate()  # the enum's value is accepted


def test_empty_list_subscribes_nothing_none_subscribes_all() -> None:
    assert BufferingConfiguration([]).subscribed_parameters == []
    assert BufferingConfiguration(None).subscribed_parameters is None

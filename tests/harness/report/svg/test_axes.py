"""Tick choice and y scales: round values, 1-2-5 per decade on a log axis, log only when needed."""

from __future__ import annotations

import pytest

from harness.report.svg.axes import Scale, log_ticks, nice_ticks, y_scale


@pytest.mark.parametrize(
    ("lo", "hi", "want"),
    [
        (0.0, 10.0, [0.0, 2.0, 4.0, 6.0, 8.0, 10.0]),
        (0.0, 1.0, [0.0, 0.2, 0.4, 0.6, 0.8, 1.0]),
        (3.0, 7.0, [3.0, 4.0, 5.0, 6.0, 7.0]),
        (5.0, 5.0, [5.0, 5.2, 5.4, 5.6, 5.8, 6.0]),  # an empty range widens to one unit
    ],
)
def test_nice_ticks_are_round_steps_covering_the_range(lo: float, hi: float, want: list[float]) -> None:
    assert nice_ticks(lo, hi) == want


def test_log_ticks_are_1_2_5_per_decade_and_only_powers_of_ten_over_many_decades() -> None:
    assert log_ticks(1.0, 100.0) == [1.0, 2.0, 5.0, 10.0, 20.0, 50.0, 100.0]
    assert log_ticks(1.0, 1e6) == [1.0, 10.0, 100.0, 1000.0, 10000.0, 100000.0, 1000000.0]


def test_y_scale_is_linear_from_zero_to_a_round_value_above_the_highest_point() -> None:
    ys = y_scale([10.0, 95.0], top=0.0, bottom=100.0, log=None)
    assert (ys.lo, ys.log) == (0.0, False)
    assert ys.hi == 100.0
    assert ys(0.0) == 100.0
    assert ys(ys.hi) == 0.0


def test_y_scale_turns_logarithmic_when_values_span_more_than_50_times() -> None:
    ys = y_scale([3.0, 400.0], top=0.0, bottom=100.0, log=None)
    assert (ys.lo, ys.hi, ys.log) == (2.0, 500.0, True)
    assert y_scale([3.0, 400.0], top=0.0, bottom=100.0, log=False).log is False


def test_a_log_scale_puts_values_below_its_floor_on_the_floor() -> None:
    ys = Scale(1.0, 100.0, 0.0, 200.0, log=True)
    assert ys(10.0) == pytest.approx(100.0)
    assert ys(0.0) == ys(1.0) == 0.0

"""Integers and numbers within a schema's bounds, in every spelling of the bounds."""

from __future__ import annotations

import random
from decimal import Decimal
from typing import Any

import jsonschema
import pytest

from fakeprovider.generation.schema.numbers import integer_value, number_value

SEEDS = range(200)


@pytest.mark.parametrize(
    "schema",
    [
        {"exclusiveMinimum": 5, "exclusiveMaximum": 9},  # draft 6+
        {"minimum": 5, "exclusiveMinimum": True, "maximum": 9, "exclusiveMaximum": True},  # draft 4
    ],
)
def test_integer_exclusive_bounds_leave_out_the_bounds_themselves(schema: dict[str, Any]) -> None:
    assert {integer_value(schema, random.Random(seed)) for seed in SEEDS} == {6, 7, 8}


def test_integer_multiple_of_lands_on_multiples_within_the_bounds() -> None:
    schema = {"minimum": 1, "maximum": 30, "multipleOf": 7}
    assert {integer_value(schema, random.Random(seed)) for seed in SEEDS} == {7, 14, 21, 28}


def test_integer_with_no_multiple_in_the_bounds_still_lies_within_them() -> None:
    schema = {"minimum": 1, "maximum": 5, "multipleOf": 7}
    assert {integer_value(schema, random.Random(seed)) for seed in SEEDS} <= {1, 2, 3, 4, 5}


@pytest.mark.parametrize(
    ("schema", "low", "high"),
    [
        ({}, 0, 100),
        ({"minimum": -50}, -50, 100),  # an open side spans 100, and reaches 0..100 at least
        ({"minimum": 500}, 500, 600),
        ({"maximum": -50}, -150, -50),
    ],
)
def test_an_open_bound_gets_a_span_of_a_hundred(schema: dict[str, Any], low: int, high: int) -> None:
    values = [integer_value(schema, random.Random(seed)) for seed in SEEDS]
    assert low <= min(values)
    assert max(values) <= high
    assert max(values) - min(values) > (high - low) // 2  # spread over the span, not one value


def test_number_multiple_of_respects_exclusive_bounds() -> None:
    schema = {"exclusiveMinimum": 0, "exclusiveMaximum": 1, "multipleOf": 0.25}
    assert {number_value(schema, random.Random(seed)) for seed in SEEDS} == {0.25, 0.5, 0.75}


def test_number_in_a_narrow_range_falls_back_to_its_middle() -> None:
    # Rounding to two decimals would leave (1, 1.001); the midpoint stays inside.
    schema = {"exclusiveMinimum": 1, "maximum": 1.001}
    values = {number_value(schema, random.Random(seed)) for seed in SEEDS}
    assert all(1 < v <= 1.001 for v in values)


def test_booleans_are_not_taken_for_numeric_bounds() -> None:
    # `exclusiveMaximum: true` without `maximum` is a draft 4 flag with nothing to apply to.
    schema = {"minimum": 3, "exclusiveMaximum": True}
    values = [number_value(schema, random.Random(seed)) for seed in SEEDS]
    assert all(3 <= v <= 103 for v in values)


STEPS = [0.1, 0.01, 0.25, 1e-3, 2.5, 3]
BOUNDS: list[dict[str, Any]] = [
    {"minimum": 0, "maximum": 1},
    {"exclusiveMinimum": -2.5, "exclusiveMaximum": 7.5},
    {"minimum": 10.05, "maximum": 16},
    {"minimum": -3, "exclusiveMaximum": 0},
    {},
]


@pytest.mark.parametrize("bounds", BOUNDS)
@pytest.mark.parametrize("step", STEPS)
def test_number_multiple_of_a_decimal_step_passes_jsonschema(step: float, bounds: dict[str, Any]) -> None:
    # 3 * 0.1 is 0.30000000000000004 in floats, which jsonschema finds no multiple of 0.1.
    schema = {"type": "number", "multipleOf": step, **bounds}
    validator = jsonschema.Draft202012Validator(schema)
    values = [number_value(schema, random.Random(seed)) for seed in SEEDS]
    for value in values:
        validator.validate(value)
        assert Decimal(repr(value)) % Decimal(repr(step)) == 0, value  # exact in decimal too
    assert values == [number_value(schema, random.Random(seed)) for seed in SEEDS]


@pytest.mark.parametrize("step", [0.1, 0.01, 1e-3])
def test_number_multiples_of_a_small_step_spread_over_the_range(step: float) -> None:
    values = {
        number_value({"minimum": 0, "maximum": 1, "multipleOf": step}, random.Random(seed)) for seed in SEEDS
    }
    assert len(values) > 5
    assert min(values) < 0.5 < max(values)


def test_a_multiple_the_float_test_refuses_is_passed_over_for_one_it_takes() -> None:
    # Between 0.25 and 0.45 lie 0.3 and 0.4; jsonschema takes 0.4 / 0.1 == 4.0 but not 0.3 / 0.1.
    schema = {"minimum": 0.25, "maximum": 0.45, "multipleOf": 0.1}
    assert {number_value(schema, random.Random(seed)) for seed in SEEDS} == {0.4}


def test_a_lone_multiple_the_float_test_refuses_is_still_given_exactly() -> None:
    schema = {"minimum": 0.25, "maximum": 0.35, "multipleOf": 0.1}
    assert {number_value(schema, random.Random(seed)) for seed in SEEDS} == {0.3}


def test_integer_multiple_of_a_decimal_step_is_a_multiple_of_its_numerator() -> None:
    # n is a multiple of 0.3 = 3/10 exactly when it is a multiple of 3.
    schema = {"type": "integer", "minimum": 1, "maximum": 30, "multipleOf": 0.3}
    values = {integer_value(schema, random.Random(seed)) for seed in SEEDS}
    assert values <= set(range(3, 31, 3))
    assert len(values) > 3
    for value in values:
        jsonschema.validate(value, schema)

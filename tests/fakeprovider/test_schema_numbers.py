"""Integers and numbers within a schema's bounds, in every spelling of the bounds."""

from __future__ import annotations

import random
from typing import Any

import jsonschema
import pytest

from fakeprovider.schema_numbers import integer_value, number_value

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


@pytest.mark.xfail(strict=True, raises=jsonschema.ValidationError, reason="known bug: k * 0.1 is inexact")
def test_number_multiple_of_a_decimal_step_passes_a_validator() -> None:
    # 3 * 0.1 == 0.30000000000000004, which jsonschema finds no multiple of 0.1. Kept as found
    # while the number code moved into its own module, where behaviour was to stay unchanged.
    schema = {"type": "number", "minimum": 0, "maximum": 1, "multipleOf": 0.1}
    for seed in SEEDS:
        jsonschema.validate(number_value(schema, random.Random(seed)), schema)

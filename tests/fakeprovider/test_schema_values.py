"""Values generated from a JSON Schema: valid against it, reproducible, refused with a reason."""

from __future__ import annotations

import random
from typing import Any

import jsonschema
import pytest

from fakeprovider.generation.content import ContentPools
from fakeprovider.generation.schema.values import SchemaError, ValueGenerator

POOL = ContentPools(0).get("o200k_base")

TREE: dict[str, Any] = {
    "$defs": {
        "Node": {
            "type": "object",
            "properties": {
                "name": {"type": "string", "minLength": 3, "maxLength": 12},
                "children": {"type": "array", "items": {"$ref": "#/$defs/Node"}},
                "next": {"anyOf": [{"$ref": "#/$defs/Node"}, {"type": "null"}]},
            },
            "required": ["name", "children"],
        }
    },
    "$ref": "#/$defs/Node",
}

SCHEMAS: list[dict[str, Any]] = [
    TREE,
    {"type": "array", "items": {"$ref": "#"}},  # recursion through the root
    {
        "type": "object",
        "properties": {
            "id": {"type": "string", "format": "uuid"},
            "code": {"type": "string", "pattern": "^[A-Z]{2}\\d{2}$"},
            "count": {"type": "integer", "exclusiveMinimum": 0, "maximum": 9},
            "ratio": {"type": "number", "minimum": 0, "maximum": 1, "multipleOf": 0.125},
            "kind": {"enum": ["a", "b"]},
            "fixed": {"const": 3},
            "maybe": {"type": ["string", "null"]},
            "flag": {"type": "boolean"},
        },
        "required": ["id", "code", "count", "ratio", "kind", "fixed", "maybe", "flag"],
        "additionalProperties": False,
    },
    {
        "allOf": [
            {"properties": {"a": {"type": "integer"}}, "required": ["a"]},
            {"$ref": "#/$defs/B"},
        ],
        "$defs": {"B": {"properties": {"b": {"type": "boolean"}}, "required": ["b"]}},
    },
    {"type": "object", "additionalProperties": {"type": "integer"}},
    {"type": "array", "items": {"type": "integer", "minimum": 0, "maximum": 3}, "uniqueItems": True},
    {"type": "array", "prefixItems": [{"type": "string"}, {"type": "integer"}], "items": False},
    {"oneOf": [{"type": "string"}, {"type": "integer"}]},
    {
        "type": "object",
        "properties": {
            "tag": {"type": "string", "pattern": "^(?>ab|a)c[0-9]++$"},  # atomic, possessive
            "price": {"type": "number", "exclusiveMinimum": 0, "maximum": 10, "multipleOf": 0.01},
            "whole": {"type": "integer", "minimum": -50, "maximum": 50, "multipleOf": 0.3},
        },
        "required": ["tag", "price", "whole"],
    },
]


@pytest.mark.parametrize("schema", SCHEMAS)
def test_values_are_valid_against_their_schema(schema: dict[str, Any]) -> None:
    for seed in range(40):
        jsonschema.validate(ValueGenerator(schema, POOL, random.Random(seed)).value(), schema)


def test_the_same_seed_gives_the_same_value() -> None:
    def value(seed: int) -> Any:
        return ValueGenerator(TREE, POOL, random.Random(seed)).value()

    assert value(3) == value(3)
    assert len({repr(value(seed)) for seed in range(10)}) > 1


@pytest.mark.parametrize(
    ("schema", "message"),
    [
        ({"not": {}, "anyOf": [False]}, "schema `false` admits no value"),
        ({"$ref": "https://example.com/s.json"}, "only local $ref is supported, got 'https://"),
        ({"$ref": "#/$defs/missing"}, "$ref '#/$defs/missing' does not resolve"),
        ({"type": "frobnicate"}, "unsupported type 'frobnicate'"),
        ({"type": "object", "properties": []}, "malformed schema (AttributeError"),
        ({"anyOf": []}, "malformed schema (IndexError"),
    ],
)
def test_a_schema_no_value_fits_is_refused_saying_why(schema: dict[str, Any], message: str) -> None:
    with pytest.raises(SchemaError) as info:
        ValueGenerator(schema, POOL, random.Random(0)).value()
    assert str(info.value).startswith(message)


@pytest.mark.parametrize(
    ("schema", "says"),
    [
        (
            {"type": "array", "items": {"type": "string"}, "minItems": 100_000_000},
            "minItems 100000000: more than",
        ),
        ({"type": "string", "minLength": 2_000_000_000}, "minLength 2000000000: more than the 100,000"),
        (
            {"type": "array", "minItems": 900, "items": {"type": "array", "minItems": 900, "items": {}}},
            "needs more than 10,000 values",
        ),
    ],
)
def test_a_schema_that_cannot_be_met_within_the_bounds_is_refused_naming_the_keyword(
    schema: dict[str, Any], says: str
) -> None:
    with pytest.raises(SchemaError, match=says):
        ValueGenerator(schema, POOL, random.Random(0)).value()


def test_a_huge_max_items_makes_an_array_within_the_bound() -> None:
    schema = {"type": "array", "items": {"type": "integer"}, "maxItems": 10**12}
    for seed in range(5):
        value = ValueGenerator(schema, POOL, random.Random(seed)).value()
        assert 1 <= len(value) <= 1_000
        jsonschema.validate(value, schema)

"""Gemini's `Schema` (an OpenAPI 3.0 subset) read as the JSON Schema the value generator takes.

`responseSchema` and a function's `parameters` are Gemini `Schema` objects: types in capitals
(`OBJECT`, `STRING`), `nullable: true` instead of a `null` type, integer bounds that may be
sent as strings (they are int64 in the API's proto), and Gemini's own keys
(`propertyOrdering`) that JSON Schema has no use for. `responseJsonSchema` and
`parametersJsonSchema` are JSON Schema already and are used as given.
"""

from __future__ import annotations

from typing import Any

from fakeprovider.errors import invalid

_TYPES = frozenset({"string", "number", "integer", "boolean", "array", "object", "null"})
_INT_KEYS = ("minItems", "maxItems", "minLength", "maxLength", "minProperties", "maxProperties")
_NUMBER_KEYS = ("minimum", "maximum")
_KEEP = ("enum", "format", "pattern", "description", "title", "default", "required")


def json_schema(schema: Any, where: str) -> dict[str, Any]:
    """`schema` (a Gemini `Schema`) as JSON Schema; a value that is no schema is refused,
    naming `where` it was found."""
    if not isinstance(schema, dict):
        raise invalid(f"{where}: a schema must be an object.", param=where)
    out: dict[str, Any] = {}
    kind = schema.get("type")
    if kind is not None:
        name = str(kind).lower()
        if name == "type_unspecified":
            name = ""
        elif name not in _TYPES:
            raise invalid(f'{where}.type: invalid value "{kind}".', param=f"{where}.type")
        if name:
            out["type"] = name
    for key in _KEEP:
        if key in schema:
            out[key] = schema[key]
    for key in _INT_KEYS:
        if key in schema:
            out[key] = _integer(schema[key], f"{where}.{key}")
    for key in _NUMBER_KEYS:
        if key in schema:
            out[key] = _number(schema[key], f"{where}.{key}")
    props = schema.get("properties")
    if isinstance(props, dict):
        out["properties"] = {k: json_schema(v, f"{where}.properties.{k}") for k, v in props.items()}
    if "items" in schema:
        out["items"] = json_schema(schema["items"], f"{where}.items")
    any_of = schema.get("anyOf")
    if isinstance(any_of, list):
        out["anyOf"] = [json_schema(s, f"{where}.anyOf[{i}]") for i, s in enumerate(any_of)]
    if schema.get("nullable") is True:
        if "type" in out:
            out["type"] = [out["type"], "null"]
        elif "anyOf" in out:
            out["anyOf"].append({"type": "null"})
    return out


def _integer(value: Any, where: str) -> int:
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    if isinstance(value, str) and value.lstrip("-").isdigit():
        return int(value)
    raise invalid(f'{where}: invalid value "{value}", expected an integer.', param=where)


def _number(value: Any, where: str) -> float | int:
    if isinstance(value, int | float) and not isinstance(value, bool):
        return value
    try:
        return float(value)
    except (TypeError, ValueError):
        raise invalid(f'{where}: invalid value "{value}", expected a number.', param=where) from None

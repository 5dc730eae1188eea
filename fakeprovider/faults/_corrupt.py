"""Ways to break JSON the way models do, shared by the kinds that corrupt arguments or output."""

from __future__ import annotations

from typing import Any

import jsonschema
import orjson
import referencing.exceptions

Schema = dict[str, Any]


def break_json(text: str) -> str:
    """Valid JSON made invalid in the way models do: a dangling separator before the end."""
    return text[:-1] + ",," + text[-1:] if len(text) > 1 else text + ",,"


def as_object(text: str) -> dict[str, Any]:
    """`text` as a non-empty JSON object, whatever it was (raw scripted arguments included)."""
    try:
        value = orjson.loads(text) if text else None
    except orjson.JSONDecodeError:
        value = None
    return value if isinstance(value, dict) and value else {"unexpected": True}


def wrong_value(value: Any) -> Any:
    """A value of another JSON type than `value`."""
    if isinstance(value, bool):
        return "yes"
    if isinstance(value, int | float):
        return "not a number"
    if isinstance(value, str):
        return 12345
    if isinstance(value, list):
        return "item"
    return 42


def without_required(value: dict[str, Any], schema: Schema) -> dict[str, Any] | None:
    """`value` missing its first required field, or None if the schema requires none it has."""
    required = [k for k in schema.get("required", []) if k in value]
    if not required:
        return None
    return {k: v for k, v in value.items() if k != required[0]}


def with_wrong_type(value: dict[str, Any], schema: Schema) -> Any:
    """`value` with one field of a type its schema does not allow (required fields first).

    The replacement is checked against the schema, so a field that admits several types
    (`anyOf`, a type list) still ends up invalid; a schema that admits anything for every field
    gets an array where it expects an object.
    """
    required = [k for k in schema.get("required", []) if k in value]
    keys = required + [k for k in value if k not in required]
    try:
        jsonschema.Draft202012Validator.check_schema(schema)
        validator = jsonschema.Draft202012Validator(schema)
        for key in keys:
            for candidate in (wrong_value(value[key]), 12345, "not a number", True, ["item"], {"x": 1}, None):
                trial = {**value, key: candidate}
                if any(e.path and e.path[0] == key for e in validator.iter_errors(trial)):
                    return trial
    except (jsonschema.SchemaError, referencing.exceptions.Unresolvable):
        # A schema we cannot check against: a plain type swap is the best guess.
        return {**value, keys[0]: wrong_value(value[keys[0]])}
    return [value]

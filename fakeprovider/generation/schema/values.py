"""JSON values generated from a JSON Schema, valid against it, deterministic per generator.

Covers what tool parameters and structured outputs use in practice (pydantic-made schemas
included): `$ref`/`$defs` (recursive models too), `anyOf`/`oneOf`/`allOf`, `enum`, `const`,
objects, arrays, strings (length, common formats, `pattern`), numbers within bounds (exclusive
and `multipleOf` too), booleans and null. This module walks a schema's structure; a string or a
number comes from one node alone, made by `strings` and `numbers`.
"""

from __future__ import annotations

import random
from typing import Any

from fakeprovider.generation.content import ContentPool
from fakeprovider.generation.schema.numbers import integer_value, number_value
from fakeprovider.generation.schema.strings import string_value

JsonValue = Any
Schema = dict[str, Any]

# Past this depth a value is kept minimal (required properties, fewest items, null branches), so
# recursive schemas (a tree, a linked list) end; past the hard depth it is cut off outright.
_MAX_DEPTH = 8
_HARD_DEPTH = 64
# What one generated value may hold (docs/provider.md): a schema that cannot be met within these
# is the caller's 400 naming the keyword, found before any of it is made, not a stalled loop.
MAX_ITEMS = 1_000  # one array
MAX_STRING_CHARS = 100_000  # one string
MAX_VALUES = 10_000  # the whole value, nested arrays and objects included


class SchemaError(ValueError):
    """The schema uses something no value can be generated for."""


class ValueGenerator:
    """Generate values for one root schema (so `$ref`s resolve against its definitions)."""

    def __init__(self, root: Schema, pool: ContentPool, rng: random.Random) -> None:
        self.root = root
        self.pool = pool
        self.rng = rng
        self._left = MAX_VALUES  # values still allowed in this one generated value

    def value(self, schema: Schema | bool | None = None) -> JsonValue:
        """A value valid against `schema` (the root by default); `SchemaError` if none can be made."""
        try:
            return self._value(self.root if schema is None else schema, 0)
        except SchemaError:
            raise
        except (TypeError, AttributeError, KeyError, IndexError, ValueError, RecursionError) as e:
            # A malformed schema (a list where an object belongs, ...) is the caller's error.
            raise SchemaError(f"malformed schema ({type(e).__name__}: {e})") from None

    def _value(self, s: Schema | bool, depth: int) -> JsonValue:
        self._left -= 1
        if self._left < 0:
            raise SchemaError(
                f"a value of this schema needs more than {MAX_VALUES:,} values (minItems, required)"
            )
        if s is True or s == {}:
            return string_value({}, self.pool.words, self.rng)
        if s is False:
            raise SchemaError("schema `false` admits no value")
        if not isinstance(s, dict):
            raise SchemaError(f"a schema must be an object or a boolean, got {type(s).__name__}")
        if "$ref" in s:
            return self._value(self._deref(s["$ref"]), depth + 1)
        if "const" in s:
            return s["const"]
        if "enum" in s:
            return self.rng.choice(list(s["enum"]))
        for key in ("anyOf", "oneOf"):
            if key in s:
                return self._value(self._option(s[key], depth), depth + 1)
        if "allOf" in s:
            merged: Schema = {}
            for part in s["allOf"]:
                part = self._deref(part["$ref"]) if "$ref" in part else part
                merged = _merge(merged, part)
            return self._value(merged, depth + 1)
        kind = s.get("type")
        if isinstance(kind, list):
            non_null = [k for k in kind if k != "null"]
            deep_and_nullable = depth > _MAX_DEPTH and len(non_null) < len(kind)
            kind = "null" if deep_and_nullable or not non_null else non_null[0]
        if kind is None:
            kind = "object" if "properties" in s else "array" if "items" in s else "string"
        if depth > _HARD_DEPTH and kind in ("object", "array"):
            return {} if kind == "object" else []
        return self._by_type(kind, s, depth)

    def _option(self, options: list[Schema | bool], depth: int) -> Schema | bool:
        """Which branch of an `anyOf`/`oneOf` to follow: a real value while shallow; once deep,
        the branch that ends recursion soonest (null, then a scalar), so recursive models end."""
        nulls = [o for o in options if isinstance(o, dict) and o.get("type") == "null"]
        others = [o for o in options if o not in nulls]
        if depth <= _MAX_DEPTH or not others:
            return self.rng.choice(others or options)
        if nulls:
            return nulls[0]
        scalars = [o for o in others if isinstance(o, dict) and not _may_nest(o)]
        return (scalars or others)[0]

    def _by_type(self, kind: str, s: Schema, depth: int) -> JsonValue:
        if kind == "object":
            return self._object(s, depth)
        if kind == "array":
            return self._array(s, depth)
        if kind == "string":
            if int(s.get("minLength", 0)) > MAX_STRING_CHARS:
                raise SchemaError(
                    f"minLength {s['minLength']}: more than the {MAX_STRING_CHARS:,} characters allowed"
                )
            return string_value(s, self.pool.words, self.rng)
        if kind == "integer":
            return integer_value(s, self.rng)
        if kind == "number":
            return number_value(s, self.rng)
        if kind == "boolean":
            return self.rng.random() < 0.5
        if kind == "null":
            return None
        raise SchemaError(f"unsupported type {kind!r}")

    def _deref(self, ref: str) -> Schema:
        if not ref.startswith("#"):
            raise SchemaError(f"only local $ref is supported, got {ref!r}")
        node: Any = self.root
        for part in ref.lstrip("#/").split("/"):
            if not part:
                continue
            part = part.replace("~1", "/").replace("~0", "~")
            if not isinstance(node, dict) or part not in node:
                raise SchemaError(f"$ref {ref!r} does not resolve")
            node = node[part]
        if not isinstance(node, dict):
            raise SchemaError(f"$ref {ref!r} is not a schema")
        return node

    def _object(self, s: Schema, depth: int) -> dict[str, JsonValue]:
        props: dict[str, Any] = s.get("properties", {})
        required: list[str] = list(s.get("required", []))
        if depth > _MAX_DEPTH:
            # Deep inside a (possibly recursive) schema: required properties only.
            props = {name: sub for name, sub in props.items() if name in required}
        out = {name: self._value(sub, depth + 1) for name, sub in props.items()}
        extra = s.get("additionalProperties")
        if not props and isinstance(extra, dict) and depth <= _MAX_DEPTH:
            for _ in range(self.rng.randint(1, 3)):
                out[self.rng.choice(self.pool.words)] = self._value(extra, depth + 1)
        for name in required:
            if name not in out:
                out[name] = string_value({}, self.pool.words, self.rng)
        return out

    def _array(self, s: Schema, depth: int) -> list[JsonValue]:
        lo = int(s.get("minItems", 0 if depth > _MAX_DEPTH else 1))
        if lo > MAX_ITEMS:
            raise SchemaError(f"minItems {lo}: more than the {MAX_ITEMS:,} items allowed in an array")
        hi = min(int(s.get("maxItems", max(lo, 3))), MAX_ITEMS)
        n = lo if depth > _MAX_DEPTH else self.rng.randint(lo, max(lo, hi))
        items = s.get("items", {})
        if isinstance(s.get("prefixItems"), list):
            prefix = [self._value(p, depth + 1) for p in s["prefixItems"]]
            if items is False:
                return prefix
            return prefix + [self._value(items, depth + 1) for _ in range(max(0, n - len(prefix)))]
        if not s.get("uniqueItems"):
            return [self._value(items, depth + 1) for _ in range(n)]
        values: list[JsonValue] = []
        for _ in range(8 * n + 8):
            if len(values) >= n:
                break
            v = self._value(items, depth + 1)
            if v not in values:
                values.append(v)
        return values


def _may_nest(s: Schema) -> bool:
    """Whether a schema can lead to more structure (and so to recursion)."""
    return "$ref" in s or s.get("type") in ("object", "array") or "properties" in s or "items" in s


def _merge(a: Schema, b: Schema) -> Schema:
    out = dict(a)
    for key, value in b.items():
        if key == "properties":
            out["properties"] = {**out.get("properties", {}), **value}
        elif key == "required":
            out["required"] = sorted(set(out.get("required", [])) | set(value))
        else:
            out[key] = value
    return out

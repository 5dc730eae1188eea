"""JSON values generated from a JSON Schema, valid against it, deterministic per generator.

Covers what tool parameters and structured outputs use in practice (pydantic-made schemas
included): `$ref`/`$defs`, `anyOf`/`oneOf`/`allOf`, `enum`, `const`, objects, arrays, strings
(length and common formats), numbers within bounds, booleans and null.
"""

from __future__ import annotations

import random
import uuid
from typing import Any

from fakeprovider.content import ContentPool

JsonValue = Any
Schema = dict[str, Any]

_MAX_DEPTH = 8


class SchemaError(ValueError):
    """The schema uses something no value can be generated for."""


class ValueGenerator:
    """Generate values for one root schema (so `$ref`s resolve against its definitions)."""

    def __init__(self, root: Schema, pool: ContentPool, rng: random.Random) -> None:
        self.root = root
        self.pool = pool
        self.rng = rng

    def value(self, schema: Schema | bool | None = None, depth: int = 0) -> JsonValue:
        s: Schema | bool = self.root if schema is None else schema
        if s is True or s == {}:
            return self._string({})
        if s is False:
            raise SchemaError("schema `false` admits no value")
        assert isinstance(s, dict)
        if "$ref" in s:
            return self.value(self._deref(s["$ref"]), depth + 1)
        if "const" in s:
            return s["const"]
        if "enum" in s:
            return self.rng.choice(list(s["enum"]))
        for key in ("anyOf", "oneOf"):
            if key in s:
                options = [o for o in s[key] if not (isinstance(o, dict) and o.get("type") == "null")]
                return self.value(self.rng.choice(options or s[key]), depth + 1)
        if "allOf" in s:
            merged: Schema = {}
            for part in s["allOf"]:
                part = self._deref(part["$ref"]) if "$ref" in part else part
                merged = _merge(merged, part)
            return self.value(merged, depth + 1)
        kind = s.get("type")
        if isinstance(kind, list):
            non_null = [k for k in kind if k != "null"]
            kind = non_null[0] if non_null else "null"
        if kind is None:
            kind = "object" if "properties" in s else "array" if "items" in s else "string"
        if depth > _MAX_DEPTH and kind in ("object", "array"):
            return {} if kind == "object" else []
        return self._by_type(kind, s, depth)

    def _by_type(self, kind: str, s: Schema, depth: int) -> JsonValue:
        if kind == "object":
            return self._object(s, depth)
        if kind == "array":
            return self._array(s, depth)
        if kind == "string":
            return self._string(s)
        if kind == "integer":
            return self._integer(s)
        if kind == "number":
            return self._number(s)
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
        out = {name: self.value(sub, depth + 1) for name, sub in props.items()}
        for name in s.get("required", []):
            if name not in out:
                out[name] = self._string({})
        return out

    def _array(self, s: Schema, depth: int) -> list[JsonValue]:
        lo = int(s.get("minItems", 1))
        hi = int(s.get("maxItems", max(lo, 3)))
        n = self.rng.randint(lo, max(lo, hi))
        items = s.get("items", {})
        if isinstance(s.get("prefixItems"), list):
            prefix = [self.value(p, depth + 1) for p in s["prefixItems"]]
            return prefix + [self.value(items, depth + 1) for _ in range(max(0, n - len(prefix)))]
        values = [self.value(items, depth + 1) for _ in range(n)]
        if s.get("uniqueItems"):
            seen: list[JsonValue] = []
            for v in values:
                if v not in seen:
                    seen.append(v)
            values = seen
        return values

    def _string(self, s: Schema) -> str:
        fmt = s.get("format")
        rng = self.rng
        if fmt == "date-time":
            text = f"2025-{rng.randint(1, 12):02d}-{rng.randint(1, 28):02d}T12:00:00Z"
        elif fmt == "date":
            text = f"2025-{rng.randint(1, 12):02d}-{rng.randint(1, 28):02d}"
        elif fmt == "time":
            text = f"{rng.randint(0, 23):02d}:{rng.randint(0, 59):02d}:00"
        elif fmt == "email":
            text = f"{rng.choice(self.pool.words)}@example.com"
        elif fmt in ("uri", "url"):
            text = f"https://example.com/{rng.choice(self.pool.words)}"
        elif fmt == "uuid":
            text = str(uuid.UUID(int=rng.getrandbits(128), version=4))
        else:
            text = " ".join(rng.choice(self.pool.words) for _ in range(rng.randint(1, 4)))
        lo = int(s.get("minLength", 0))
        hi = s.get("maxLength")
        while len(text) < lo:
            text += " " + rng.choice(self.pool.words)
        if hi is not None:
            text = text[: int(hi)]
        return text

    def _integer(self, s: Schema) -> int:
        lo, hi = _bounds(s, 0, 100)
        lo_i = int(lo) if float(lo).is_integer() else int(lo) + 1
        if "exclusiveMinimum" in s and lo_i <= s["exclusiveMinimum"]:
            lo_i += 1
        hi_i = int(hi)
        if "exclusiveMaximum" in s and hi_i >= s["exclusiveMaximum"]:
            hi_i -= 1
        hi_i = max(lo_i, hi_i)
        step = int(s.get("multipleOf", 1)) or 1
        value = self.rng.randint(lo_i, hi_i)
        return value - value % step if value - value % step >= lo_i else value + (-value) % step

    def _number(self, s: Schema) -> float:
        lo, hi = _bounds(s, 0.0, 100.0)
        value = round(self.rng.uniform(lo, hi), 2)
        if "exclusiveMinimum" in s and value <= s["exclusiveMinimum"]:
            value = (s["exclusiveMinimum"] + hi) / 2
        if "exclusiveMaximum" in s and value >= s["exclusiveMaximum"]:
            value = (lo + s["exclusiveMaximum"]) / 2
        return float(min(max(value, lo), hi))


def _bounds(s: Schema, lo: float, hi: float) -> tuple[float, float]:
    low_raw = s.get("minimum", s.get("exclusiveMinimum"))
    high_raw = s.get("maximum", s.get("exclusiveMaximum"))
    low = None if low_raw is None else float(low_raw)
    high = None if high_raw is None else float(high_raw)
    if low is None and high is None:
        return lo, hi
    if low is None:
        assert high is not None
        return min(lo, high - 100), high
    if high is None:
        return low, max(hi, low + 100)
    return low, high


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

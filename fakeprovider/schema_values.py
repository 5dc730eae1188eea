"""JSON values generated from a JSON Schema, valid against it, deterministic per generator.

Covers what tool parameters and structured outputs use in practice (pydantic-made schemas
included): `$ref`/`$defs` (recursive models too), `anyOf`/`oneOf`/`allOf`, `enum`, `const`,
objects, arrays, strings (length, common formats, `pattern`), numbers within bounds (exclusive
and `multipleOf` too), booleans and null.
"""

from __future__ import annotations

import importlib
import math
import random
import re
import string
import uuid
from typing import Any

from fakeprovider.content import ContentPool

JsonValue = Any
Schema = dict[str, Any]

# Past this depth a value is kept minimal (required properties, fewest items, null branches), so
# recursive schemas (a tree, a linked list) end; past the hard depth it is cut off outright.
_MAX_DEPTH = 8
_HARD_DEPTH = 64


class SchemaError(ValueError):
    """The schema uses something no value can be generated for."""


class ValueGenerator:
    """Generate values for one root schema (so `$ref`s resolve against its definitions)."""

    def __init__(self, root: Schema, pool: ContentPool, rng: random.Random) -> None:
        self.root = root
        self.pool = pool
        self.rng = rng

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
        if s is True or s == {}:
            return self._string({})
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
                out[name] = self._string({})
        return out

    def _array(self, s: Schema, depth: int) -> list[JsonValue]:
        lo = int(s.get("minItems", 0 if depth > _MAX_DEPTH else 1))
        hi = int(s.get("maxItems", max(lo, 3)))
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

    def _string(self, s: Schema) -> str:
        rng = self.rng
        lo = int(s.get("minLength", 0))
        hi = s.get("maxLength")
        text = self._formatted(s.get("format"))
        pattern = s.get("pattern")
        if isinstance(pattern, str) and (text is None or not re.search(pattern, text)):
            for _ in range(16):
                sample = _sample_pattern(pattern, rng)
                if sample is not None and len(sample) >= lo and (hi is None or len(sample) <= int(hi)):
                    return sample
        if text is None:
            text = " ".join(rng.choice(self.pool.words) for _ in range(rng.randint(1, 4)))
        while len(text) < lo:
            text += " " + rng.choice(self.pool.words)
        if hi is not None:
            text = text[: int(hi)]
        return text

    def _formatted(self, fmt: Any) -> str | None:
        """A string in a common `format`, or None for free text."""
        rng = self.rng
        if fmt == "date-time":
            return f"2025-{rng.randint(1, 12):02d}-{rng.randint(1, 28):02d}T12:00:00Z"
        if fmt == "date":
            return f"2025-{rng.randint(1, 12):02d}-{rng.randint(1, 28):02d}"
        if fmt == "time":
            return f"{rng.randint(0, 23):02d}:{rng.randint(0, 59):02d}:00"
        if fmt == "email":
            return f"{rng.choice(self.pool.words)}@example.com"
        if fmt in ("uri", "url"):
            return f"https://example.com/{rng.choice(self.pool.words)}"
        if fmt == "uuid":
            return str(uuid.UUID(int=rng.getrandbits(128), version=4))
        return None

    def _integer(self, s: Schema) -> int:
        low, low_ex, high, high_ex = _limits(s)
        lo = math.floor(low) + 1 if low_ex else math.ceil(low)
        hi = math.ceil(high) - 1 if high_ex else math.floor(high)
        step = s.get("multipleOf")
        if isinstance(step, int | float) and step > 0 and float(step).is_integer():
            k_lo, k_hi = math.ceil(lo / step), math.floor(hi / step)
            if k_lo <= k_hi:
                return int(self.rng.randint(k_lo, k_hi) * step)
        return self.rng.randint(lo, max(lo, hi))

    def _number(self, s: Schema) -> float:
        low, low_ex, high, high_ex = _limits(s)
        step = s.get("multipleOf")
        if isinstance(step, int | float) and step > 0:
            k_lo, k_hi = math.ceil(low / step), math.floor(high / step)
            k_lo += 1 if low_ex and k_lo * step <= low else 0
            k_hi -= 1 if high_ex and k_hi * step >= high else 0
            if k_lo <= k_hi:
                return float(self.rng.randint(k_lo, k_hi) * step)
        value = round(self.rng.uniform(low, high), 2)
        if value < low or value > high or (low_ex and value <= low) or (high_ex and value >= high):
            value = (low + high) / 2
        return float(value)


def _limits(s: Schema) -> tuple[float, bool, float, bool]:
    """(low, low exclusive, high, high exclusive) from minimum/maximum and their exclusive forms
    (draft 6+ numbers or draft 4 booleans); an open side gets a span of 100."""
    low: float | None = None
    high: float | None = None
    low_ex = high_ex = False
    minimum, maximum = _num(s.get("minimum")), _num(s.get("maximum"))
    ex_min, ex_max = s.get("exclusiveMinimum"), s.get("exclusiveMaximum")
    if minimum is not None:
        low, low_ex = minimum, ex_min is True
    emin, emax = _num(ex_min), _num(ex_max)
    if emin is not None and (low is None or emin >= low):
        low, low_ex = emin, True
    if maximum is not None:
        high, high_ex = maximum, ex_max is True
    if emax is not None and (high is None or emax <= high):
        high, high_ex = emax, True
    if low is None and high is None:
        return 0.0, False, 100.0, False
    if low is None:
        assert high is not None
        return min(0.0, high - 100), False, high, high_ex
    if high is None:
        return low, low_ex, max(100.0, low + 100), False
    return low, low_ex, high, high_ex


def _num(value: Any) -> float | None:
    if isinstance(value, int | float) and not isinstance(value, bool):
        return float(value)
    return None


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


# --- strings for a `pattern` ---------------------------------------------------------------------

# Python's own regex parser (public as `sre_parse` until 3.11, which now warns on that name).
_re_parser: Any = importlib.import_module("re._parser")
_ALPHABET = string.ascii_letters + string.digits + " -_.,:/@"
_CATEGORY_TEST = {
    "CATEGORY_DIGIT": str.isdigit,
    "CATEGORY_WORD": lambda c: c.isalnum() or c == "_",
    "CATEGORY_SPACE": str.isspace,
}


class _Unsupported(Exception):
    """A regex construct the sampler does not write strings for (back-references)."""


def _sample_pattern(pattern: str, rng: random.Random) -> str | None:
    """A string `re.search(pattern, ...)` accepts, or None when none could be made."""
    try:
        parsed = _re_parser.parse(pattern)
        out: list[str] = []
        _emit(parsed, rng, out)
    except (re.error, _Unsupported, RecursionError, IndexError):
        return None
    text = "".join(out)
    return text if re.search(pattern, text) else None


def _emit(items: Any, rng: random.Random, out: list[str]) -> None:
    for op, arg in items:
        name = str(op)
        if name == "LITERAL":
            out.append(chr(arg))
        elif name == "NOT_LITERAL":
            out.append(rng.choice([c for c in string.ascii_letters if ord(c) != arg]))
        elif name == "ANY":
            out.append(rng.choice(string.ascii_letters))
        elif name == "IN":
            out.append(_class_char(arg, rng))
        elif name in ("MAX_REPEAT", "MIN_REPEAT", "POSSESSIVE_REPEAT"):
            lo, hi, sub = arg
            for _ in range(rng.randint(lo, max(lo, min(hi, lo + 8)))):
                _emit(sub, rng, out)
        elif name in ("SUBPATTERN", "ATOMIC_GROUP"):
            _emit(arg[-1], rng, out)
        elif name == "BRANCH":
            _emit(rng.choice(arg[1]), rng, out)
        elif name in ("AT", "ASSERT", "ASSERT_NOT"):
            continue  # anchors and look-arounds write nothing; the final check decides
        else:
            raise _Unsupported(name)


def _class_char(items: list[tuple[Any, Any]], rng: random.Random) -> str:
    negate = bool(items) and str(items[0][0]) == "NEGATE"
    extra = [chr(arg) for op, arg in items if str(op) == "LITERAL"]
    extra += [chr(arg[0]) for op, arg in items if str(op) == "RANGE"]

    def member(c: str) -> bool:
        for op, arg in items:
            name = str(op)
            if name == "LITERAL" and ord(c) == arg:
                return True
            if name == "RANGE" and arg[0] <= ord(c) <= arg[1]:
                return True
            if name == "CATEGORY":
                cat = str(arg)
                test = _CATEGORY_TEST.get(cat.replace("_NOT", ""))
                if test is not None and test(c) != ("_NOT_" in cat):
                    return True
        return False

    candidates = [c for c in dict.fromkeys(_ALPHABET + "".join(extra)) if member(c) != negate]
    if not candidates:
        raise _Unsupported("empty character class")
    return rng.choice(candidates)

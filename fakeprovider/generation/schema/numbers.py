"""Integers and numbers valid against a JSON Schema's bounds.

Bounds come in three spellings (`minimum`/`maximum`, draft 6+ numeric `exclusiveMinimum`/
`exclusiveMaximum`, draft 4 boolean ones) and combine with `multipleOf`; reading them is
apart from the generator's walk over a schema's structure because it is arithmetic on one
node only.

A multiple of a decimal step is worked out in decimal (3 * 0.1 is 0.3, not 0.30000000000000004),
and kept only if validators' float test takes it too: jsonschema (like Ajv) calls `v` a
multiple of a float step when `v / step` is a whole float, which 0.3 / 0.1 (2.9999999999999996)
is not, so a multiple that fails it is passed over for a nearby one that passes.
"""

from __future__ import annotations

import math
import random
from decimal import Decimal
from fractions import Fraction
from typing import TYPE_CHECKING, Any, TypeVar

if TYPE_CHECKING:
    from collections.abc import Callable

    from fakeprovider.generation.schema.values import Schema

_N = TypeVar("_N", int, float)

# How many multiples, from the drawn one on, are tried for one that passes the float test; about
# one in three fail for steps like 0.1 or 0.001, never more than a few dozen in a row.
_TRIES = 256


def integer_value(s: Schema, rng: random.Random) -> int:
    """An integer within `s`'s bounds, a multiple of its `multipleOf` where one fits."""
    low, low_ex, high, high_ex = _limits(s)
    lo = math.floor(low) + 1 if low_ex else math.ceil(low)
    hi = math.ceil(high) - 1 if high_ex else math.floor(high)
    step = _step(s)
    if step is not None:
        # The integers that are multiples of p/q (in lowest terms) are the multiples of p.
        p = Fraction(_decimal(step)).numerator
        k_lo, k_hi = -(-lo // p), hi // p
        if k_lo <= k_hi:
            k = rng.randint(k_lo, k_hi)
            found = _first(k, k_lo, k_hi, lambda j: j * p, lambda v: _passes(v, step))
            return k * p if found is None else found
    return rng.randint(lo, max(lo, hi))


def number_value(s: Schema, rng: random.Random) -> float:
    """A number within `s`'s bounds (two decimals), a multiple of its `multipleOf` where one fits."""
    low, low_ex, high, high_ex = _limits(s)
    step = _step(s)
    if step is not None:
        d, d_low, d_high = _decimal(step), _decimal(low), _decimal(high)
        k_lo, k_hi = math.ceil(d_low / d), math.floor(d_high / d)
        k_lo += 1 if low_ex and k_lo * d <= d_low else 0
        k_hi -= 1 if high_ex and k_hi * d >= d_high else 0
        if k_lo <= k_hi:
            k = rng.randint(k_lo, k_hi)

            def fits(v: float) -> bool:
                inside = (low < v if low_ex else low <= v) and (v < high if high_ex else v <= high)
                return inside and _passes(v, step)

            found = _first(k, k_lo, k_hi, lambda j: float(j * d), fits)
            # None passes (bounds that leave only 0.3 for a step of 0.1): the exact multiple.
            return float(k * d) if found is None else found
    value = round(rng.uniform(low, high), 2)
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


def _step(s: Schema) -> int | float | None:
    """`s`'s `multipleOf`, if it is a positive finite number (a boolean is not one)."""
    step = s.get("multipleOf")
    if isinstance(step, int | float) and not isinstance(step, bool) and step > 0 and math.isfinite(step):
        return step
    return None


def _decimal(x: int | float) -> Decimal:
    """`x` as the decimal it is written as (`repr`), so 0.1 is 0.1 and not 0.1000000000000000055…"""
    return Decimal(x) if isinstance(x, int) else Decimal(repr(x))


def _passes(value: float, step: int | float) -> bool:
    """jsonschema's own multipleOf test (`_keywords.multipleOf`), which Ajv's matches."""
    if isinstance(step, float):
        quotient = value / step
        try:
            return int(quotient) == quotient
        except OverflowError:
            return (Fraction(value) / Fraction(step)).denominator == 1
    return value % step == 0


def _first(k: int, k_lo: int, k_hi: int, value: Callable[[int], _N], ok: Callable[[_N], bool]) -> _N | None:
    """The value of the first multiple index from `k` on (wrapping round to `k_lo`) that is `ok`."""
    n = k_hi - k_lo + 1
    for i in range(min(n, _TRIES)):
        v = value(k_lo + (k - k_lo + i) % n)
        if ok(v):
            return v
    return None


def _num(value: Any) -> float | None:
    if isinstance(value, int | float) and not isinstance(value, bool):
        return float(value)
    return None

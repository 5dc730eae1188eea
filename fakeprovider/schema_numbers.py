"""Integers and numbers valid against a JSON Schema's bounds.

Bounds come in three spellings (`minimum`/`maximum`, draft 6+ numeric `exclusiveMinimum`/
`exclusiveMaximum`, draft 4 boolean ones) and combine with `multipleOf`; reading them is
apart from the generator's walk over a schema's structure because it is arithmetic on one
node only.
"""

from __future__ import annotations

import math
import random
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from fakeprovider.schema_values import Schema


def integer_value(s: Schema, rng: random.Random) -> int:
    """An integer within `s`'s bounds, a multiple of its `multipleOf` where one fits."""
    low, low_ex, high, high_ex = _limits(s)
    lo = math.floor(low) + 1 if low_ex else math.ceil(low)
    hi = math.ceil(high) - 1 if high_ex else math.floor(high)
    step = s.get("multipleOf")
    if isinstance(step, int | float) and step > 0 and float(step).is_integer():
        k_lo, k_hi = math.ceil(lo / step), math.floor(hi / step)
        if k_lo <= k_hi:
            return int(rng.randint(k_lo, k_hi) * step)
    return rng.randint(lo, max(lo, hi))


def number_value(s: Schema, rng: random.Random) -> float:
    """A number within `s`'s bounds (two decimals), a multiple of its `multipleOf` where one fits."""
    low, low_ex, high, high_ex = _limits(s)
    step = s.get("multipleOf")
    if isinstance(step, int | float) and step > 0:
        k_lo, k_hi = math.ceil(low / step), math.floor(high / step)
        k_lo += 1 if low_ex and k_lo * step <= low else 0
        k_hi -= 1 if high_ex and k_hi * step >= high else 0
        if k_lo <= k_hi:
            return float(rng.randint(k_lo, k_hi) * step)
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


def _num(value: Any) -> float | None:
    if isinstance(value, int | float) and not isinstance(value, bool):
        return float(value)
    return None

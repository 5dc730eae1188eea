"""Percentiles by one method, the one every clause and report states: a p99 in a verdict and the
p99 in the report that shows it must be the same number."""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence

PERCENTILE_METHOD = (
    "linear interpolation between closest ranks over the raw samples, no bucketing "
    "(numpy's default 'linear', Hyndman & Fan type 7): rank h = (n - 1) * q / 100"
)


def percentile(samples: Iterable[float], q: float) -> float | None:
    """The q-th percentile (0-100) by linear interpolation; None without samples."""
    return percentiles(samples, (q,))[q]


def percentiles(samples: Iterable[float], qs: Sequence[float] = (50, 95, 99)) -> dict[float, float | None]:
    """Several percentiles of the same samples, sorted once."""
    xs = sorted(samples)
    out: dict[float, float | None] = {}
    for q in qs:
        if not 0 <= q <= 100:
            raise ValueError(f"percentile {q} is outside 0..100")
        if not xs:
            out[q] = None
            continue
        h = (len(xs) - 1) * q / 100
        lo = math.floor(h)
        hi = min(lo + 1, len(xs) - 1)
        out[q] = xs[lo] + (h - lo) * (xs[hi] - xs[lo])
    return out

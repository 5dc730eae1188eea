"""Scales and axes: how a value becomes a position, which round values get a tick, and the grid,
ticks and labels drawn around a plot area. Kept apart from the charts so every chart picks its
ticks the same way."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

from harness.report.svg.canvas import GRID, Frame, fmt_num


def nice_ticks(lo: float, hi: float, count: int = 6) -> list[float]:
    """Round tick values (1, 2, 5 x 10^k steps) covering [lo, hi]."""
    if hi <= lo:
        hi = lo + 1.0
    raw = (hi - lo) / max(count, 1)
    mag = 10 ** math.floor(math.log10(raw))
    step = next(m * mag for m in (1, 2, 5, 10) if m * mag >= raw)
    first = math.floor(lo / step) * step
    ticks = []
    t = first
    while t <= hi + step * 1e-9:
        if t >= lo - step * 1e-9:
            ticks.append(round(t, 10))
        t += step
    return ticks


def log_ticks(lo: float, hi: float) -> list[float]:
    """1-2-5 ticks per decade within [lo, hi] (fewer when the range spans many decades)."""
    mults = (1, 2, 5) if math.log10(hi / lo) <= 4 else (1,)
    ticks = []
    for k in range(math.floor(math.log10(lo)), math.ceil(math.log10(hi)) + 1):
        for m in mults:
            v = m * 10.0**k
            if lo * (1 - 1e-9) <= v <= hi * (1 + 1e-9):
                ticks.append(v)
    return ticks


@dataclass(slots=True)
class Scale:
    """Maps a value in [lo, hi] to a position from a to b, linearly or by its logarithm."""

    lo: float
    hi: float
    a: float  # output at lo
    b: float  # output at hi
    log: bool = False

    def __call__(self, v: float) -> float:
        if self.log:
            v = max(v, self.lo)
            f = (math.log10(v) - math.log10(self.lo)) / (math.log10(self.hi) - math.log10(self.lo))
        else:
            f = (v - self.lo) / (self.hi - self.lo) if self.hi != self.lo else 0.0
        return self.a + (self.b - self.a) * f


def y_scale(values: Sequence[float], top: float, bottom: float, log: bool | None) -> Scale:
    """A y scale that fits `values`: logarithmic when they span more than 50 times, unless `log`
    says otherwise."""
    positive = [v for v in values if v > 0]
    lo_v, hi_v = (min(positive), max(positive)) if positive else (1.0, 10.0)
    use_log = log if log is not None else hi_v / lo_v > 50
    if use_log:
        steps = [
            m * 10.0**k
            for k in range(math.floor(math.log10(lo_v)) - 1, math.ceil(math.log10(hi_v)) + 1)
            for m in (1, 2, 5)
        ]
        lo = max((v for v in steps if v <= lo_v), default=lo_v)
        hi = min((v for v in steps if v >= hi_v), default=hi_v)
        return Scale(lo, hi if hi > lo else lo * 10, bottom, top, log=True)
    # Top the axis at a round tick above the highest point, so that point is not on the frame.
    ticks = nice_ticks(0.0, hi_v * 1.05)
    step = ticks[1] - ticks[0] if len(ticks) > 1 else hi_v
    return Scale(0.0, math.ceil(hi_v * 1.05 / step) * step, bottom, top)


def draw_axes(f: Frame, xs: Scale, ys: Scale, *, x_label: str, y_label: str) -> None:
    """Horizontal grid lines with y ticks, x ticks under the plot area, its border and both labels."""
    x0, x1 = f.left, f.width - f.right
    y0, y1 = f.height - f.bottom, f.top
    ticks = log_ticks(ys.lo, ys.hi) if ys.log else nice_ticks(ys.lo, ys.hi)
    for t in ticks:
        y = ys(t)
        f.parts.append(f'<line x1="{x0}" x2="{x1}" y1="{y:.1f}" y2="{y:.1f}" stroke="{GRID}"/>')
        f.text(x0 - 6, y + 4, fmt_num(t), anchor="end", size=11)
    for t in nice_ticks(0.0, xs.hi, 10):
        x = xs(t)
        f.parts.append(f'<line x1="{x:.1f}" x2="{x:.1f}" y1="{y0}" y2="{y0 + 4}" stroke="#888"/>')
        f.text(x, y0 + 17, fmt_num(t), anchor="middle", size=11)
    f.parts.append(
        f'<rect x="{x0}" y="{y1}" width="{x1 - x0}" height="{y0 - y1}" fill="none" stroke="#bbb"/>'
    )
    f.text((x0 + x1) / 2, f.height - 6, x_label, anchor="middle", size=12)
    f.text(
        14,
        (y0 + y1) / 2,
        y_label + (" (log)" if ys.log else ""),
        anchor="middle",
        size=12,
        transform=f"rotate(-90 14 {(y0 + y1) / 2:.1f})",
    )

"""Inline SVG chart primitives for the HTML report: no scripts, no network, every string escaped.

Charts draw in a fixed viewBox and scale to the page width; text inherits the page's font.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from html import escape
from typing import Literal

PHASE_FILLS = ("#eef2f8", "#fbf1e6", "#eaf5ee", "#f4ecf7", "#f7f3e3", "#e9f3f6")
PALETTE = ("#4269d0", "#efb118", "#ff725c", "#6cc5b0", "#3ca951", "#ff8ab7", "#a463f2", "#97bbf5", "#9c6b4e")
TEXT = "#333"
GRID = "#e3e3e3"


def e(text: object) -> str:
    return escape(str(text), quote=True)


def fmt_num(v: float) -> str:
    if v == 0:
        return "0"
    if abs(v) >= 10_000:
        return f"{v / 1000:g}k"
    if abs(v) >= 1:
        return f"{v:g}"
    return f"{v:.2g}"


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


@dataclass(slots=True)
class Series:
    name: str
    color: str
    points: list[tuple[float, float]]
    tips: list[str] | None = None  # one tooltip per point
    mark: Literal["dot", "cross", "line"] = "dot"
    radius: float = 2.2


@dataclass(slots=True)
class Band:
    start: float
    end: float
    label: str


@dataclass(slots=True)
class Frame:
    width: int = 1100
    height: int = 360
    left: int = 64
    right: int = 16
    top: int = 30
    bottom: int = 44
    parts: list[str] = field(default_factory=list)

    def open(self, label: str) -> None:
        self.parts.append(
            f'<svg class="chart" viewBox="0 0 {self.width} {self.height}" '
            f'style="max-width:{self.width}px" role="img" '
            f'aria-label="{e(label)}" xmlns="http://www.w3.org/2000/svg">'
        )

    def close(self) -> str:
        self.parts.append("</svg>")
        return "\n".join(self.parts)

    def text(
        self,
        x: float,
        y: float,
        s: str,
        *,
        anchor: str = "start",
        size: int = 12,
        fill: str = TEXT,
        **attrs: str,
    ) -> None:
        extra = "".join(f' {k.replace("_", "-")}="{e(v)}"' for k, v in attrs.items())
        self.parts.append(
            f'<text x="{x:.1f}" y="{y:.1f}" text-anchor="{anchor}" font-size="{size}" '
            f'fill="{fill}"{extra}>{e(s)}</text>'
        )


def _y_scale(values: Sequence[float], top: float, bottom: float, log: bool | None) -> Scale:
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


def time_chart(
    series: Sequence[Series],
    bands: Sequence[Band],
    *,
    x_max: float,
    x_label: str,
    y_label: str,
    log_y: bool | None = None,
    frame: Frame | None = None,
) -> str:
    """Points (and lines) over time, with phases shaded and labelled; a log y axis when the
    values span more than 50 times, unless `log_y` says otherwise."""
    f = frame or Frame()
    f.open(f"{y_label} over {x_label}")
    x0, x1 = f.left, f.width - f.right
    y0, y1 = f.height - f.bottom, f.top
    xs = Scale(0.0, max(x_max, 1e-9), x0, x1)
    ys = _y_scale([y for s in series for _, y in s.points], y1, y0, log_y)
    for i, band in enumerate(bands):
        bx0, bx1 = xs(max(band.start, 0.0)), xs(min(band.end, xs.hi))
        f.parts.append(
            f'<rect x="{bx0:.1f}" y="{y1}" width="{max(bx1 - bx0, 0):.1f}" height="{y0 - y1}" '
            f'fill="{PHASE_FILLS[i % len(PHASE_FILLS)]}"><title>{e(band.label)}</title></rect>'
        )
        if i > 0:
            f.parts.append(
                f'<line x1="{bx0:.1f}" x2="{bx0:.1f}" y1="{y1 - 18}" y2="{y0}" '
                'stroke="#999" stroke-dasharray="3 3"/>'
            )
        # A label that does not fit its band is cut, rather than run into the next one.
        room = max(int((bx1 - bx0 - 8) / 7), 0)
        label = (
            band.label
            if len(band.label) <= room
            else (band.label[: max(room - 1, 0)] + "…" if room > 1 else "")
        )
        if label:
            f.text(bx0 + 5, y1 - 8, label, size=12, font_weight="600")
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
    for s in series:
        f.parts.append(_marks(s, xs, ys))
    _legend(f, [(s.name, s.color, s.mark) for s in series], x1)
    return f.close()


def _marks(s: Series, xs: Scale, ys: Scale) -> str:
    out = [f'<g fill="{s.color}" stroke="{s.color}"><title>{e(s.name)}</title>']
    if s.mark == "line":
        pts = " ".join(f"{xs(x):.1f},{ys(y):.1f}" for x, y in s.points)
        out.append(f'<polyline points="{pts}" fill="none" stroke-width="2"/>')
    for i, (x, y) in enumerate(s.points if s.mark != "line" else ()):
        cx, cy = xs(x), ys(y)
        tip = f"<title>{e(s.tips[i])}</title>" if s.tips else ""
        if s.mark == "cross":
            r = s.radius + 0.6
            out.append(
                f'<path d="M{cx - r:.1f} {cy - r:.1f}L{cx + r:.1f} {cy + r:.1f}M{cx - r:.1f} {cy + r:.1f}'
                f'L{cx + r:.1f} {cy - r:.1f}" stroke-width="1.6" fill="none">{tip}</path>'
            )
        else:
            out.append(
                f'<circle cx="{cx:.1f}" cy="{cy:.1f}" r="{s.radius}" fill-opacity="0.55" '
                f'stroke="none">{tip}</circle>'
            )
    out.append("</g>")
    return "".join(out)


def _legend(f: Frame, entries: Sequence[tuple[str, str, str]], right: float) -> None:
    widths = [len(name) * 6.6 + 30 for name, _, _ in entries]
    x = right - sum(widths)
    y = 12.0
    for (name, color, mark), w in zip(entries, widths, strict=True):
        if mark == "line":
            f.parts.append(
                f'<line x1="{x:.1f}" x2="{x + 14:.1f}" y1="{y - 4}" y2="{y - 4}" '
                f'stroke="{color}" stroke-width="2"/>'
            )
        elif mark == "cross":
            f.parts.append(
                f'<path d="M{x + 3:.1f} {y - 8}l8 8m-8 0l8 -8" stroke="{color}" stroke-width="1.6"/>'
            )
        else:
            f.parts.append(f'<circle cx="{x + 7:.1f}" cy="{y - 4}" r="4" fill="{color}"/>')
        f.text(x + 19, y, name, size=11)
        x += w


def hbars(
    items: Sequence[tuple[str, float, str]], *, unit: str = "", width: int = 520, label_width: int = 150
) -> str:
    """Horizontal bars, one per (label, value, colour), with the value at the end."""
    row = 24
    f = Frame(width=width, height=max(row * len(items) + 12, 36), left=label_width, right=70, top=6, bottom=6)
    f.open("bar chart")
    if not items:
        f.text(8, 22, "nothing recorded", size=12)
        return f.close()
    xs = Scale(0.0, max(v for _, v, _ in items) or 1.0, f.left, width - f.right)
    for i, (label, value, color) in enumerate(items):
        y = f.top + i * row
        shown = label if len(label) <= label_width // 7 else label[: label_width // 7 - 1] + "…"
        f.text(f.left - 8, y + 16, shown, anchor="end", size=12)
        f.parts.append(
            f'<rect x="{f.left}" y="{y + 3}" width="{max(xs(value) - f.left, 1):.1f}" height="{row - 6}" '
            f'fill="{color}" rx="2"><title>{e(label)}: {e(fmt_num(value))}{e(unit)}</title></rect>'
        )
        f.text(xs(value) + 6, y + 16, fmt_num(value) + unit, size=12)
    return f.close()


def stacked_hbars(
    rows: Sequence[tuple[str, Sequence[tuple[str, float]]]],
    colors: dict[str, str],
    *,
    width: int = 1100,
    label_width: int = 120,
) -> str:
    """One 100 % bar per row, split by category; a legend of the categories underneath."""
    row = 28
    legend_rows = math.ceil(len(colors) / 8) if colors else 0
    f = Frame(
        width=width,
        height=row * len(rows) + 22 * legend_rows + 16,
        left=label_width,
        right=16,
        top=6,
        bottom=6,
    )
    f.open("stacked bar chart")
    span = width - f.left - f.right
    for i, (label, parts) in enumerate(rows):
        y = f.top + i * row
        f.text(
            f.left - 8,
            y + 18,
            label if len(label) <= label_width // 7 else label[: label_width // 7 - 1] + "…",
            anchor="end",
            size=12,
        )
        total = sum(v for _, v in parts) or 1.0
        x = float(f.left)
        for cat, v in parts:
            w = span * v / total
            f.parts.append(
                f'<rect x="{x:.1f}" y="{y + 4}" width="{w:.1f}" height="{row - 8}" '
                f'fill="{colors.get(cat, "#999")}">'
                f"<title>{e(label)} · {e(cat)}: {e(fmt_num(v))} ({v / total:.1%})</title></rect>"
            )
            if w > 34:
                f.text(
                    x + w / 2,
                    y + 18,
                    f"{fmt_num(v)}",
                    anchor="middle",
                    size=11,
                    fill="#fff",
                    font_weight="600",
                )
            x += w
    y = f.top + row * len(rows) + 14
    x = float(f.left)
    for j, (cat, color) in enumerate(colors.items()):
        if j and j % 8 == 0:
            y += 22
            x = float(f.left)
        f.parts.append(f'<rect x="{x:.1f}" y="{y - 10}" width="12" height="12" fill="{color}" rx="2"/>')
        f.text(x + 17, y, cat, size=12)
        x += max(len(cat) * 7 + 34, 70)
    return f.close()


def columns(
    items: Sequence[tuple[str, float]], *, color: str = PALETTE[0], x_label: str = "", width: int = 520
) -> str:
    """Vertical bars (a distribution): label under each column, value above it."""
    f = Frame(width=width, height=220, left=44, right=12, top=22, bottom=40)
    f.open("distribution")
    y0, y1 = f.height - f.bottom, f.top
    hi = max((v for _, v in items), default=0.0) or 1.0
    ys = Scale(0.0, hi, y0, y1)
    n = max(len(items), 1)
    slot = (width - f.left - f.right) / n
    for i, (label, value) in enumerate(items):
        x = f.left + i * slot
        h = y0 - ys(value)
        f.parts.append(
            f'<rect x="{x + slot * 0.15:.1f}" y="{ys(value):.1f}" width="{slot * 0.7:.1f}" height="{h:.1f}" '
            f'fill="{color}" rx="2"><title>{e(label)}: {e(fmt_num(value))}</title></rect>'
        )
        f.text(x + slot / 2, ys(value) - 5, fmt_num(value), anchor="middle", size=11)
        f.text(x + slot / 2, y0 + 16, label, anchor="middle", size=12)
    f.parts.append(f'<line x1="{f.left}" x2="{width - f.right}" y1="{y0}" y2="{y0}" stroke="#888"/>')
    f.text((f.left + width - f.right) / 2, f.height - 6, x_label, anchor="middle", size=12)
    return f.close()

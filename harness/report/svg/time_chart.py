"""The time chart: request latencies as points over the run, the load's phases shaded behind
them, a legend of the series. The report's main picture, so it has its own module."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

from harness.report.svg.axes import Scale, draw_axes, y_scale
from harness.report.svg.canvas import PHASE_FILLS, Frame, clip, e


@dataclass(slots=True)
class Series:
    """One named set of points, drawn as dots, crosses or a line through them."""

    name: str
    color: str
    points: list[tuple[float, float]]
    tips: list[str] | None = None  # one tooltip per point
    mark: Literal["dot", "cross", "line"] = "dot"
    radius: float = 2.2


@dataclass(slots=True)
class Band:
    """A shaded stretch of the time axis: one phase of the load."""

    start: float
    end: float
    label: str


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
    ys = y_scale([y for s in series for _, y in s.points], y1, y0, log_y)
    _bands(f, bands, xs)
    draw_axes(f, xs, ys, x_label=x_label, y_label=y_label)
    for s in series:
        f.parts.append(_marks(s, xs, ys))
    _legend(f, [(s.name, s.color, s.mark) for s in series], x1)
    return f.close()


def _bands(f: Frame, bands: Sequence[Band], xs: Scale) -> None:
    y0, y1 = f.height - f.bottom, f.top
    for i, band in enumerate(bands):
        bx0, bx1 = xs(max(band.start, 0.0)), xs(min(band.end, xs.hi))
        f.parts.append(
            f'<rect x="{bx0:.1f}" y="{y1}" width="{max(bx1 - bx0, 0):.1f}" height="{y0 - y1}" '
            f'fill="{PHASE_FILLS[i % len(PHASE_FILLS)]}"><title>{e(band.label)}</title></rect>'
        )
        if i > 0:
            f.parts.append(
                f'<line x1="{bx0:.1f}" x2="{bx0:.1f}" y1="{y1}" y2="{y0}" '
                'stroke="#999" stroke-dasharray="3 3"/>'
            )
        # Inside the top of its band, below the legend's row above the plot, so the two never
        # meet. A label that does not fit its band is cut, rather than run into the next one;
        # in a band too narrow for one letter and the ellipsis, it is left out.
        room = max(int((bx1 - bx0 - 8) / 7), 0)
        label = clip(band.label, room) if room > 1 or len(band.label) <= room else ""
        if label:
            f.text(bx0 + 5, y1 + 15, label, size=12, font_weight="600")


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

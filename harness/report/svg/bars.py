"""Bar charts of counts: horizontal bars, 100 % stacked bars and vertical columns. The report's
mixes and distributions, where the position on a time axis does not matter."""

from __future__ import annotations

import math
from collections.abc import Sequence

from harness.report.svg.axes import Scale
from harness.report.svg.canvas import PALETTE, Frame, clip, e, fmt_num


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
        f.text(f.left - 8, y + 16, clip(label, label_width // 7), anchor="end", size=12)
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
        f.text(f.left - 8, y + 18, clip(label, label_width // 7), anchor="end", size=12)
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

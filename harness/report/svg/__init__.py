"""Inline SVG charts for the HTML report: no scripts, no network, every string escaped.

Charts draw in a fixed viewBox and scale to the page width; text inherits the page's font. The
report uses the names below; the submodules keep the drawing surface, the axes and each kind of
chart apart.
"""

from __future__ import annotations

from harness.report.svg.axes import Scale, log_ticks, nice_ticks
from harness.report.svg.bars import columns, hbars, stacked_hbars
from harness.report.svg.canvas import GRID, PALETTE, PHASE_FILLS, TEXT, Frame, e, fmt_num
from harness.report.svg.time_chart import Band, Series, time_chart

__all__ = [
    "GRID",
    "PALETTE",
    "PHASE_FILLS",
    "TEXT",
    "Band",
    "Frame",
    "Scale",
    "Series",
    "columns",
    "e",
    "fmt_num",
    "hbars",
    "log_ticks",
    "nice_ticks",
    "stacked_hbars",
    "time_chart",
]

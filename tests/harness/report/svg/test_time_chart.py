"""The latency chart: phase labels and the legend never share a row."""

from __future__ import annotations

import re

from harness.report.svg.canvas import Frame
from harness.report.svg.time_chart import Band, Series, time_chart


def _texts(svg: str) -> list[tuple[float, float, str]]:
    return [
        (float(x), float(y), t)
        for x, y, t in re.findall(r'<text x="([\d.]+)" y="([\d.]+)"[^>]*>([^<]*)<', svg)
    ]


def test_phase_labels_sit_inside_the_plot_below_the_legend_row() -> None:
    frame = Frame()
    svg = time_chart(
        [Series("E2E (answered)", "#4263eb", [(0.5, 10.0), (2.0, 20.0)])],
        [Band(0.0, 1.0, "steady"), Band(1.0, 3.0, "recovered-after-the-outage-ends")],
        x_max=3.0,
        x_label="time (s)",
        y_label="latency (ms)",
        frame=frame,
    )
    texts = {t: (x, y) for x, y, t in _texts(svg)}
    legend_y = texts["E2E (answered)"][1]
    for label in ("steady", "recovered-after-the-outage-ends"):
        assert texts[label][1] > frame.top > legend_y

"""The drawing surface every chart shares: a fixed viewBox that scales to the page width, the
colours, text placement and the one escape function, so no chart writes a raw string."""

from __future__ import annotations

from dataclasses import dataclass, field
from html import escape

PHASE_FILLS = ("#eef2f8", "#fbf1e6", "#eaf5ee", "#f4ecf7", "#f7f3e3", "#e9f3f6")
PALETTE = ("#4269d0", "#efb118", "#ff725c", "#6cc5b0", "#3ca951", "#ff8ab7", "#a463f2", "#97bbf5", "#9c6b4e")
TEXT = "#333"
GRID = "#e3e3e3"


def e(text: object) -> str:
    """`text` escaped for element content and quoted attribute values alike."""
    return escape(str(text), quote=True)


def fmt_num(v: float) -> str:
    """A value short enough for a tick or a bar end: 0, 0.12, 5, 12k."""
    if v == 0:
        return "0"
    if abs(v) >= 10_000:
        return f"{v / 1000:g}k"
    if abs(v) >= 1:
        return f"{v:g}"
    return f"{v:.2g}"


def clip(label: str, room: int) -> str:
    """`label` cut to `room` characters, ending in an ellipsis, when it is longer."""
    return label if len(label) <= room else label[: room - 1] + "…"


@dataclass(slots=True)
class Frame:
    """One chart being drawn: its size, the margins around the plot area, the SVG written so far."""

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

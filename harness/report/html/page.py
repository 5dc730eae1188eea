"""Page assembly: one self-contained HTML page for one or several runs, with inline CSS and
inline SVG, no scripts and nothing fetched, so a CI artifact opens anywhere as it is. The
sections' contents come from `tables` and `charts`, which escape what they place."""

from __future__ import annotations

import os
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path

from harness.contract.base import ClauseResult
from harness.record import Run
from harness.report.figures import overall_verdict, title_of
from harness.report.files import RewritingHandler, RunResults, write_atomically
from harness.report.html import charts, tables
from harness.report.svg import e

CSS = """
body{font-family:system-ui,-apple-system,"Segoe UI",Roboto,"DejaVu Sans",sans-serif;color:#222;margin:0;
background:#f6f7f9;font-size:14px;line-height:1.45}
main{max-width:1180px;margin:0 auto;padding:24px 28px 60px}
h1{font-size:22px;margin:0 0 4px}h2{font-size:19px;margin:0 0 6px}
h3{font-size:15px;margin:22px 0 8px;color:#444;text-transform:uppercase;letter-spacing:.04em}
section.run{background:#fff;border:1px solid #dde1e6;border-radius:8px;padding:20px 24px;margin:20px 0}
.meta{color:#555;margin:2px 0 0;display:flex;flex-wrap:wrap;column-gap:16px}.meta span{white-space:nowrap}
.badge{display:inline-block;padding:1px 9px;border-radius:10px;font-weight:700;font-size:12px;color:#fff;
vertical-align:2px;margin-right:6px;text-transform:uppercase}
.pass{background:#2f9e44}.fail{background:#d9480f}.error{background:#b08900}
.completed{background:#5c7cfa}.aborted{background:#b08900}
table{border-collapse:collapse;width:100%;margin:4px 0 8px;font-size:13px}
th,td{border-bottom:1px solid #e6e8eb;padding:5px 8px;text-align:left;vertical-align:top}
th{background:#f1f3f5;font-weight:600;white-space:nowrap}td.num,th.num{text-align:right;font-variant-numeric:tabular-nums}
tr.all td{font-weight:600;border-top:2px solid #ccd}
span.v{font-weight:700;text-transform:uppercase}.v-pass{color:#2f9e44}.v-fail{color:#d9480f}.v-error{color:#b08900}
code{font-size:12px;color:#555;word-break:break-all}
.err{color:#c92a2a;font-weight:600}
.grid{display:grid;grid-template-columns:repeat(2,minmax(0,1fr));gap:8px 28px}
.note{color:#666;font-size:12px;margin:2px 0 8px}
svg.chart{width:100%;height:auto;display:block}
.sub{color:#666;margin:0 0 8px}
.wide{overflow-x:auto}
@media (max-width:900px){main{padding:14px 10px 40px}section.run{padding:14px 12px}
.grid{grid-template-columns:minmax(0,1fr)}table{font-size:12px}th,td{padding:4px 5px}}
"""


def run_section(run: Run, results: Sequence[ClauseResult], anchor: str = "run-1") -> str:
    """The HTML section of one run (header, verdicts, charts and tables)."""
    return "".join(
        [
            f'<section class="run">{tables.header(run, results, anchor)}',
            f"<h3>Contract</h3>{tables.verdicts(results)}",
            "<h3>Latency over time</h3>",
            tables.note(
                "E2E and TTFT from the scheduled send time (open loop: no coordinated omission); "
                "phases shaded. Hover a point for its request id."
            ),
            charts.latency_chart(run),
            "<h3>Per-phase percentiles</h3>",
            tables.note(
                "Percentiles by linear interpolation over the raw samples of answered requests "
                "(2xx); errors are requests with no answer or status ≥ 400."
            ),
            tables.phase_table(run),
            f"<h3>Outcome mix</h3>{charts.outcomes(run)}",
            f"<h3>Provider attempts per request</h3>{charts.attempts(run)}",
            f"<h3>Tokens and cost</h3>{tables.spend(run)}</section>",
        ]
    )


def render_html(runs_and_results: Sequence[RunResults], title: str | None = None) -> str:
    """The whole page for one or several runs."""
    if title is None:
        title = title_of(runs_and_results[0][0]) if len(runs_and_results) == 1 else "rehearsal report"
    written = datetime.now(UTC).strftime("%Y-%m-%d %H:%M:%S UTC")
    summary = ""
    if len(runs_and_results) > 1:
        rows = [
            [
                tables.badge(overall_verdict(run, res)),
                f'<a href="#run-{i}">{e(title_of(run))}</a>',
                f"<code>{e(run.source)}</code>",
                f"{sum(r.verdict == 'pass' for r in res)}/{len(res)}",
                str(len(run.requests)),
            ]
            for i, (run, res) in enumerate(runs_and_results, 1)
        ]
        summary = tables.table(["verdict", "experiment", "file", "clauses held", "requests"], rows)
    sections = "".join(run_section(run, res, f"run-{i}") for i, (run, res) in enumerate(runs_and_results, 1))
    return (
        '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{e(title)}</title><style>{CSS}</style></head>"
        f"<body><main><h1>Rehearsal report</h1><p class=sub>{e(title)} · written {e(written)}</p>"
        f"{summary}{sections}</main></body></html>\n"
    )


def write_html(
    path: str | os.PathLike[str], runs_and_results: Sequence[RunResults], title: str | None = None
) -> Path:
    """Write the page atomically; returns its path."""
    return write_atomically(
        path, lambda tmp: tmp.write_text(render_html(runs_and_results, title), encoding="utf-8")
    )


class HtmlHandler(RewritingHandler):
    """Rewrites the HTML page after every run, so it holds every experiment finished so far."""

    def write(self, path: Path, runs: Sequence[RunResults]) -> None:
        write_html(path, runs)

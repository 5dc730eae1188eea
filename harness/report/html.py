"""One self-contained HTML page for one or several runs: inline CSS and inline SVG, no scripts and
nothing fetched. Every string that came from a user, a target or the provider is escaped."""

from __future__ import annotations

import os
from collections import Counter
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path

from harness.analysis import answered, e2e_s, percentile
from harness.contract.base import ClauseResult
from harness.events import RunHandler
from harness.report import svg
from harness.report.figures import (
    NONE,
    TAGS,
    attempts_per_request,
    client_outcome,
    correlation_coverage,
    fmt_ms,
    ledger_faults,
    ledger_outcomes,
    overall_verdict,
    phase_figures,
    run_duration_s,
    spend_by,
    title_of,
)
from harness.report.svg import e
from harness.run.model import Run

RunResults = tuple[Run, Sequence[ClauseResult]]
MAX_POINTS = 4000  # per series; beyond that the scatter is sampled evenly (percentiles use all)

CSS = """
body{font-family:system-ui,-apple-system,"Segoe UI",Roboto,"DejaVu Sans",sans-serif;color:#222;margin:0;
background:#f6f7f9;font-size:14px;line-height:1.45}
main{max-width:1180px;margin:0 auto;padding:24px 28px 60px}
h1{font-size:22px;margin:0 0 4px}h2{font-size:19px;margin:0 0 6px}
h3{font-size:15px;margin:22px 0 8px;color:#444;text-transform:uppercase;letter-spacing:.04em}
section.run{background:#fff;border:1px solid #dde1e6;border-radius:8px;padding:20px 24px;margin:20px 0}
.meta{color:#555;margin:2px 0 0}.meta span{margin-right:16px;white-space:nowrap}
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
"""


def _table(
    head: Sequence[str], rows: Sequence[Sequence[str]], num_from: int = 99, row_cls: Sequence[str] = ()
) -> str:
    """Cells are HTML already; columns from `num_from` on are right-aligned numbers."""
    ths = "".join(f"<th{' class=num' if i >= num_from else ''}>{h}</th>" for i, h in enumerate(head))
    body = []
    for j, row in enumerate(rows):
        cls = f' class="{row_cls[j]}"' if j < len(row_cls) and row_cls[j] else ""
        tds = "".join(f"<td{' class=num' if i >= num_from else ''}>{c}</td>" for i, c in enumerate(row))
        body.append(f"<tr{cls}>{tds}</tr>")
    return f"<table><thead><tr>{ths}</tr></thead><tbody>{''.join(body)}</tbody></table>"


def _badge(word: str, label: str | None = None) -> str:
    return f'<span class="badge {e(word)}">{e(word if label is None else label)}</span>'


def _header(run: Run, results: Sequence[ClauseResult], anchor: str) -> str:
    started = datetime.fromtimestamp(run.started_at, UTC).strftime("%Y-%m-%d %H:%M:%S UTC")
    meta = [
        f"file <code>{e(run.source)}</code>" if run.source else "",
        f"started {e(started)}",
        f"{run_duration_s(run):.1f} s",
        f"{len(run.requests)} requests",
        f"{len(run.ledger)} provider calls",
        f"correlation {e(correlation_coverage(run).text())}",
    ]
    spans = "".join(f"<span>{m}</span>" for m in meta if m)
    err = f'<p class="err">run error: {e(run.error)}</p>' if run.error else ""
    badges = _badge(overall_verdict(run, results)) + _badge(run.status, f"run {run.status}")
    return f'<h2 id="{anchor}">{badges}{e(title_of(run))}</h2><p class="meta">{spans}</p>{err}'


def _verdicts(results: Sequence[ClauseResult]) -> str:
    if not results:
        return '<p class="note">No contract results.</p>'
    rows = [
        [
            f"<b>{e(r.title or r.clause)}</b><br><code>{e(r.clause)}</code>",
            e(r.expected),
            e(r.observed),
            f'<span class="v v-{e(r.verdict)}">{e(r.verdict)}</span>',
            "<br>".join(f"<code>{e(o)}</code>" for o in r.offenders),
        ]
        for r in results
    ]
    return _table(["clause", "expected", "observed", "verdict", "offending requests"], rows)


def _sample(xs: list[int]) -> list[int]:
    if len(xs) <= MAX_POINTS:
        return xs
    step = len(xs) / MAX_POINTS
    return [xs[int(i * step)] for i in range(MAX_POINTS)]


def _latency_chart(run: Run) -> str:
    reqs = run.requests
    e2e = [e2e_s(r) for r in reqs]
    ok = _sample([i for i, r in enumerate(reqs) if e2e[i] is not None and answered(r)])
    bad = _sample([i for i, r in enumerate(reqs) if e2e[i] is not None and not answered(r)])
    ttft = _sample([i for i, r in enumerate(reqs) if r.ttft_s is not None and answered(r)])

    def tip(i: int, what: str, v: float) -> str:
        r = reqs[i]
        return f"{r.id} · {r.phase} · {client_outcome(r)} · {what} {v * 1000:.0f} ms @ {r.scheduled_s:.2f} s"

    series = [
        svg.Series(
            "E2E (answered)",
            svg.PALETTE[0],
            [(reqs[i].scheduled_s, (e2e[i] or 0.0) * 1000) for i in ok],
            [tip(i, "E2E", e2e[i] or 0.0) for i in ok],
        ),
    ]
    if ttft:
        series.append(
            svg.Series(
                "TTFT",
                svg.PALETTE[1],
                [(reqs[i].scheduled_s, (reqs[i].ttft_s or 0.0) * 1000) for i in ttft],
                [tip(i, "TTFT", reqs[i].ttft_s or 0.0) for i in ttft],
                radius=1.8,
            )
        )
    if bad:
        series.append(
            svg.Series(
                "E2E (failed)",
                "#d6336c",
                [(reqs[i].scheduled_s, (e2e[i] or 0.0) * 1000) for i in bad],
                [tip(i, "E2E", e2e[i] or 0.0) for i in bad],
                mark="cross",
            )
        )
    # x is the scheduled time, so the axis ends with the load, not with the slowest answer.
    duration = max([p.end_s for p in run.phases] + [r.scheduled_s for r in reqs], default=0.0)
    p95 = _rolling_p95(run, duration)
    if len(p95) >= 2:
        series.append(svg.Series("p95 per bin", "#1b1f3a", p95, mark="line"))
    if not any(s.points for s in series):
        return '<p class="note">No request finished, so there is no latency to draw.</p>'
    bands = [svg.Band(p.start_s, p.end_s, p.name) for p in run.phases]
    return svg.time_chart(
        series, bands, x_max=duration, x_label="scheduled send time (s)", y_label="latency (ms)"
    )


def _rolling_p95(run: Run, duration: float) -> list[tuple[float, float]]:
    if duration <= 0:
        return []
    width = max(duration / 30, 0.25)
    bins: dict[int, list[float]] = {}
    for r in run.requests:
        e2e = e2e_s(r)
        if e2e is not None and answered(r):
            bins.setdefault(int(r.scheduled_s // width), []).append(e2e * 1000)
    out = []
    for k in sorted(bins):
        value = percentile(bins[k], 95)
        if len(bins[k]) >= 5 and value is not None:
            out.append(((k + 0.5) * width, value))
    return out


def _phase_table(run: Run) -> str:
    figures = phase_figures(run)
    rows = []
    for p in figures:
        window = "" if p.start_s is None or p.end_s is None else f"{p.start_s:.1f}\u2013{p.end_s:.1f} s"
        rate = NONE if p.rate is None else f"{p.rate:.1f}"
        share = "" if not p.count else f" ({p.errors / p.count:.1%})"
        rows.append(
            [
                f"<b>{e(p.name)}</b>",
                e(window),
                str(p.count),
                f"{p.errors}{share}",
                rate,
                fmt_ms(p.p50_ms),
                fmt_ms(p.p95_ms),
                fmt_ms(p.p99_ms),
                fmt_ms(p.ttft_p50_ms),
                fmt_ms(p.ttft_p95_ms),
                fmt_ms(p.max_ms),
            ]
        )
    head = [
        "phase",
        "window",
        "requests",
        "errors",
        "req/s",
        "p50",
        "p95",
        "p99",
        "TTFT p50",
        "TTFT p95",
        "max",
    ]
    # The last row is the whole run.
    return _table(head, rows, num_from=2, row_cls=[""] * (len(rows) - 1) + ["all"])


def _outcome_colors(labels: Sequence[str]) -> dict[str, str]:
    shades = {
        "2": ["#2f9e44", "#69db7c", "#b2f2bb"],
        "3": ["#1098ad", "#66d9e8"],
        "4": ["#f59f00", "#ffd43b", "#e8590c"],
        "5": ["#e03131", "#ff8787", "#a61e4d", "#f783ac"],
    }
    others = ["#7048e8", "#868e96", "#495057", "#9775fa", "#ced4da"]
    used: dict[str, int] = {}
    colors = {}
    for label in sorted(labels, key=lambda s: (not s.isdigit(), s)):
        group = label[0] if label.isdigit() else "x"
        pool = shades.get(group, others)
        colors[label] = pool[used.get(group, 0) % len(pool)]
        used[group] = used.get(group, 0) + 1
    return colors


def _outcomes(run: Run) -> str:
    names = [p.name for p in run.phases] + sorted(
        {r.phase for r in run.requests} - {p.name for p in run.phases}
    )
    per_phase = [(name, Counter(client_outcome(r) for r in run.requests_in(name))) for name in names]
    colors = _outcome_colors(sorted({k for _, c in per_phase for k in c}))
    rows = [(name, [(k, float(c[k])) for k in colors if c[k]]) for name, c in per_phase if c]
    client = svg.stacked_hbars(rows, colors) if rows else '<p class="note">No requests.</p>'
    provider = ledger_outcomes(run)
    pcolors = {
        k: ("#2f9e44" if k.startswith("ok") else "#e03131" if k.startswith("error") else "#f59f00")
        for k in provider
    }
    faults = ledger_faults(run)
    return (
        '<p class="note">Client side, per phase: HTTP status the route answered, '
        "or the error when it did not.</p>"
        f"{client}<div class=grid><div><p class=note>Provider calls by outcome and status (ledger).</p>"
        f"{svg.hbars([(k, float(v), pcolors[k]) for k, v in provider.most_common()])}</div>"
        "<div><p class=note>Faults the provider injected, by kind.</p>"
        f"{svg.hbars([(k, float(v), svg.PALETTE[2]) for k, v in faults.most_common()])}</div></div>"
    )


def _attempts(run: Run) -> str:
    if not run.requests:
        return '<p class="note">No requests.</p>'
    dist = attempts_per_request(run)
    cap = 6
    items = [(str(n), float(dist.get(n, 0))) for n in range(cap)]
    items.append((f"{cap}+", float(sum(v for k, v in dist.items() if k >= cap))))
    while items and items[-1][1] == 0 and len(items) > 2:
        items.pop()
    worst = max(dist, default=0)
    return (
        '<p class="note">Provider calls per route request, joined on X-Request-Id '
        f"(0: not seen in the ledger). "
        f"Worst case: {worst}.</p>{svg.columns(items, x_label='provider calls per request', width=560)}"
    )


def _spend(run: Run) -> str:
    if not run.ledger:
        return '<p class="note">No provider calls in the ledger.</p>'
    parts = ['<p class="note">From the provider ledger, all attempts summed; highest cost first.</p>']
    for dim in (*TAGS, "model"):
        rows = [
            [
                e(s.key),
                str(s.calls),
                f"{s.input_tokens:,}",
                f"{s.output_tokens:,}",
                f"{s.cached_tokens:,}",
                f"${s.cost_usd:.4f}",
                f"${s.cost_usd / s.calls:.5f}" if s.calls else NONE,
            ]
            for s in spend_by(run.ledger, dim)
        ]
        head = [e(dim), "calls", "input tok", "output tok", "cached tok", "cost", "cost/call"]
        parts.append(_table(head, rows, num_from=1))
    return "".join(parts)


def run_section(run: Run, results: Sequence[ClauseResult], anchor: str = "run-1") -> str:
    """The HTML section of one run (header, verdicts, charts and tables)."""
    return (
        f'<section class="run">{_header(run, results, anchor)}'
        f"<h3>Contract</h3>{_verdicts(results)}"
        f"<h3>Latency over time</h3>"
        '<p class="note">E2E and TTFT from the scheduled send time (open loop: no coordinated omission); '
        "phases shaded. Hover a point for its request id.</p>"
        f"{_latency_chart(run)}"
        f"<h3>Per-phase percentiles</h3>"
        '<p class="note">Percentiles by linear interpolation over the raw samples of answered requests '
        "(2xx); errors are requests with no answer or status ≥ 400.</p>"
        f"{_phase_table(run)}"
        f"<h3>Outcome mix</h3>{_outcomes(run)}"
        f"<h3>Provider attempts per request</h3>{_attempts(run)}"
        f"<h3>Tokens and cost</h3>{_spend(run)}</section>"
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
                _badge(overall_verdict(run, res)),
                f'<a href="#run-{i}">{e(title_of(run))}</a>',
                f"<code>{e(run.source)}</code>",
                f"{sum(r.verdict == 'pass' for r in res)}/{len(res)}",
                str(len(run.requests)),
            ]
            for i, (run, res) in enumerate(runs_and_results, 1)
        ]
        summary = _table(["verdict", "experiment", "file", "clauses held", "requests"], rows)
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
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = target.with_name(f".{target.name}.{os.getpid()}.tmp")
    tmp.write_text(render_html(runs_and_results, title), encoding="utf-8")
    os.replace(tmp, target)
    return target


class HtmlHandler(RunHandler):
    """Rewrites the HTML page after every run, so it holds every experiment finished so far."""

    def __init__(self, path: str | os.PathLike[str]) -> None:
        self.path = Path(path)
        self.runs: list[RunResults] = []

    def run_finished(self, run: Run, results: Sequence[ClauseResult]) -> None:
        self.runs.append((run, list(results)))
        write_html(self.path, self.runs)

"""The text and table parts of a run's HTML section: its header line, the contract verdicts,
the per-phase percentiles and the spend. Every cell that came from a user, a target or the
provider is escaped here, where it is placed."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime

from harness.contract.base import ClauseResult
from harness.record import Run
from harness.report.figures import (
    NONE,
    TAGS,
    correlation_coverage,
    fmt_ms,
    overall_verdict,
    phase_figures,
    run_duration_s,
    spend_by,
    title_of,
)
from harness.report.svg import e


def table(
    head: Sequence[str], rows: Sequence[Sequence[str]], num_from: int = 99, row_cls: Sequence[str] = ()
) -> str:
    """Cells are HTML already; columns from `num_from` on are right-aligned numbers."""
    ths = "".join(f"<th{' class=num' if i >= num_from else ''}>{h}</th>" for i, h in enumerate(head))
    body = []
    for j, row in enumerate(rows):
        cls = f' class="{row_cls[j]}"' if j < len(row_cls) and row_cls[j] else ""
        tds = "".join(f"<td{' class=num' if i >= num_from else ''}>{c}</td>" for i, c in enumerate(row))
        body.append(f"<tr{cls}>{tds}</tr>")
    # A table wider than a narrow window scrolls inside its box, not the whole page.
    return (
        f'<div class="wide"><table><thead><tr>{ths}</tr></thead><tbody>{"".join(body)}</tbody></table></div>'
    )


def badge(word: str, label: str | None = None) -> str:
    """A coloured pill; `word` (a verdict or run status) picks the colour."""
    return f'<span class="badge {e(word)}">{e(word if label is None else label)}</span>'


def note(html: str) -> str:
    """A small grey paragraph: what a chart or table shows, or why it is missing."""
    return f'<p class="note">{html}</p>'


def header(run: Run, results: Sequence[ClauseResult], anchor: str) -> str:
    """The run's title with its verdict and status, and one line of facts about it."""
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
    badges = badge(overall_verdict(run, results)) + badge(run.status, f"run {run.status}")
    return f'<h2 id="{anchor}">{badges}{e(title_of(run))}</h2><p class="meta">{spans}</p>{err}'


def verdicts(results: Sequence[ClauseResult]) -> str:
    """One row per contract clause: expected, observed, verdict and the offending requests."""
    if not results:
        return note("No contract results.")
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
    return table(["clause", "expected", "observed", "verdict", "offending requests"], rows)


def phase_table(run: Run) -> str:
    """Counts, errors, rate and latency percentiles per phase, then for the whole run."""
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
    return table(head, rows, num_from=2, row_cls=[""] * (len(rows) - 1) + ["all"])


def spend(run: Run) -> str:
    """Calls, tokens and cost from the ledger, one table per tag and one per model."""
    if not run.ledger:
        return note("No provider calls in the ledger.")
    parts = [note("From the provider ledger, all attempts summed; highest cost first.")]
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
        parts.append(table(head, rows, num_from=1))
    return "".join(parts)

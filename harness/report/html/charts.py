"""The chart parts of a run's HTML section: latency over time, the outcome mix and the provider
attempts per request. Each turns a `Run` into the series a chart in `harness.report.svg` draws."""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence

from harness.analysis import answered, e2e_s, percentile
from harness.record import Run
from harness.report import svg
from harness.report.figures import attempts_per_request, client_outcome, ledger_faults, ledger_outcomes
from harness.report.html.tables import note

MAX_POINTS = 4000  # per series; beyond that the scatter is sampled evenly (percentiles use all)


def _sample(xs: list[int]) -> list[int]:
    """At most MAX_POINTS of `xs`, evenly spaced, so a long run does not make a huge page."""
    if len(xs) <= MAX_POINTS:
        return xs
    step = len(xs) / MAX_POINTS
    return [xs[int(i * step)] for i in range(MAX_POINTS)]


def latency_chart(run: Run) -> str:
    """E2E and TTFT of every request at its scheduled send time, a rolling p95, phases shaded."""
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
        return note("No request finished, so there is no latency to draw.")
    bands = [svg.Band(p.start_s, p.end_s, p.name) for p in run.phases]
    return svg.time_chart(
        series, bands, x_max=duration, x_label="scheduled send time (s)", y_label="latency (ms)"
    )


def _rolling_p95(run: Run, duration: float) -> list[tuple[float, float]]:
    """The p95 of answered requests in about 30 bins over the run (bins with under 5 are left out)."""
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


def _outcome_colors(labels: Sequence[str]) -> dict[str, str]:
    """Greens for 2xx, teals for 3xx, ambers for 4xx, reds for 5xx, greys and violets for errors."""
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


def outcomes(run: Run) -> str:
    """Client outcomes per phase, the provider calls by outcome, and the faults injected."""
    names = [p.name for p in run.phases] + sorted(
        {r.phase for r in run.requests} - {p.name for p in run.phases}
    )
    per_phase = [(name, Counter(client_outcome(r) for r in run.requests_in(name))) for name in names]
    colors = _outcome_colors(sorted({k for _, c in per_phase for k in c}))
    rows = [(name, [(k, float(c[k])) for k in colors if c[k]]) for name, c in per_phase if c]
    client = svg.stacked_hbars(rows, colors) if rows else note("No requests.")
    provider = ledger_outcomes(run)
    pcolors = {
        k: ("#2f9e44" if k.startswith("ok") else "#e03131" if k.startswith("error") else "#f59f00")
        for k in provider
    }
    faults = ledger_faults(run)
    provider_bars = svg.hbars([(k, float(v), pcolors[k]) for k, v in provider.most_common()])
    fault_bars = svg.hbars([(k, float(v), svg.PALETTE[2]) for k, v in faults.most_common()])
    return "".join(
        [
            note("Client side, per phase: HTTP status the route answered, or the error when it did not."),
            client,
            "<div class=grid><div><p class=note>Provider calls by outcome and status (ledger).</p>",
            f"{provider_bars}</div>",
            "<div><p class=note>Faults the provider injected, by kind.</p>",
            f"{fault_bars}</div></div>",
        ]
    )


def attempts(run: Run) -> str:
    """How many provider calls each route request caused (retries and fallbacks included)."""
    if not run.requests:
        return note("No requests.")
    dist = attempts_per_request(run)
    cap = 6
    items = [(str(n), float(dist.get(n, 0))) for n in range(cap)]
    items.append((f"{cap}+", float(sum(v for k, v in dist.items() if k >= cap))))
    while items and items[-1][1] == 0 and len(items) > 2:
        items.pop()
    worst = max(dist, default=0)
    return note(
        "Provider calls per route request, joined on X-Request-Id (0: not seen in the ledger). "
        f"Worst case: {worst}."
    ) + svg.columns(items, x_label="provider calls per request", width=560)

"""Figures the reports show, read off a `Run`: no verdicts are computed here."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from harness.analysis import answered, e2e_s, percentile
from harness.contract.base import ClauseResult, Verdict
from harness.record import LedgerCall, RequestRecord, Run

TAGS = ("route", "feature", "tenant")
NONE = "\u2013"  # an en dash: no value


def title_of(run: Run) -> str:
    title = run.experiment.get("title")
    return str(title) if title else run.source or "experiment"


def overall_verdict(run: Run, results: Sequence[ClauseResult]) -> Verdict:
    """The run's one-word outcome: error if it did not complete, fail if any clause failed,
    error if a clause could not be evaluated, else pass."""
    verdicts = {r.verdict for r in results}
    if run.status != "completed":
        return "error"
    if "fail" in verdicts:
        return "fail"
    if "error" in verdicts:
        return "error"
    return "pass"


def is_failed(record: RequestRecord) -> bool:
    """A request the client saw fail: no HTTP answer, or an HTTP status of 400 or more."""
    return record.error is not None or record.status is None or record.status >= 400


def client_outcome(record: RequestRecord) -> str:
    """ "200", "503", or the error kind ("timeout", "connect", "read") when there was no answer."""
    if record.status is not None:
        return str(record.status)
    if record.error:
        return record.error.split(":", 1)[0].strip() or "error"
    return "no answer"


def run_duration_s(run: Run) -> float:
    ends = [p.end_s for p in run.phases]
    ends.extend(r.end_s for r in run.requests if r.end_s is not None)
    ends.extend(r.sent_s for r in run.requests)
    return max(ends, default=0.0)


@dataclass(slots=True)
class Coverage:
    correlated: int
    total: int

    @property
    def share(self) -> float | None:
        return None if self.total == 0 else self.correlated / self.total

    def text(self) -> str:
        share = self.share
        if share is None:
            return "n/a (no requests)"
        return f"{self.correlated}/{self.total} ({share:.0%})"


def correlation_coverage(run: Run) -> Coverage:
    """Requests whose X-Request-Id shows up in the provider's ledger."""
    ids = {c.request_id for c in run.ledger}
    return Coverage(sum(1 for r in run.requests if r.id in ids), len(run.requests))


@dataclass(slots=True)
class PhaseFigures:
    name: str
    start_s: float | None
    end_s: float | None
    count: int
    errors: int
    p50_ms: float | None
    p95_ms: float | None
    p99_ms: float | None
    ttft_p50_ms: float | None
    ttft_p95_ms: float | None
    max_ms: float | None

    @property
    def rate(self) -> float | None:
        if self.start_s is None or self.end_s is None or self.end_s <= self.start_s:
            return None
        return self.count / (self.end_s - self.start_s)


def _figures(name: str, start: float | None, end: float | None, rs: Sequence[RequestRecord]) -> PhaseFigures:
    # Latency percentiles are over answered requests; failed ones count in `errors`.
    ok = [r for r in rs if answered(r)]
    e2e = [v * 1000 for v in map(e2e_s, ok) if v is not None]
    ttft = [r.ttft_s * 1000 for r in ok if r.ttft_s is not None]
    return PhaseFigures(
        name=name,
        start_s=start,
        end_s=end,
        count=len(rs),
        errors=sum(1 for r in rs if is_failed(r)),
        p50_ms=percentile(e2e, 50),
        p95_ms=percentile(e2e, 95),
        p99_ms=percentile(e2e, 99),
        ttft_p50_ms=percentile(ttft, 50),
        ttft_p95_ms=percentile(ttft, 95),
        max_ms=max(e2e, default=None),
    )


def phase_figures(run: Run) -> list[PhaseFigures]:
    """One row per phase (in run order, then any phase only seen on requests), and "all"."""
    rows = [_figures(p.name, p.start_s, p.end_s, run.requests_in(p.name)) for p in run.phases]
    known = {p.name for p in run.phases}
    extra = sorted({r.phase for r in run.requests} - known)
    rows.extend(_figures(name, None, None, run.requests_in(name)) for name in extra)
    rows.append(_figures("all", 0.0, run_duration_s(run), run.requests))
    return rows


def attempts_per_request(run: Run) -> Counter[int]:
    """How many provider calls each client request caused (0: none seen in the ledger)."""
    calls = Counter(c.request_id for c in run.ledger)
    return Counter(calls.get(r.id, 0) for r in run.requests)


def ledger_outcomes(run: Run) -> Counter[str]:
    """Provider calls by outcome and status, e.g. "ok 200", "error 503", "partial 200"."""
    return Counter(f"{c.outcome or '?'} {c.status}" for c in run.ledger)


def ledger_faults(run: Run) -> Counter[str]:
    out: Counter[str] = Counter()
    for c in run.ledger:
        if c.fault is not None:
            out[c.fault_kind or "?"] += 1
    return out


@dataclass(slots=True)
class Spend:
    key: str
    calls: int = 0
    input_tokens: int = 0
    output_tokens: int = 0
    cached_tokens: int = 0
    cost_usd: float = 0.0


def spend_by(ledger: Iterable[LedgerCall], dimension: str) -> list[Spend]:
    """Tokens and cost per value of a tag (`route`, `feature`, `tenant`) or of `model`;
    calls without the tag are grouped under "(untagged)". Sorted by cost, highest first."""
    groups: dict[str, Spend] = {}
    for c in ledger:
        value = c.model if dimension == "model" else c.tags.get(dimension)
        key = "(untagged)" if value in (None, "") else str(value)
        s = groups.get(key)
        if s is None:
            s = groups[key] = Spend(key)
        s.calls += 1
        s.input_tokens += c.input_tokens
        s.output_tokens += c.output_tokens
        s.cached_tokens += c.cached_tokens
        s.cost_usd += c.cost_usd
    return sorted(groups.values(), key=lambda s: (-s.cost_usd, -s.calls, s.key))


def fmt_ms(value: float | None) -> str:
    if value is None:
        return NONE
    if value >= 10_000:
        return f"{value / 1000:.1f} s"
    return f"{value:.0f} ms"

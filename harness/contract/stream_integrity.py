"""`stream_integrity`: a request whose answer was cut upstream is visibly incomplete to its caller.

A request was *cut upstream* when one of its joined provider calls was cut (ledger outcome
`partial` — a dropped stream or one ended by an error event —, `reset`, `timeout` — the provider
stalled until the route gave up — or `server_stopped`) and no call of it that started later
succeeded: a route that retried or fell back after the cut and then served a complete answer is
fine. Such a request is *visibly incomplete* when any of these holds: no status or a non-2xx
status; a transport error while reading (`RequestRecord.error`); the `signal_header` is present
(default `x-degraded`, any value); `error_marker` occurs in the body's kept tail (or its parsed
JSON); the stream carried an error event or, being in a known protocol (OpenAI, Anthropic,
Responses), ended without its terminator (`RequestRecord.stream_end`). Offenders are the cut
requests that looked complete. Cut calls not joined to a request cannot be placed on one: they
are counted, and if nothing else can be judged the verdict is `error`.
"""

from __future__ import annotations

from typing import Any

import orjson
from pydantic import Field

from harness.analysis import join, phase_calls, unknown_phase
from harness.contract._common import cannot_evaluate, first_ids, title
from harness.contract.base import Clause, ClauseParams, ClauseResult, Verdict, register
from harness.record import LedgerCall, RequestRecord, Run

DEFAULT_SIGNAL_HEADER = "x-degraded"


class StreamIntegrityParams(ClauseParams):
    phase: str | None = Field(default=None, description="only requests of this phase (default: all)")
    signal_header: str | None = Field(
        default=DEFAULT_SIGNAL_HEADER, min_length=1, description="a response header that says 'incomplete'"
    )
    error_marker: str | None = Field(
        default=None, min_length=1, description="text in the (streamed) body that says 'incomplete'"
    )


def cut_upstream(calls: list[LedgerCall]) -> LedgerCall | None:
    """The last cut call of a request's calls (in start order), unless a later call succeeded."""
    last_cut = next((c for c in reversed(calls) if c.cut), None)
    if last_cut is None:
        return None
    later_ok = any(c.outcome == "ok" and c.ts_start > last_cut.ts_start for c in calls)
    return None if later_ok else last_cut


def visible(r: RequestRecord, p: StreamIntegrityParams) -> str | None:
    """How the caller could tell the answer was incomplete, or None when it looked complete."""
    if r.status is None or not 200 <= r.status < 300:
        return f"status {r.status}"
    if r.error is not None:
        return "read error"
    if p.signal_header is not None and p.signal_header.lower() in r.headers:
        return f"header {p.signal_header.lower()}"
    if p.error_marker is not None:
        if r.tail is not None and p.error_marker in r.tail:
            return "error marker"
        if r.body is not None and p.error_marker in orjson.dumps(r.body).decode():
            return "error marker"
    if r.stream_end in ("error", "unterminated"):
        return f"stream {r.stream_end}"
    return None


@register
class StreamIntegrity(Clause):
    name = "stream_integrity"
    Params = StreamIntegrityParams

    def evaluate(self, run: Run) -> ClauseResult:
        p = self.params
        assert isinstance(p, StreamIntegrityParams)
        name, head = self.name, title(self.name, p.phase)
        signals = ["non-2xx", "read error", "error event or missing terminator"]
        if p.signal_header is not None:
            signals.append(f"header {p.signal_header.lower()}")
        if p.error_marker is not None:
            signals.append(f"marker {p.error_marker!r}")
        expected = f"every request cut upstream visibly incomplete ({', '.join(signals)})"
        if why := unknown_phase(run, p.phase):
            return cannot_evaluate(name, head, expected, why)
        requests = run.requests_in(p.phase)
        if not requests:
            return cannot_evaluate(name, head, expected, "no request was sent")
        if not run.ledger:
            return cannot_evaluate(name, head, expected, "the provider recorded no call")
        joined = join(run)
        cut: list[tuple[RequestRecord, LedgerCall]] = [
            (r, c) for r in requests if (c := cut_upstream(joined.calls_of(r.id))) is not None
        ]
        unjoined_cut = sum(
            1 for c in phase_calls(run, p.phase, joined) if c.cut and c.request_id not in joined.by_request
        )
        details: dict[str, Any] = {
            "requests": len(requests),
            "cut": len(cut),
            "cut_calls_not_joined": unjoined_cut,
        }
        if not cut:
            why = "no request had its provider call cut"
            if unjoined_cut:
                why += f"; {unjoined_cut} cut calls not joined to a request (X-Request-Id not forwarded)"
            return cannot_evaluate(name, head, expected, why, details)
        how: dict[str, int] = {}
        silent: list[str] = []
        cut_by: dict[str, int] = {}
        for r, c in cut:
            cut_by[c.outcome] = cut_by.get(c.outcome, 0) + 1
            shown = visible(r, p)
            if shown is None:
                silent.append(r.id)
            else:
                how[shown] = how.get(shown, 0) + 1
        details |= {"looked_complete": len(silent), "cut_by": cut_by, "visible_by": how}
        observed = f"{len(silent)} of {len(cut)} cut requests looked complete"
        if how:
            observed += "; visible by " + ", ".join(
                f"{k} x{n}" for k, n in sorted(how.items(), key=lambda kv: -kv[1])
            )
        if unjoined_cut:
            observed += f" ({unjoined_cut} cut calls not joined to a request)"
        verdict: Verdict = "fail" if silent else "pass"
        return ClauseResult(name, head, expected, observed, verdict, first_ids(silent), details)

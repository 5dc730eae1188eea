"""`no_silent_fallback`: every request a fallback model served says so in its response.

Per the ledger, a request was served by a fallback when its last successful (status 200) call
used another model than its first call to the same API (so an embeddings call before the chat
call is not a "primary"); with `primary_models`, when that model is not one of them. Such a
request carries the signal when its response has every configured signal: the header
`signal_header` with a non-empty value, and the body field `signal_body` (dotted path) with a
value that is not null, false or empty. Default signal: the header `x-degraded`.

Needs correlation: only requests with joined calls can be judged. Requests without a 2xx
answer are not checked (a failure is not a silent fallback), only counted.
"""

from __future__ import annotations

from typing import Any

from pydantic import Field, model_validator

from harness.analysis import join, unknown_phase
from harness.contract._common import MISSING, cannot_evaluate, dig, first_ids, title
from harness.contract.base import Clause, ClauseParams, ClauseResult, Verdict, register
from harness.record import LedgerCall, RequestRecord, Run

DEFAULT_SIGNAL_HEADER = "x-degraded"


class NoSilentFallbackParams(ClauseParams):
    signal_header: str | None = Field(default=None, description="response header saying 'degraded'")
    signal_body: str | None = Field(default=None, description="dotted path of a body field saying so")
    primary_models: list[str] | None = Field(default=None, min_length=1, description="models not fallbacks")
    phase: str | None = Field(default=None, description="only requests of this phase (default: all)")

    @model_validator(mode="before")
    @classmethod
    def _default_signal(cls, data: Any) -> Any:
        if isinstance(data, dict) and data.get("signal_header") is None and data.get("signal_body") is None:
            return {**data, "signal_header": DEFAULT_SIGNAL_HEADER}
        return data


def fallback_model(calls: list[LedgerCall], primary_models: list[str] | None) -> str | None:
    """The fallback model that served these calls (in start order), or None."""
    served = next((c for c in reversed(calls) if c.status == 200), None)
    if served is None:
        return None
    if primary_models is not None:
        return None if served.model in primary_models else served.model
    first = next(c for c in calls if c.api == served.api)
    return served.model if served.model != first.model else None


def missing_signal(r: RequestRecord, p: NoSilentFallbackParams) -> str | None:
    if p.signal_header is not None and not r.headers.get(p.signal_header.lower()):
        return f"no {p.signal_header.lower()} header"
    if p.signal_body is not None:
        value = dig(r.body, p.signal_body)
        if value is MISSING or value is None or value is False or value in ("", [], {}):
            return f"no body.{p.signal_body}"
    return None


@register
class NoSilentFallback(Clause):
    name = "no_silent_fallback"
    Params = NoSilentFallbackParams

    def evaluate(self, run: Run) -> ClauseResult:
        p = self.params
        assert isinstance(p, NoSilentFallbackParams)
        name, head = self.name, title(self.name, p.phase)
        signals = [f"header {p.signal_header}"] if p.signal_header else []
        signals += [f"body.{p.signal_body}"] if p.signal_body else []
        expected = f"every fallback-served response carries {' and '.join(signals)}"
        if why := unknown_phase(run, p.phase):
            return cannot_evaluate(name, head, expected, why)
        if not run.ledger:
            return cannot_evaluate(name, head, expected, "the provider recorded no call")
        joined = join(run)
        details: dict[str, Any] = {"coverage": joined.coverage.as_dict()}
        if not joined.by_request:
            why = (
                "no provider call carries a request's X-Request-Id (the route does not forward it): "
                "cannot tell which responses a fallback served"
            )
            return cannot_evaluate(name, head, expected, why, details)
        requests = [r for r in run.requests_in(p.phase) if r.id in joined.by_request]
        by_model: dict[str, int] = {}
        silent: list[tuple[str, str]] = []
        signalled = unanswered = 0
        for r in requests:
            model = fallback_model(joined.by_request[r.id], p.primary_models)
            if model is None:
                continue
            by_model[model] = by_model.get(model, 0) + 1
            if r.status is None or not 200 <= r.status < 300:
                unanswered += 1
            elif (why := missing_signal(r, p)) is not None:
                silent.append((r.id, why))
            else:
                signalled += 1
        served = signalled + len(silent) + unanswered
        details |= {
            "requests_judged": len(requests),
            "fallback_served": served,
            "signalled": signalled,
            "silent": len(silent),
            "not_answered": unanswered,
            "fallback_models": by_model,
        }
        if not served:
            observed = f"no request served by a fallback model (of {len(requests)} correlated)"
            return ClauseResult(name, head, expected, observed, "pass", [], details)
        observed = f"{served} served by a fallback ({', '.join(by_model)}): {signalled} signalled"
        if silent:
            observed += f", {len(silent)} silent ({silent[0][1]})"
        if unanswered:
            observed += f", {unanswered} not answered 2xx"
        verdict: Verdict = "fail" if silent else "pass"
        return ClauseResult(name, head, expected, observed, verdict, first_ids(i for i, _ in silent), details)

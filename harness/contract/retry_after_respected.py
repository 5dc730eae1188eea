"""`retry_after_respected`: no retry sooner than the provider's retry-after, and some backoff
after every 429/5xx.

A retry is the next call of the same route request (ledger records joined on X-Request-Id, or
one fingerprint group when the route does not forward it) to the same API and model, so an
immediate switch to a fallback model is not a retry. After a call answered 429 or 5xx, the
retry must start no sooner than `ts_end + retry_after - tolerance`; without a retry-after, no
sooner than `ts_end + tolerance` (an immediate retry is no backoff).

The ledger holds no response headers, so the retry-after a call got is derived from why it
failed, the way the fake provider writes its headers:
- a `rate_limit` fault (`fault.kind`): its rule's parameters, found by `fault.rule` in
  `Run.fault_rules`, else among the experiment's phase faults (the runner names them
  `<phase>/<name or kind-N>`). `retry_after_ms` -> that many ms; `retry_after_s` (default 1 s)
  -> that; Anthropic APIs get whole seconds, rounded up; `retry_after_date` -> one second less
  (an HTTP date has whole seconds); `omit_retry_after` -> none. An unknown rule: not checked
  against a retry-after, only for backoff (counted in details as `unknown`).
- a 429 with no fault is the provider's quota limiter: OpenAI APIs get the wait the error
  message states ("try again in 1.5s", what `retry-after-ms` says; Gemini's "retry in 1.5s",
  what its `RetryInfo` says); Anthropic APIs get
  `retry-after` of at least 1 s, so 1 s is required.
- 5xx faults send no retry-after.
"""

from __future__ import annotations

import math
import re
from typing import Any

from pydantic import Field

from harness.analysis import join, units, unknown_phase
from harness.contract._common import cannot_evaluate, first_ids, ms, title
from harness.contract.base import Clause, ClauseParams, ClauseResult, register
from harness.record import LedgerCall, Run

_WAIT_TEXT = re.compile(r"(?:try again|retry) in ((?:\d+(?:\.\d+)?(?:ms|h|m|s))+)")
_WAIT_PART = re.compile(r"(\d+(?:\.\d+)?)(ms|h|m|s)")
_UNIT_S = {"ms": 0.001, "s": 1.0, "m": 60.0, "h": 3600.0}
MAX_LISTED = 20


class RetryAfterParams(ClauseParams):
    tolerance_ms: int = Field(default=50, ge=0, description="timing slack, and the least backoff")
    phase: str | None = Field(default=None, description="only requests of this phase (default: all)")


def fault_rules(run: Run) -> dict[str, dict[str, Any]]:
    """Fault parameters by rule name: the provider's own list first, then the phase faults."""
    rules: dict[str, dict[str, Any]] = {}
    for phase in run.experiment.get("phases") or []:
        for i, rule in enumerate(phase.get("faults") or []):
            fault = rule.get("fault") or {}
            rules[f"{phase.get('name')}/{rule.get('name') or str(fault.get('kind')) + '-' + str(i + 1)}"] = (
                fault
            )
    for rule in run.fault_rules:
        if "name" in rule:
            rules[str(rule["name"])] = rule.get("fault") or {}
    return rules


def retry_after_s(call: LedgerCall, rules: dict[str, dict[str, Any]]) -> tuple[float | None, str]:
    """The retry-after (s) the provider sent with this failed call, and where it came from:
    `rule`, `limit`, `none` (no header) or `unknown`."""
    anthropic = call.api.startswith("anthropic")
    if call.fault_kind == "rate_limit":
        p = rules.get(call.fault_rule or "")
        if p is None:
            return None, "unknown"
        if p.get("omit_retry_after"):
            return None, "none"
        if p.get("retry_after_ms") is not None:
            wait = float(p["retry_after_ms"]) / 1000
            return (float(math.ceil(wait)) if anthropic else wait), "rule"
        wait = 1.0 if p.get("retry_after_s") is None else float(p["retry_after_s"])
        if p.get("retry_after_date"):
            return max(0.0, wait - 1.0), "rule"
        return (float(math.ceil(wait)) if anthropic else wait), "rule"
    if call.status == 429 and call.fault_kind is None:
        if anthropic:
            return 1.0, "limit"
        found = _WAIT_TEXT.search(call.error or "")
        if found is None:
            return None, "unknown"
        return sum(float(n) * _UNIT_S[u] for n, u in _WAIT_PART.findall(found.group(1))), "limit"
    return None, "none"


def retryable(call: LedgerCall) -> bool:
    return call.status == 429 or call.status >= 500


@register
class RetryAfterRespected(Clause):
    name = "retry_after_respected"
    Params = RetryAfterParams

    def evaluate(self, run: Run) -> ClauseResult:
        p = self.params
        assert isinstance(p, RetryAfterParams)
        name, head = self.name, title(self.name, p.phase)
        tol = p.tolerance_ms / 1000
        expected = (
            f"retries wait retry-after (-{p.tolerance_ms} ms), else >= {p.tolerance_ms} ms after a 429/5xx"
        )
        if why := unknown_phase(run, p.phase):
            return cannot_evaluate(name, head, expected, why)
        if not run.ledger:
            return cannot_evaluate(name, head, expected, "the provider recorded no call")
        joined = join(run)
        rules = fault_rules(run)
        sources: dict[str, int] = {}
        checked = 0
        early: list[dict[str, Any]] = []
        for unit in units(run, p.phase, joined):
            last: dict[tuple[str, str | None], LedgerCall] = {}
            for attempt, call in enumerate(unit.calls, start=1):
                key = (call.api, call.model)
                before = last.get(key)
                last[key] = call
                if before is None or not retryable(before):
                    continue
                wait, source = retry_after_s(before, rules)
                sources[source] = sources.get(source, 0) + 1
                checked += 1
                gap = call.ts_start - before.ts_end
                need = wait - tol if wait is not None else tol
                if gap < need:
                    early.append(
                        {
                            "request": unit.id,
                            "model": call.model,
                            "after_status": before.status,
                            "retry_after_ms": ms(wait),
                            "gap_ms": ms(gap),
                            "attempt": attempt,
                        }
                    )
        details: dict[str, Any] = {
            "retries_checked": checked,
            "retry_after_from": sources,
            "early": len(early),
            "violations": early[:MAX_LISTED],
            "coverage": joined.coverage.as_dict(),
        }
        if not checked:
            observed = "no retry after a 429/5xx"
            return ClauseResult(name, head, expected, observed, "pass", [], details)
        if not early:
            observed = f"all {checked} retries after a 429/5xx waited"
            return ClauseResult(name, head, expected, observed, "pass", [], details)
        e = early[0]
        wanted = f"retry-after {e['retry_after_ms']:g} ms" if e["retry_after_ms"] is not None else "a backoff"
        observed = (
            f"{len(early)} of {checked} retries too early (e.g. {e['gap_ms']:g} ms after a "
            f"{e['after_status']}, wanted {wanted})"
        )
        offenders = first_ids(str(v["request"]) for v in early)
        return ClauseResult(name, head, expected, observed, "fail", offenders, details)

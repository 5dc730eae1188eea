"""The contract of a planned rehearsal, every clause taken from the route's spec.

- steady: the normal answer (`ok`), a baseline before the fault;
- fault: the degraded answer of the failure mode, within the route timeout;
- recovery: the normal answer again, no errors, and the latency budget: requests of this phase
  are sent after the fault is gone, so nothing in flight from the fault skews them;
- every phase: the retry cap (attempts x re-asks), the worst-case budget and the per-call caps,
  attribution, correlation, no silent fallback, and the retry-after where 429s are the fault;
- the SPEC §10 clauses (breaker, amplification, goodput, cache, stream integrity) come from
  `more_clauses`.
"""

from __future__ import annotations

from contextlib import suppress
from typing import Any

from harness.routes.cost import Uncomputable, calls_per_request, worst_case
from harness.routes.spec import Degraded, FailureMode, Route, Signal

# Latency is measured from the scheduled send time: the route's own timeout, plus the time to
# reach it and to carry its answer back, plus open-loop lag.
ROUTE_TIMEOUT_GRACE_S = 1.0


def contract(
    route: Route, mode: FailureMode, d: Degraded, *, phased: bool, calls: bool, signal: Signal
) -> list[dict[str, Any]]:
    """The clauses a rehearsal of `mode` checks. `phased`: steady and recovery phases exist;
    `calls`: the route calls the provider in this rehearsal."""
    assert d.expect is not None
    dump: dict[str, Any] = {"exclude_defaults": True, "mode": "json"}
    clauses: list[dict[str, Any]] = []
    if phased:
        ok = route.ok.model_dump(**dump)
        clauses.append({"degradation": {"phase": "steady", "expect": ok}})
        clauses.append({"degradation": {"phase": "recovery", "expect": ok}})
        clauses.append({"error_rate": {"phase": "recovery", "max": 0}})
        lat = route.latency.model_dump(exclude_none=True, exclude={"goodput_min"}) if route.latency else {}
        if lat:
            clauses.append({"latency": {"phase": "recovery", **lat}})
    degraded: dict[str, Any] = {"phase": "fault", "expect": d.expect.model_dump(**dump)}
    if d.min_share < 1:
        degraded["min_share"] = d.min_share
    clauses.append({"degradation": degraded})
    if route.retry and route.retry.route_timeout_s:
        p99 = (route.retry.route_timeout_s + ROUTE_TIMEOUT_GRACE_S) * 1000
        clauses.append({"latency": {"phase": "fault", "p99_ms": p99, "include_errors": True}})
    if not calls:
        return clauses
    with suppress(Uncomputable):  # lint reports it; the rehearsal checks what the spec does give
        clauses.append({"retries": {"max_attempts_per_request": calls_per_request(route)}})
    budget = _budget(route)
    if budget:
        clauses.append({"budget": budget})
    if route.attribution and route.attribution.tags:
        clauses.append({"attribution": {"required_tags": list(route.attribution.tags)}})
    clauses.append({"correlation": {}})
    if route.models and route.models.fallback and route.models.primary:
        header, body = signal.header, signal.body
        silent: dict[str, Any] = {"primary_models": [route.models.primary]}
        if header:
            silent["signal_header"] = header
        if body and route.stream != "sse":
            silent["signal_body"] = body
        clauses.append({"no_silent_fallback": silent})
    if mode == "rate_limited":
        clauses.append({"retry_after_respected": {}})
    return clauses


def _budget(route: Route) -> dict[str, Any]:
    """The worst case per request (when computable) and the caps of every single call."""
    budget: dict[str, Any] = {}
    with suppress(Uncomputable):
        w = worst_case(route)
        budget = {
            "max_input_tokens": w.input_tokens,
            "max_output_tokens": w.output_tokens,
            "max_cost_usd_per_request": round(w.cost_usd, 9),
        }
    tokens = route.tokens
    if tokens is not None and tokens.input_cap is not None:
        budget["max_input_tokens_per_call"] = tokens.input_cap
    if tokens is not None and tokens.output_cap is not None:
        budget["max_output_tokens_per_call"] = tokens.output_cap
    return budget

"""The SPEC §10 clauses of a planned rehearsal, each from the spec field that declares it, or the
reason it is left out (the plan writes the reasons into the experiment file's header).

- `breaker` and `amplification` (`unavailable`, `rate_limited`): the fleet's calls to the failing
  primary stay bounded (a breaker or a shared backoff), and the mean calls and cost per request
  in the fault phase stay within the retry policy;
- `goodput` (recovery): the share of requests answered successfully within the latency budget;
- `cache` (steady): the cache layers' target hit rates;
- `stream_integrity` (`malformed`, streamed routes): a cut upstream is visible to the caller.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

from harness.routes.cost import Uncomputable, calls_per_request, worst_case
from harness.routes.spec import FailureMode, Route, Signal

DEFAULT_GOODPUT_MIN = 0.95  # the latency targets are p95 targets: 95% of requests within them
FLEET_MODES: tuple[FailureMode, ...] = ("unavailable", "rate_limited")
RESPONSE_LAYERS = ("full_response", "semantic")  # a hit answers with no provider call


@dataclass(frozen=True, slots=True)
class Rehearsal:
    """What the clauses need of the planned experiment: the judged fault phase, the arrival rate,
    and how long one request spends on the primary under the fault (its attempts and backoff)."""

    fault_s: float
    rate: float
    primary_span_s: float


@dataclass(slots=True)
class Clauses:
    """Clauses planned, and why others are not."""

    planned: list[dict[str, Any]]
    absent: list[str]

    def add(self, name: str, params: dict[str, Any]) -> None:
        self.planned.append({name: params})

    def skip(self, name: str, why: str) -> None:
        self.absent.append(f"{name}: {why}")


def primary_attempts(route: Route) -> int:
    retry = route.retry
    return (retry.primary_attempts or retry.max_attempts or 1) if retry else 1


def shared_backoff_growth_s(route: Route) -> float:
    """How long a shared backoff takes to grow to `max_s` (base, 2 x base, ... under max_s)."""
    b = route.retry.backoff if route.retry else None
    if b is None or b.base_s <= 0:
        return 0.0
    total, step = 0.0, b.base_s
    while step < b.max_s:
        total += step
        step *= 2
    return total


def breaker(route: Route, r: Rehearsal, out: Clauses) -> None:
    """Calls to the primary from every request together, from when the bound has taken hold to
    the end of the fault phase: one probe per cool-down (breaker) or one call per `backoff.max_s`
    (shared backoff), plus one that may fall at the window's start."""
    retry, primary = route.retry, route.models.primary if route.models else None
    if primary is None or retry is None:
        out.skip("breaker", "models.primary and retry are needed")
        return
    if r.rate <= 0:
        out.skip("breaker", "the trace has no arrivals in the fault phase")
        return
    if retry.breaker is not None:
        # The breaker has seen `failure_threshold` failures after this many arrivals (one more
        # for scheduling), and the last of them has finished its attempts on the primary.
        arrivals = math.ceil(retry.breaker.failure_threshold / primary_attempts(route)) + 1
        after_s = arrivals / r.rate + r.primary_span_s
        per_call_s = retry.breaker.cool_down_s
    elif retry.shared_backoff and retry.backoff is not None and retry.backoff.max_s > 0:
        after_s = shared_backoff_growth_s(route) + r.primary_span_s
        per_call_s = retry.backoff.max_s
    else:
        out.skip("breaker", "no retry.breaker (or retry.shared_backoff with a backoff) is declared")
        return
    window = r.fault_s - after_s
    if window <= 0:
        out.skip(
            "breaker",
            f"the fault phase ({r.fault_s:g} s) ends before the bound takes hold ({after_s:.3g} s)",
        )
        return
    allowed = math.floor(window / per_call_s) + 1
    out.add(
        "breaker",
        {
            "phase": "fault",
            "model": primary,
            "after_s": round(after_s, 3),
            "max_calls_per_s": round(allowed / window, 3),
        },
    )


def amplification(route: Route, out: Clauses) -> None:
    """Mean calls per request in the fault phase within the retry policy (attempts, every model,
    x re-asks); cost per request against the steady phase within the worst case over one call
    on the primary at the caps (the steady phase makes one primary call per request)."""
    try:
        params: dict[str, Any] = {"phase": "fault", "max_calls_per_request": calls_per_request(route)}
    except Uncomputable as e:
        out.skip("amplification", str(e))
        return
    try:
        w = worst_case(route)
        primary = route.models.primary if route.models else None
        one_call = w.per_call_usd.get(primary or "", 0.0)
        if one_call > 0:
            params["baseline_phase"] = "steady"
            # Rounded up to 3 decimals (after float noise is rounded away).
            params["max_cost_ratio"] = math.ceil(round(w.cost_usd / one_call, 6) * 1000) / 1000
    except Uncomputable as e:
        out.skip("amplification.max_cost_ratio", str(e))
    out.add("amplification", params)


def goodput(route: Route, out: Clauses) -> None:
    lat = route.latency
    e2e = (lat.p95_ms or lat.p99_ms) if lat else None
    if lat is None or e2e is None:
        out.skip("goodput", "latency.p95_ms (or p99_ms) is not declared")
        return
    params: dict[str, Any] = {"phase": "recovery", "min": lat.goodput_min or DEFAULT_GOODPUT_MIN}
    params["e2e_ms"] = e2e
    if route.stream == "sse" and lat.ttft_p95_ms is not None:
        params["ttft_ms"] = lat.ttft_p95_ms
    out.add("goodput", params)


def cache(route: Route, out: Clauses) -> None:
    """Target hit rates as shares of the steady phase: the prompt-prefix layer's of input tokens
    cached, the response layers' (full response, semantic; the higher) of requests answered with
    no provider call. The embedding layer's rate is per text, not per request: not checked."""
    c = route.cache
    targets = {
        name: layer.target_hit_rate
        for name in ("prompt_prefix", *RESPONSE_LAYERS)
        if c is not None and (layer := getattr(c, name)) and layer.target_hit_rate
    }
    params: dict[str, Any] = {"phase": "steady"}
    if "prompt_prefix" in targets:
        params["min_prompt_cache_share"] = targets["prompt_prefix"]
    responses = [v for n, v in targets.items() if n in RESPONSE_LAYERS]
    if responses:
        params["min_response_cache_share"] = max(responses)
    if len(params) == 1:
        out.skip("cache", "no prompt_prefix, full_response or semantic layer declares a target_hit_rate")
        return
    out.add("cache", params)


def stream_integrity(route: Route, signal: Signal, out: Clauses) -> None:
    if route.stream != "sse":
        out.skip("stream_integrity", "the route does not stream")
        return
    params: dict[str, Any] = {"phase": "fault"}
    if signal.header:
        params["signal_header"] = signal.header
    if signal.stream_marker:
        params["error_marker"] = signal.stream_marker
    out.add("stream_integrity", params)


def more_clauses(
    route: Route, mode: FailureMode, signal: Signal, rehearsal: Rehearsal | None, calls: bool
) -> Clauses:
    """The §10 clauses of rehearsing `mode`; `rehearsal` is None when the experiment has no steady,
    fault and recovery phases (an oversized request alone)."""
    out = Clauses([], [])
    if rehearsal is None:
        return out
    goodput(route, out)
    cache(route, out)
    if mode in FLEET_MODES and calls:
        breaker(route, rehearsal, out)
        amplification(route, out)
    if mode == "malformed":
        stream_integrity(route, signal, out)
    return out

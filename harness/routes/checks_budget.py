"""Checklist items about what one request may spend: inventory, token and latency budgets, the
model class, the retry bound and the structured-output bound."""

from __future__ import annotations

from harness.routes.checklist import Context, Findings, item

_REFUSALS = ("refuse", "cached_response", "approximate_cached", "queued")


@item("route_inventory")
def route_inventory(ctx: Context, f: Findings) -> None:
    r = ctx.route
    f.need(r.caller, "caller")
    f.need(r.qps, "qps")
    f.need(r.peak_factor, "peak_factor")


@item("token_budget")
def token_budget(ctx: Context, f: Findings) -> None:
    t = ctx.route.tokens
    if not f.need(t, "tokens (input_cap, output_cap, hard_cap, on_breach)"):
        return
    f.need_fields("tokens", t, "input_cap", "output_cap", "hard_cap")
    f.need(t.on_breach, "tokens.on_breach (the action when a request is over its caps)")
    w = ctx.worst
    if t.hard_cap is not None and w is not None:
        f.contradiction(
            w.tokens > t.hard_cap,
            f"worst case {w.tokens} tokens per request ({w.calls} calls at the caps) is over "
            f"tokens.hard_cap {t.hard_cap}",
        )
    models = ctx.route.models
    for model_id in (models.primary, models.fallback) if models else ():
        info = ctx.model(model_id)
        if info is None:
            continue
        if t.input_cap is not None and info.kind == "chat":  # an embedding model's window is per text
            f.contradiction(
                t.input_cap > info.context_window,
                f"tokens.input_cap {t.input_cap} is over {model_id}'s context window {info.context_window}",
            )
        if t.output_cap is not None and info.kind == "chat":
            f.contradiction(
                t.output_cap > info.max_output_tokens,
                f"tokens.output_cap {t.output_cap} is over {model_id}'s output limit "
                f"{info.max_output_tokens}",
            )


@item("latency_budget")
def latency_budget(ctx: Context, f: Findings) -> None:
    lat = ctx.route.latency
    streams = ctx.route.stream == "sse"
    if not f.need(lat, "latency (p50_ms, p95_ms, p99_ms" + (", ttft_p95_ms)" if streams else ")")):
        return
    f.need_fields("latency", lat, "p50_ms", "p95_ms", "p99_ms")
    if streams:
        f.need(lat.ttft_p95_ms, "latency.ttft_p95_ms (the route streams)")
    ordered = [v for v in (lat.p50_ms, lat.p95_ms, lat.p99_ms) if v is not None]
    f.contradiction(ordered != sorted(ordered), "latency percentiles must not decrease (p50 <= p95 <= p99)")
    if lat.ttft_p95_ms is not None and lat.p95_ms is not None:
        f.contradiction(
            lat.ttft_p95_ms > lat.p95_ms, f"ttft_p95_ms {lat.ttft_p95_ms:g} is over p95_ms {lat.p95_ms:g}"
        )
    retry = ctx.route.retry
    if lat.p99_ms is not None and retry is not None and retry.route_timeout_s is not None:
        f.contradiction(
            lat.p99_ms > retry.route_timeout_s * 1000,
            f"p99_ms {lat.p99_ms:g} is over the route timeout ({retry.route_timeout_s:g} s): "
            "the timeout fires first",
        )


@item("model_class")
def model_class(ctx: Context, f: Findings) -> None:
    m = ctx.route.models
    if not f.need(m, "models (primary, fallback or a refusal contract, cascade)"):
        return
    f.need(m.primary, "models.primary")
    unavailable = ctx.route.degradation.unavailable if ctx.route.degradation else None
    refuses = unavailable is not None and unavailable.action in _REFUSALS
    if m.fallback is None and not refuses:
        f.missing.append("models.fallback, or a refusal contract (degradation.unavailable.action: refuse)")
    if m.fallback is not None:
        f.need(m.cascade, "models.cascade (when the fallback takes over)")
    for model_id in (m.primary, m.fallback):
        f.contradiction(
            model_id is not None and ctx.model(model_id) is None,
            f"model {model_id!r} is not in the provider catalogue",
        )
    f.contradiction(m.fallback is not None and m.fallback == m.primary, "the fallback is the primary model")
    primary, fallback = ctx.model(m.primary), ctx.model(m.fallback)
    if primary is not None and fallback is not None and m.fallback != m.primary:
        pricier = fallback.input_per_m > primary.input_per_m or fallback.output_per_m > primary.output_per_m
        f.contradiction(
            pricier,
            f"fallback {m.fallback} is larger than primary {m.primary} "
            f"(${fallback.input_per_m:g}/${fallback.output_per_m:g} vs "
            f"${primary.input_per_m:g}/${primary.output_per_m:g} per M input/output tokens)",
        )


@item("retry_bound")
def retry_bound(ctx: Context, f: Findings) -> None:
    r = ctx.route.retry
    if not f.need(r, "retry (max_attempts, backoff, call_timeout_s, route_timeout_s, idempotency)"):
        return
    f.need_fields("retry", r, "max_attempts", "backoff", "call_timeout_s", "route_timeout_s")
    f.need(r.idempotency, "retry.idempotency (stateless, key or none)")
    if ctx.worst is None:
        f.missing.append(f"the worst-case cost per request: {ctx.worst_error}")
    p99 = ctx.route.latency.p99_ms if ctx.route.latency else None
    if r.call_timeout_s is not None and p99 is not None:
        f.contradiction(
            r.call_timeout_s * 1000 >= p99,
            f"per-call timeout {r.call_timeout_s:g} s is not shorter than the p99 budget ({p99:g} ms)",
        )
    if r.call_timeout_s is not None and r.route_timeout_s is not None:
        f.contradiction(
            r.call_timeout_s >= r.route_timeout_s,
            f"per-call timeout {r.call_timeout_s:g} s is not shorter than the route timeout "
            f"{r.route_timeout_s:g} s",
        )
    f.contradiction(
        (r.max_attempts or 1) > 1 and r.idempotency == "none",
        f"{r.max_attempts} attempts but the call is not idempotent (retries without idempotency)",
    )
    if r.primary_attempts is not None and r.max_attempts is not None:
        f.contradiction(
            r.primary_attempts > r.max_attempts,
            f"primary_attempts {r.primary_attempts} is over max_attempts {r.max_attempts}",
        )
        has_fallback = ctx.route.models is not None and ctx.route.models.fallback is not None
        f.contradiction(
            has_fallback and r.primary_attempts >= r.max_attempts,
            "no attempt is left for the fallback model (primary_attempts = max_attempts)",
        )
        if has_fallback and r.call_timeout_s is not None and r.route_timeout_s is not None:
            f.contradiction(
                r.primary_attempts * r.call_timeout_s >= r.route_timeout_s,
                f"{r.primary_attempts} primary attempts x {r.call_timeout_s:g} s leave no time for the "
                f"fallback within the route timeout ({r.route_timeout_s:g} s)",
            )
    if r.backoff is not None:
        f.contradiction(r.backoff.max_s < r.backoff.base_s, "retry.backoff.max_s is under base_s")
    _fleet_bound(ctx, f)


def _fleet_bound(ctx: Context, f: Findings) -> None:
    """A route with a fallback whose retries at peak can exceed the primary's quota needs a bound
    shared by every request (a breaker or a shared backoff): per-request retry caps alone let the
    whole fleet hammer a failing primary at qps x peak x attempts."""
    r = ctx.route
    retry, models, capacity = r.retry, r.models, r.capacity
    if retry is None or retry.max_attempts is None or models is None or models.fallback is None:
        return
    if r.qps is None or r.peak_factor is None or capacity is None or capacity.quota_rpm is None:
        return  # route_inventory and serving_capacity report what is missing
    if retry.breaker is not None or retry.shared_backoff:
        return
    calls_per_s = r.qps * r.peak_factor * retry.max_attempts
    quota_per_s = capacity.quota_rpm / 60
    if calls_per_s > quota_per_s:
        f.missing.append(
            f"retry.breaker or retry.shared_backoff ({ctx.name}: {r.qps:g} qps x {r.peak_factor:g} peak x "
            f"{retry.max_attempts} attempts = {calls_per_s:g} calls/s over the primary's quota of "
            f"{quota_per_s:.4g}/s (quota_rpm {capacity.quota_rpm}))"
        )


@item("structured_output")
def structured_output(ctx: Context, f: Findings) -> None:
    so = ctx.route.structured_output
    if so is False or not f.need(so, "structured_output (the re-ask bound, or false for free text)"):
        return
    f.need(so.max_reasks, "structured_output.max_reasks")
    f.need(so.validation, "structured_output.validation (how answers are checked before a re-ask)")
    f.need(so.counter, "structured_output.counter (the metric counting validation failures)")

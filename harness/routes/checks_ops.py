"""Checklist items about running the route: serving capacity, cache layers, the degradation
path per failure mode, cost attribution and alerts."""

from __future__ import annotations

from harness.contract.degradation import Expect
from harness.routes.checklist import Context, Findings, item
from harness.routes.spec import ALERTS, CACHE_LAYERS, FAILURE_MODES, CacheLayer

_TENANT_SCOPES = ("tenant", "user")
# Actions that still answer: the answer must say it is degraded.
_ANSWERS = ("fallback_model", "cached_response", "approximate_cached", "partial", "trim")


@item("serving_capacity")
def serving_capacity(ctx: Context, f: Findings) -> None:
    c = ctx.route.capacity
    if not f.need(c, "capacity (quota, concurrency, admission_limit, exhaustion_signal, owner)"):
        return
    if c.quota_rpm is None and c.quota_tpm is None:
        f.missing.append("capacity.quota_rpm or capacity.quota_tpm")
    f.need_fields("capacity", c, "concurrency", "admission_limit", "exhaustion_signal")
    f.need(c.owner, "capacity.owner (who changes capacity)")
    r = ctx.route
    if r.qps is None or r.peak_factor is None:
        return
    peak = r.qps * r.peak_factor
    if c.quota_rpm is not None:
        f.contradiction(
            peak * 60 > c.quota_rpm,
            f"peak {peak:g} req/s ({peak * 60:g}/min) is over quota_rpm {c.quota_rpm}",
        )
    p95 = r.latency.p95_ms if r.latency else None
    if c.concurrency is not None and p95 is not None:
        in_flight = peak * p95 / 1000
        f.contradiction(
            in_flight > c.concurrency,
            f"peak {peak:g} req/s x p95 {p95:g} ms keeps ~{in_flight:.0f} calls in flight, "
            f"over concurrency {c.concurrency}",
        )


def _layer(f: Findings, name: str, layer: CacheLayer, tenant_data: bool | None) -> None:
    # The checklist: a layer in use has a scope, a TTL, an invalidation rule and a target hit
    # rate; a layer without a target is missing a part (the plan's `cache` clause comes from it).
    f.need_fields(f"cache.{name}", layer, "scope", "ttl_s", "invalidation", "target_hit_rate")
    f.contradiction(
        layer.target_hit_rate == 0,
        f"cache.{name}.target_hit_rate is 0: a layer in use targets some hits (0 < rate <= 1), "
        "or is declared false",
    )
    if name == "semantic":
        f.need_fields("cache.semantic", layer, "confidence_threshold", "false_hit_budget")
    f.contradiction(
        bool(tenant_data) and layer.scope is not None and layer.scope not in _TENANT_SCOPES,
        f"cache.{name}.scope is {layer.scope} but prompts carry tenant data: per-tenant scope required",
    )


@item("cache_strategy")
def cache_strategy(ctx: Context, f: Findings) -> None:
    r = ctx.route
    f.need(r.tenant_data, "tenant_data (do prompts carry tenant data?)")
    if not f.need(
        r.cache, "cache (prompt_prefix, embedding, full_response, semantic: a layer or false each)"
    ):
        return
    for name in CACHE_LAYERS:
        layer = getattr(r.cache, name)
        if f.need(layer, f"cache.{name} (a layer, or false when not used)") and layer is not False:
            _layer(f, name, layer, r.tenant_data)


def signalled(expect: Expect, header: str | None, body: str | None, action: str, sse: bool) -> bool:
    """Does the expected answer carry the degraded signal? `trim` may use a header of its own;
    a stream cut after its headers went out can only say so in the stream (`partial` on sse)."""
    if action == "partial" and sse:
        return True
    if header is not None and header.lower() in {h.lower() for h in expect.headers}:
        return True
    if body is not None and expect.body.get(body) not in (None, False, "", 0):
        return True
    return action == "trim" and bool(expect.headers)


@item("degradation_path")
def degradation_path(ctx: Context, f: Findings) -> None:
    r, spec = ctx.route, ctx.spec
    f.need(spec.rehearsal.cadence, "rehearsal.cadence (how often the degraded paths are rehearsed)")
    if not f.need(r.degradation, "degradation (" + ", ".join(FAILURE_MODES) + ")"):
        return
    for mode in FAILURE_MODES:
        d = r.degradation.mode(mode)
        if not f.need(d, f"degradation.{mode}"):
            continue
        f.need(d.action, f"degradation.{mode}.action")
        f.need(d.user_visible, f"degradation.{mode}.user_visible (what the user sees)")
        f.need(d.expect, f"degradation.{mode}.expect (how the rehearsal checks it)")
        if d.action == "fallback_model":
            f.contradiction(
                r.models is None or r.models.fallback is None,
                f"degradation.{mode}.action is fallback_model but models.fallback is not declared",
            )
        if d.expect is None or d.action is None:
            continue
        status = d.expect.status
        statuses = status if isinstance(status, list) else [] if status is None else [status]
        answers = not statuses or any(200 <= s < 300 for s in statuses)
        f.contradiction(
            d.action in _ANSWERS
            and answers
            and not signalled(d.expect, spec.signal.header, spec.signal.body, d.action, r.stream == "sse"),
            f"degradation.{mode}: a {d.action} answer that does not expect the degraded signal "
            f"({spec.signal.header or spec.signal.body}): silent fallback",
        )
        f.contradiction(
            d.action == "refuse" and bool(statuses) and all(s < 400 for s in statuses),
            f"degradation.{mode}: action refuse but expect.status is {status}",
        )
        f.contradiction(
            r.stream == "sse" and answers and bool(d.expect.body),
            f"degradation.{mode}.expect.body: a streamed (sse) answer has no JSON body to check",
        )


@item("cost_attribution")
def cost_attribution(ctx: Context, f: Findings) -> None:
    a = ctx.route.attribution
    if not f.need(a, "attribution (tags, feature)"):
        return
    if f.need(a.tags, "attribution.tags"):
        for tag in ("route", "feature"):
            if tag not in a.tags:
                f.missing.append(f"attribution.tags: {tag}")
        f.contradiction(
            bool(ctx.route.tenant_data) and "tenant" not in a.tags,
            "prompts carry tenant data but calls are not tagged by tenant",
        )
    f.need(a.feature, "attribution.feature (the feature tag's value)")


def _applies(ctx: Context, alert: str) -> bool:
    r = ctx.route
    if alert == "cache_hit_regression":
        return r.cache is not None and any(getattr(r.cache, n) not in (None, False) for n in CACHE_LAYERS)
    if alert == "fallback_rate":
        return r.models is not None and r.models.fallback is not None
    if alert == "tenant_cost_anomaly":
        return bool(r.tenant_data) or (r.attribution is not None and "tenant" in (r.attribution.tags or []))
    if alert == "retry_amplification":
        return r.retry is None or (r.retry.max_attempts or 2) > 1
    return True


@item("tail_alerting")
def tail_alerting(ctx: Context, f: Findings) -> None:
    a = ctx.route.alerts
    if not f.need(a, "alerts (" + ", ".join(ALERTS) + ")"):
        return
    for alert in ALERTS:
        rule = getattr(a, alert)
        f.need(rule, f"alerts.{alert}")
        f.contradiction(rule is False and _applies(ctx, alert), f"alerts.{alert} is false but applies here")

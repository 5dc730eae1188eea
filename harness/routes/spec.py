"""Routes files (SPEC §5): the per-route budget table of an LLM-backed service, as typed models.

The structure is strict (unknown fields, wrong types and bad templates make the file invalid);
the checklist items are optional here, because a missing item is what `rehearse lint` reports,
not a reason to refuse the file. `false` declares a cache layer or an alert as not used.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from harness.contract.degradation import Expect
from harness.experiment.model import AppOrUrl, FieldError, Load, PhaseFault, ProviderSpec, RequestSpec
from harness.experiment.templates import TemplateError, check_request

FailureMode = Literal["unavailable", "rate_limited", "over_budget", "malformed", "slow"]
FAILURE_MODES: tuple[FailureMode, ...] = ("unavailable", "rate_limited", "over_budget", "malformed", "slow")
Tag = Literal["route", "feature", "tenant"]
_ROUTE_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_-]*$")


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


def _given_or_false(fields: str, kind: type, expected: str) -> Callable[[type, Any], Any]:
    """A validator for `fields`: a `kind` value, `false` (declared as not used) or left out. It runs
    before pydantic's own checks, whose error would list every branch of `X | false`."""

    def check(cls: type, v: Any) -> Any:
        if v is not None and v is not False and not isinstance(v, kind):
            raise ValueError(expected)
        return v

    return field_validator(fields, mode="before")(check)


class Target(_Strict, AppOrUrl):
    """Where the service runs: the bundled sampleapp, or a URL."""

    # The fields and their check are the experiment target's (`AppOrUrl`); `_Strict` makes this
    # one frozen like the rest of a routes file.


class Rehearsal(_Strict):
    """How the degraded paths are rehearsed: cadence, and the shape of each experiment."""

    cadence: str | None = Field(default=None, description="e.g. nightly, in CI")
    rate: float = Field(default=10.0, gt=0, description="arrivals per second")
    warmup_s: float = Field(default=1.0, ge=0, description="unjudged first phase, real time")
    steady_s: float = Field(default=5.0, gt=0)
    fault_s: float = Field(default=10.0, gt=0)
    recovery_s: float = Field(default=5.0, gt=0)
    settle_s: float | None = Field(
        default=None, gt=0, description="fault kept on after the judged phase; default from the retry policy"
    )
    seed: int = 0
    load: Load | None = Field(
        default=None,
        description="`{mode: trace, file: TRACE, speed: X}`: replay recorded arrivals instead of `rate` "
        "(the file relative to the routes file)",
    )

    @field_validator("load")
    @classmethod
    def _trace_only(cls, v: Load | None) -> Load | None:
        if v is not None and v.mode != "trace":
            raise FieldError(("mode",), "`rehearsal.rate` sets an open load: `load` is for `mode: trace`")
        return v


class Signal(_Strict):
    """How a degraded answer says so (the no-silent-fallback rule)."""

    header: str | None = "x-degraded"
    body: str | None = Field(default=None, description="dotted path of a body field, e.g. degraded")
    stream_marker: str | None = Field(
        default=None,
        description="text a streamed answer carries when it breaks off, e.g. stream_interrupted",
    )


class Tokens(_Strict):
    input_cap: int | None = Field(
        default=None, ge=1, description="input tokens per call (the assembler's cap)"
    )
    output_cap: int | None = Field(default=None, ge=0, description="output tokens per call (max_tokens)")
    hard_cap: int | None = Field(default=None, ge=1, description="tokens per route request, every call")
    on_breach: Literal["reject", "trim", "degrade"] | None = None


class LatencyBudget(_Strict):
    p50_ms: float | None = Field(default=None, gt=0)
    p95_ms: float | None = Field(default=None, gt=0)
    p99_ms: float | None = Field(default=None, gt=0)
    ttft_p95_ms: float | None = Field(default=None, gt=0, description="where streamed")
    goodput_min: float | None = Field(
        default=None,
        gt=0,
        le=1,
        description="share of requests answered within p95_ms (and ttft_p95_ms); default 0.95",
    )


class Models(_Strict):
    primary: str | None = None
    fallback: str | None = None
    cascade: str | None = Field(default=None, description="when the fallback takes over")


class Backoff(_Strict):
    base_s: float = Field(ge=0)
    max_s: float = Field(ge=0)
    jitter: Literal["full", "equal", "none"] = "full"


class Breaker(_Strict):
    """A circuit breaker shared by every request of the service, per model: it opens after
    `failure_threshold` consecutive failed calls (5xx, 429, timeout) and lets one probe call
    through per `cool_down_s` until a probe succeeds."""

    failure_threshold: int = Field(ge=1, description="consecutive failed calls that open it")
    cool_down_s: float = Field(gt=0, description="open this long before a probe call is let through")


class Retry(_Strict):
    max_attempts: int | None = Field(default=None, ge=1, description="provider calls per model call")
    primary_attempts: int | None = Field(default=None, ge=1, description="of which on the primary")
    backoff: Backoff | None = None
    call_timeout_s: float | None = Field(default=None, gt=0)
    route_timeout_s: float | None = Field(default=None, gt=0)
    idempotency: Literal["stateless", "key", "none"] | None = None
    max_retry_after_s: float | None = Field(default=None, ge=0, description="longer: fall back at once")
    breaker: Breaker | None = Field(default=None, description="a circuit breaker on the primary model")
    shared_backoff: bool | None = Field(
        default=None,
        description="the backoff is shared by every request: the service as a whole waits between calls",
    )


class StructuredOutput(_Strict):
    kind: Literal["tool_call", "json_schema"]
    max_reasks: int | None = Field(default=None, ge=0)
    validation: str | None = None
    counter: str | None = Field(default=None, description="the metric counting validation failures")


class CacheLayer(_Strict):
    scope: Literal["global", "tenant", "user", "key"] | None = None
    ttl_s: float | None = Field(default=None, gt=0)
    invalidation: str | None = None
    target_hit_rate: float | None = Field(default=None, ge=0, le=1)
    confidence_threshold: float | None = Field(default=None, ge=0, le=1, description="semantic cache")
    false_hit_budget: float | None = Field(default=None, ge=0, le=1, description="semantic cache")


CacheSlot = CacheLayer | Literal[False] | None
CACHE_LAYERS = ("prompt_prefix", "embedding", "full_response", "semantic")


class Cache(_Strict):
    prompt_prefix: CacheSlot = None
    embedding: CacheSlot = None
    full_response: CacheSlot = None
    semantic: CacheSlot = None

    _layer_or_false = _given_or_false(
        "*", dict, "a cache layer {scope, ttl_s, invalidation, target_hit_rate, ...} or false"
    )


# `retry`: absorbed by retries, the normal answer (later); the others are degraded answers or refusals.
Action = Literal[
    "retry", "fallback_model", "cached_response", "approximate_cached", "partial", "queued", "refuse", "trim"
]


class Degraded(_Strict):
    """One failure mode: what the route does, what the user sees, and how to check it."""

    action: Action | None = None
    user_visible: str | None = None
    expect: Expect | None = None
    min_share: float = Field(default=1.0, ge=0, le=1)
    faults: list[PhaseFault] | None = Field(default=None, description="instead of the plan's default")


class Degradation(_Strict):
    unavailable: Degraded | None = None
    rate_limited: Degraded | None = None
    over_budget: Degraded | None = None
    malformed: Degraded | None = None
    slow: Degraded | None = None

    def mode(self, name: FailureMode) -> Degraded | None:
        found: Degraded | None = getattr(self, name)
        return found


class Attribution(_Strict):
    tags: list[Tag] | None = None
    feature: str | None = Field(default=None, description="the feature tag's value")


class Capacity(_Strict):
    quota_rpm: int | None = Field(default=None, ge=1)
    quota_tpm: int | None = Field(default=None, ge=1)
    concurrency: int | None = Field(default=None, ge=1)
    admission_limit: int | None = Field(default=None, ge=1)
    exhaustion_signal: str | None = None
    owner: str | None = None


AlertSlot = str | Literal[False] | None
ALERTS = (
    "budget_breach",
    "exhaustion",
    "tail_regression",
    "cache_hit_regression",
    "fallback_rate",
    "retry_amplification",
    "tenant_cost_anomaly",
)


class Alerts(_Strict):
    budget_breach: AlertSlot = None
    exhaustion: AlertSlot = None
    tail_regression: AlertSlot = None
    cache_hit_regression: AlertSlot = None
    fallback_rate: AlertSlot = None
    retry_amplification: AlertSlot = None
    tenant_cost_anomaly: AlertSlot = None

    _rule_or_false = _given_or_false("*", str, "the alert rule (text), or false where it does not apply")


class Route(_Strict):
    request: RequestSpec = Field(description="how the rehearsal calls the route")
    stream: Literal[False, "sse"] = False
    over_budget_request: RequestSpec | None = Field(default=None, description="a request over the caps")
    ok: Expect = Field(default_factory=lambda: Expect(status=200), description="the normal answer")
    caller: str | None = None
    qps: float | None = Field(default=None, gt=0)
    peak_factor: float | None = Field(default=None, ge=1)
    tenant_data: bool | None = Field(default=None, description="prompts carry tenant data")
    tokens: Tokens | None = None
    latency: LatencyBudget | None = None
    models: Models | None = None
    retry: Retry | None = None
    structured_output: StructuredOutput | Literal[False] | None = None
    cache: Cache | None = None
    degradation: Degradation | None = None
    attribution: Attribution | None = None
    capacity: Capacity | None = None
    alerts: Alerts | None = None

    _schema_or_false = _given_or_false(
        "structured_output",
        dict,
        "{kind, max_reasks, validation, counter}, or false when the output is free text",
    )

    @model_validator(mode="after")
    def _templates_render(self) -> Route:
        for field in ("request", "over_budget_request"):
            spec = getattr(self, field)
            if spec is None:
                continue
            try:
                # `trace.NAME` is checked against the rehearsal's load by the routes file.
                check_request(spec, where=field, allow_trace=True)
            except TemplateError as e:
                loc = tuple(int(p) if p.isdigit() else p for p in e.field.split("."))
                raise FieldError(loc, e.problem) from None
        return self


class RoutesFile(_Strict):
    service: str | None = None
    target: Target
    provider: ProviderSpec = Field(default_factory=lambda: ProviderSpec(latency="none"))
    signal: Signal = Field(default_factory=Signal)
    rehearsal: Rehearsal = Field(default_factory=Rehearsal)
    routes: dict[str, Route] = Field(min_length=1)

    @model_validator(mode="before")
    @classmethod
    def _quiet_provider(cls, data: Any) -> Any:
        # Rehearsals judge the service, not the model's speed: instant answers unless asked.
        if isinstance(data, dict) and isinstance(data.get("provider"), dict):
            return {**data, "provider": {"latency": "none", **data["provider"]}}
        return data

    @model_validator(mode="after")
    def _trace_values_need_a_trace(self) -> RoutesFile:
        if self.rehearsal.load is not None:
            return self
        for name, route in self.routes.items():
            for field in ("request", "over_budget_request"):
                spec = getattr(route, field)
                try:
                    if spec is not None:
                        check_request(spec, where=field)
                except TemplateError as e:
                    loc = ("routes", name, *(int(p) if p.isdigit() else p for p in e.field.split(".")))
                    raise FieldError(
                        loc,
                        e.problem.replace("`load.mode: trace`", "`rehearsal.load: {mode: trace, file: ...}`"),
                    ) from None
        return self

    @field_validator("routes")
    @classmethod
    def _route_names(cls, routes: dict[str, Route]) -> dict[str, Route]:
        for name in routes:
            if not _ROUTE_NAME.match(name):
                raise FieldError((name,), "a route name is letters, digits, '-' and '_' (it names files)")
        return routes

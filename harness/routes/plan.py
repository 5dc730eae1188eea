"""`rehearse plan ROUTES.yaml -o DIR`: one experiment per route and failure mode, its contract
taken from the spec.

Each experiment runs warmup -> steady -> fault -> settle (-> cooldown) -> recovery. `warmup` is
not judged: a freshly started service and provider pay their start-up costs there (loading
tokenizers, first connections), not in the steady phase. The fault is on during `fault` and
`settle`; only `fault` is judged against the degraded contract, so a request scheduled at the end
of the fault phase still meets the fault on its retries. `settle` lasts as long as the route's
retry policy can keep a request busy. `cooldown`, fault off and not judged, is there when the route declares a
breaker or a shared backoff: the breaker's cool-down (or the backoff's longest wait), so that the
primary is back in use before recovery is judged. Warmup, settle and cooldown are real time:
`time_scale` shortens only steady, fault and recovery.
An over-budget rehearsal with an `over_budget_request` sends only that request (warmup, fault).
With `rehearsal.load: {mode: trace, ...}` every rehearsal replays the trace's arrivals (at its
`speed`; `time_scale` does not change it) instead of `rehearsal.rate`; the clauses that need a
rate take the trace's mean rate over the fault phase.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from fakeprovider.catalogue.families import DEFAULT_CATALOGUE
from harness.errors import InvalidExperiment, InvalidRoutes
from harness.experiment.load import validate_experiment
from harness.experiment.model import RequestSpec
from harness.experiment.templates import RequestFactory
from harness.load.trace import Trace, trace_of
from harness.routes.clauses import contract
from harness.routes.more_clauses import Rehearsal, more_clauses
from harness.routes.spec import FAILURE_MODES, FailureMode, Route, RoutesFile

RATE_LIMIT_RETRY_AFTER_MS = 200
SLOW_BEYOND_TIMEOUT_MS = 1000  # a slow fault this much over the per-call timeout
SETTLE_MARGIN_S = 1.0  # real time: scheduling lag of a busy machine, first-call costs
TITLES: dict[FailureMode, str] = {
    "unavailable": "primary model unavailable",
    "rate_limited": "primary model rate-limited",
    "over_budget": "request over its token budget",
    "malformed": "malformed model output",
    "slow": "primary model slower than the call timeout",
}


class _PlainDumper(yaml.SafeDumper):
    """Writes shared values out in full: a reader should not have to follow `&id001` anchors."""

    def ignore_aliases(self, data: Any) -> bool:
        return True


@dataclass(frozen=True, slots=True)
class Planned:
    """One experiment of the plan, or the reason a (route, mode) could not be planned."""

    route: str
    mode: FailureMode
    experiment: dict[str, Any] | None
    reason: str | None = None
    absent: tuple[str, ...] = ()  # clauses left out of the contract, each with why

    @property
    def filename(self) -> str:
        return f"{self.route}-{self.mode.replace('_', '-')}.yaml"


def default_faults(route: Route, mode: FailureMode) -> list[dict[str, Any]]:
    """The fault that rehearses `mode`, aimed at the primary model. Embedding calls have no
    token stream to slow down or cut: a hang stands for slow, a reset answer for malformed."""
    primary = route.models.primary if route.models else None
    assert primary is not None, "plan_one checks the primary model first"
    info = DEFAULT_CATALOGUE.resolve(primary)
    embedding = info is not None and info.kind == "embedding"
    rule: dict[str, Any] = {"match": {"model": primary}}
    retry = route.retry
    timeout_s = retry.call_timeout_s if retry and retry.call_timeout_s else None
    if timeout_s is None and route.latency and route.latency.p99_ms:
        timeout_s = route.latency.p99_ms / 1000
    beyond_ms = round((timeout_s or 5.0) * 1000) + SLOW_BEYOND_TIMEOUT_MS
    so = route.structured_output
    if mode == "unavailable":
        fault: dict[str, Any] = {"kind": "http_error", "status": 503}
    elif mode == "rate_limited":
        fault = {"kind": "rate_limit", "retry_after_ms": RATE_LIMIT_RETRY_AFTER_MS}
    elif mode == "slow" and embedding:
        fault = {"kind": "hang", "after_s": beyond_ms / 1000}
    elif mode == "slow":
        fault = {"kind": "slow", "ttft_ms": beyond_ms}
    elif mode == "malformed" and so and so.kind == "tool_call":
        fault = {"kind": "malformed_tool_call", "mode": "missing_required"}
    elif mode == "malformed" and so and so.kind == "json_schema":
        fault = {"kind": "malformed_output", "mode": "schema_violation"}
    elif mode == "malformed" and embedding:
        fault = {"kind": "connection_reset"}
        rule["first_attempts"] = 1
    elif mode == "malformed":  # free text: the answer breaks off after a few tokens
        fault = {"kind": "partial", "after_tokens": 5, "mode": "error_event"}
    else:
        fault = {"kind": "context_length"}
    return [{**rule, "fault": fault}]


def _delay_s(route: Route, fault: dict[str, Any]) -> float:
    """How long one attempt can take (or must wait) under this fault."""
    retry = route.retry
    timeout = retry.call_timeout_s if retry and retry.call_timeout_s else None
    kind = fault.get("kind")
    if kind == "rate_limit":
        if fault.get("retry_after_ms") is not None:
            return float(fault["retry_after_ms"]) / 1000
        return float(fault.get("retry_after_s") or 1.0)
    if kind == "hang":
        return timeout or float(fault.get("after_s") or 0.0)
    if kind == "slow":
        out = route.tokens.output_cap if route.tokens and route.tokens.output_cap else 0
        answer_s = (float(fault.get("ttft_ms") or 0) + out * float(fault.get("inter_token_ms") or 0)) / 1000
        return min(answer_s, timeout) if timeout else answer_s
    return 0.0


def settle_s(spec: RoutesFile, route: Route, faults: list[dict[str, Any]]) -> float:
    """Long enough for a request that met the fault to finish its retries under it."""
    if spec.rehearsal.settle_s is not None:
        return spec.rehearsal.settle_s
    return round(primary_span_s(route, faults) + SETTLE_MARGIN_S, 3)


def cooldown_s(route: Route) -> float | None:
    """How long a bound shared by every request may keep the primary closed after the fault: the
    breaker's cool-down, or a shared backoff's longest wait (None: no such bound)."""
    retry = route.retry
    if retry is not None and retry.breaker is not None:
        return round(retry.breaker.cool_down_s + SETTLE_MARGIN_S, 3)
    if retry is not None and retry.shared_backoff and retry.backoff is not None:
        return round(retry.backoff.max_s + SETTLE_MARGIN_S, 3)
    return None


def primary_span_s(route: Route, faults: list[dict[str, Any]]) -> float:
    """How long one request can spend on the primary under these faults: its attempts there,
    and the backoff between them, within the route timeout."""
    retry = route.retry
    attempts = (retry.primary_attempts or retry.max_attempts or 1) if retry else 1
    backoff = 0.0
    if retry and retry.backoff:
        b = retry.backoff
        backoff = sum(min(b.max_s, b.base_s * 2**i) for i in range(attempts - 1))
    span = attempts * max((_delay_s(route, f["fault"]) for f in faults), default=0.0) + backoff
    if retry and retry.route_timeout_s:
        span = min(span, retry.route_timeout_s)
    return span


def _target(spec: RoutesFile, route: Route, request: RequestSpec) -> dict[str, Any]:
    target: dict[str, Any] = spec.target.model_dump(mode="json", exclude_none=True)
    if not target.get("sample", {}).get("flaws"):
        target.pop("sample", None)
    target["request"] = request.model_dump(mode="json", by_alias=True, exclude_none=True)
    target["stream"] = route.stream
    timeout = route.retry.route_timeout_s if route.retry and route.retry.route_timeout_s else None
    target["timeout_s"] = timeout + 5.0 if timeout else 30.0
    return target


def _provider(spec: RoutesFile, routes_dir: Path) -> dict[str, Any]:
    provider: dict[str, Any] = spec.provider.model_dump(mode="json", exclude_none=True)
    if "scenario" in provider:
        provider["scenario"] = str((routes_dir / provider["scenario"]).resolve())
    return provider


def _load(spec: RoutesFile, routes_dir: Path) -> dict[str, Any]:
    """The rehearsals' load: open at `rehearsal.rate`, or `rehearsal.load` (a trace) with its file
    made absolute."""
    r = spec.rehearsal
    if r.load is None:
        return {"mode": "open", "rate": r.rate}
    load: dict[str, Any] = r.load.model_dump(mode="json", exclude_none=True)
    if r.load.file is not None:
        load["file"] = str((routes_dir / r.load.file).resolve())
    return load


def trace_rate(trace: Trace, speed: float, start_s: float, end_s: float) -> float:
    """A trace's mean arrival rate (per second, replayed at `speed`) from `start_s` to `end_s`."""
    count = sum(1 for t in trace.times if start_s <= t / speed < end_s)
    return count / (end_s - start_s)


def plan_one(
    spec: RoutesFile,
    name: str,
    mode: FailureMode,
    routes_dir: Path,
    time_scale: float = 1.0,
    trace: Trace | None = None,
) -> Planned:
    """The experiment rehearsing `mode` on route `name`, validated, or why it cannot be planned."""
    route = spec.routes[name]
    d = route.degradation.mode(mode) if route.degradation else None
    if d is None or d.expect is None:
        return Planned(name, mode, None, f"degradation.{mode}.expect is not declared")
    if d.faults is None and (route.models is None or route.models.primary is None):
        return Planned(name, mode, None, "models.primary is needed to aim the fault (or give faults)")
    faults = (
        [f.model_dump(mode="json", exclude_unset=True) for f in d.faults]
        if d.faults is not None
        else default_faults(route, mode)
    )
    oversized = mode == "over_budget" and d.faults is None and route.over_budget_request is not None
    r = spec.rehearsal
    phases: list[dict[str, Any]] = [{"name": "warmup", "duration_s": r.warmup_s}] if r.warmup_s else []
    if oversized:
        assert route.over_budget_request is not None
        phases.append({"name": "fault", "duration_s": r.fault_s * time_scale})
        request = route.over_budget_request
    else:
        phases += [
            {"name": "steady", "duration_s": r.steady_s * time_scale},
            {"name": "fault", "duration_s": r.fault_s * time_scale, "faults": faults},
            {"name": "settle", "duration_s": settle_s(spec, route, faults), "faults": faults},
        ]
        if (cooldown := cooldown_s(route)) is not None:
            phases.append({"name": "cooldown", "duration_s": cooldown})
        phases.append({"name": "recovery", "duration_s": r.recovery_s * time_scale})
        request = route.request
    # A refused oversized request never reaches the provider: nothing to count there.
    calls = not (oversized and d.action == "refuse")
    rate = r.rate
    if trace is not None and r.load is not None:
        fault_start = r.warmup_s + (0.0 if oversized else r.steady_s * time_scale)
        rate = trace_rate(trace, r.load.speed, fault_start, fault_start + r.fault_s * time_scale)
    rehearsal = None if oversized else Rehearsal(r.fault_s * time_scale, rate, primary_span_s(route, faults))
    more = more_clauses(route, mode, spec.signal, rehearsal, calls)
    exp: dict[str, Any] = {
        "title": f"{name}: {TITLES[mode]} -> {d.action or 'degraded'}",
        "target": _target(spec, route, request),
        "provider": _provider(spec, routes_dir),
        "load": _load(spec, routes_dir),
        "phases": phases,
        "contract": [
            *contract(route, mode, d, phased=not oversized, calls=calls, signal=spec.signal),
            *more.planned,
        ],
        "seed": r.seed,
    }
    validate_experiment(exp, f"plan for route {name}, {mode}")
    return Planned(name, mode, exp, absent=tuple(more.absent))


def plan(spec: RoutesFile, routes_path: Path, time_scale: float = 1.0) -> list[Planned]:
    """Every route x failure mode, in file order. A trace load's file is read here (an unreadable
    one raises `InvalidRoutes` naming it)."""
    where = routes_path.resolve().parent
    trace = None
    if spec.rehearsal.load is not None:
        try:
            trace = trace_of(spec.rehearsal.load, where)
        except InvalidExperiment as e:
            raise InvalidRoutes(f"{routes_path}: rehearsal.load.file: {e}") from None
        for name, route in spec.routes.items():
            for field in ("request", "over_budget_request"):
                request = getattr(route, field)
                try:
                    if request is not None:
                        RequestFactory(request, spec.rehearsal.seed, where=field, trace=trace)
                except InvalidExperiment as e:
                    raise InvalidRoutes(f"{routes_path}: routes.{name}.{field}: {e}") from None
    return [
        plan_one(spec, name, mode, where, time_scale, trace) for name in spec.routes for mode in FAILURE_MODES
    ]


def write_plan(planned: list[Planned], out_dir: Path, routes_path: Path) -> list[Path]:
    """Write each planned experiment as `<route>-<mode>.yaml` in `out_dir`; returns the paths."""
    out_dir.mkdir(parents=True, exist_ok=True)
    written: list[Path] = []
    for p in planned:
        if p.experiment is None:
            continue
        path = out_dir / p.filename
        header = f"# Generated by `rehearse plan {routes_path}`: change the routes file, not this one.\n"
        header += "".join(f"# Not checked: {why}\n" for why in p.absent)
        text = yaml.dump(p.experiment, Dumper=_PlainDumper, sort_keys=False, width=100)
        path.write_text(header + text, encoding="utf-8")
        written.append(path)
    return written

"""`rehearse lint`: a complete spec passes; each checklist item, left out or contradicted, is
reported as missing or inconsistent with a finding that names the field; exit 1 then, 2 for an
invalid file."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from harness.cli import main
from harness.routes.lint import ORDER, exit_status, lint
from harness.routes.load import load_routes, validate_routes
from tests.harness.routes.specs import SHIPPED_ROUTES, complete_spec, drop_field, set_field, write_spec

R = "routes.summarize"
DROP = object()


@dataclass(frozen=True)
class Case:
    item: str
    status: str
    changes: dict[str, Any]  # dotted path -> value, or DROP
    finding: str  # a fragment of the finding


CASES: dict[str, Case] = {
    # route_inventory
    "inventory-caller": Case("route_inventory", "missing", {f"{R}.caller": DROP}, "missing caller"),
    # token_budget
    "tokens-absent": Case("token_budget", "missing", {f"{R}.tokens": DROP}, "missing tokens (input_cap"),
    "tokens-hard-cap": Case("token_budget", "missing", {f"{R}.tokens.hard_cap": DROP}, "tokens.hard_cap"),
    "tokens-breach-action": Case(
        "token_budget", "missing", {f"{R}.tokens.on_breach": DROP}, "tokens.on_breach"
    ),
    "tokens-hard-cap-under-worst": Case(
        "token_budget",
        "inconsistent",
        {f"{R}.tokens.hard_cap": 5000},
        "worst case 6360 tokens per request (3 calls at the caps) is over tokens.hard_cap 5000",
    ),
    "tokens-over-context-window": Case(
        "token_budget",
        "inconsistent",
        {f"{R}.tokens.input_cap": 200_000, f"{R}.tokens.hard_cap": 10**7},
        "tokens.input_cap 200000 is over gpt-4o's context window 128000",
    ),
    "tokens-over-output-limit": Case(
        "token_budget",
        "inconsistent",
        {f"{R}.tokens.output_cap": 20_000, f"{R}.tokens.hard_cap": 10**7},
        "tokens.output_cap 20000 is over gpt-4o's output limit 16384",
    ),
    # latency_budget
    "latency-p99": Case("latency_budget", "missing", {f"{R}.latency.p99_ms": DROP}, "latency.p99_ms"),
    "latency-ttft-when-streamed": Case(
        "latency_budget", "missing", {f"{R}.stream": "sse", f"{R}.ok": {"status": 200}}, "latency.ttft_p95_ms"
    ),
    "latency-unordered": Case(
        "latency_budget", "inconsistent", {f"{R}.latency.p95_ms": 1000}, "must not decrease"
    ),
    "latency-over-route-timeout": Case(
        "latency_budget",
        "inconsistent",
        {f"{R}.latency.p99_ms": 12000},
        "p99_ms 12000 is over the route timeout (10 s)",
    ),
    # model_class
    "models-fallback-or-refusal": Case(
        "model_class", "missing", {f"{R}.models.fallback": DROP}, "models.fallback, or a refusal contract"
    ),
    "models-cascade": Case("model_class", "missing", {f"{R}.models.cascade": DROP}, "models.cascade"),
    "models-fallback-larger": Case(
        "model_class",
        "inconsistent",
        {f"{R}.models.primary": "gpt-4o-mini", f"{R}.models.fallback": "gpt-4o"},
        "fallback gpt-4o is larger than primary gpt-4o-mini",
    ),
    "models-unknown": Case(
        "model_class",
        "inconsistent",
        {f"{R}.models.fallback": "no-such-model"},
        "model 'no-such-model' is not in the provider catalogue",
    ),
    "models-fallback-is-primary": Case(
        "model_class", "inconsistent", {f"{R}.models.fallback": "gpt-4o"}, "the fallback is the primary model"
    ),
    # serving_capacity
    "capacity-owner": Case("serving_capacity", "missing", {f"{R}.capacity.owner": DROP}, "capacity.owner"),
    "capacity-quota": Case(
        "serving_capacity", "missing", {f"{R}.capacity.quota_rpm": DROP}, "capacity.quota_rpm or"
    ),
    "capacity-peak-over-quota": Case(
        "serving_capacity",
        "inconsistent",
        {f"{R}.capacity.quota_rpm": 600},
        "peak 15 req/s (900/min) is over quota_rpm 600",
    ),
    "capacity-concurrency-under-in-flight": Case(
        "serving_capacity",
        "inconsistent",
        {f"{R}.capacity.concurrency": 10},
        "keeps ~60 calls in flight, over concurrency 10",
    ),
    # cache_strategy
    "cache-layer-undeclared": Case(
        "cache_strategy", "missing", {f"{R}.cache.semantic": DROP}, "cache.semantic (a layer, or false"
    ),
    "cache-tenant-data": Case("cache_strategy", "missing", {f"{R}.tenant_data": DROP}, "tenant_data"),
    "cache-layer-ttl": Case(
        "cache_strategy", "missing", {f"{R}.cache.prompt_prefix.ttl_s": DROP}, "cache.prompt_prefix.ttl_s"
    ),
    "cache-semantic-threshold": Case(
        "cache_strategy",
        "missing",
        {
            f"{R}.cache.semantic": {
                "scope": "tenant",
                "ttl_s": 60,
                "invalidation": "x",
                "target_hit_rate": 0.1,
                "false_hit_budget": 0.01,
            }
        },
        "cache.semantic.confidence_threshold",
    ),
    "cache-not-per-tenant": Case(
        "cache_strategy",
        "inconsistent",
        {f"{R}.cache.prompt_prefix.scope": "global"},
        "cache.prompt_prefix.scope is global but prompts carry tenant data: per-tenant scope required",
    ),
    # retry_bound
    "retry-idempotency": Case(
        "retry_bound", "missing", {f"{R}.retry.idempotency": DROP}, "retry.idempotency"
    ),
    "retry-backoff": Case("retry_bound", "missing", {f"{R}.retry.backoff": DROP}, "retry.backoff"),
    "retry-worst-case": Case(
        "retry_bound", "missing", {f"{R}.retry.max_attempts": DROP}, "the worst-case cost per request"
    ),
    "retry-timeout-not-under-p99": Case(
        "retry_bound",
        "inconsistent",
        {f"{R}.retry.call_timeout_s": 6},
        "per-call timeout 6 s is not shorter than the p99 budget (6000 ms)",
    ),
    "retry-timeout-not-under-route-timeout": Case(
        "retry_bound",
        "inconsistent",
        {f"{R}.retry.route_timeout_s": 4, f"{R}.latency.p99_ms": 4000, f"{R}.latency.p95_ms": 3000},
        "per-call timeout 4 s is not shorter than the route timeout 4 s",
    ),
    "retry-without-idempotency": Case(
        "retry_bound",
        "inconsistent",
        {f"{R}.retry.idempotency": "none"},
        "3 attempts but the call is not idempotent (retries without idempotency)",
    ),
    "retry-no-attempt-for-fallback": Case(
        "retry_bound",
        "inconsistent",
        {f"{R}.retry.primary_attempts": 3},
        "no attempt is left for the fallback model",
    ),
    "retry-no-time-for-fallback": Case(
        "retry_bound",
        "inconsistent",
        {f"{R}.retry.route_timeout_s": 8, f"{R}.latency.p99_ms": 7000},
        "2 primary attempts x 4 s leave no time for the fallback within the route timeout (8 s)",
    ),
    # structured_output
    "structured-output-undeclared": Case(
        "structured_output", "missing", {f"{R}.structured_output": DROP}, "structured_output (the re-ask"
    ),
    "structured-output-counter": Case(
        "structured_output",
        "missing",
        {f"{R}.structured_output": {"kind": "json_schema", "max_reasks": 1, "validation": "jsonschema"}},
        "structured_output.counter",
    ),
    # degradation_path
    "degradation-mode": Case(
        "degradation_path", "missing", {f"{R}.degradation.malformed": DROP}, "missing degradation.malformed"
    ),
    "degradation-expect": Case(
        "degradation_path",
        "missing",
        {f"{R}.degradation.slow": {"action": "fallback_model", "user_visible": "x"}},
        "degradation.slow.expect",
    ),
    "degradation-cadence": Case(
        "degradation_path", "missing", {"rehearsal.cadence": DROP}, "rehearsal.cadence"
    ),
    "degradation-silent-fallback": Case(
        "degradation_path",
        "inconsistent",
        {
            f"{R}.degradation.unavailable": {
                "action": "fallback_model",
                "user_visible": "x",
                "expect": {"status": 200},
            }
        },
        "degradation.unavailable: a fallback_model answer that does not expect the degraded signal",
    ),
    "degradation-refuse-with-2xx": Case(
        "degradation_path",
        "inconsistent",
        {f"{R}.degradation.over_budget.expect": {"status": 200}},
        "degradation.over_budget: action refuse but expect.status is 200",
    ),
    "degradation-fallback-without-model": Case(
        "degradation_path",
        "inconsistent",
        {f"{R}.models.fallback": DROP},
        "action is fallback_model but models.fallback is not declared",
    ),
    "degradation-body-of-a-stream": Case(
        "degradation_path",
        "inconsistent",
        {f"{R}.stream": "sse", f"{R}.latency.ttft_p95_ms": 500, f"{R}.ok": {"status": 200}},
        "a streamed (sse) answer has no JSON body to check",
    ),
    # cost_attribution
    "attribution-feature-tag": Case(
        "cost_attribution",
        "missing",
        {f"{R}.attribution.tags": ["route", "tenant"]},
        "attribution.tags: feature",
    ),
    "attribution-feature-value": Case(
        "cost_attribution", "missing", {f"{R}.attribution.feature": DROP}, "attribution.feature"
    ),
    "attribution-tenant": Case(
        "cost_attribution",
        "inconsistent",
        {f"{R}.attribution.tags": ["route", "feature"]},
        "prompts carry tenant data but calls are not tagged by tenant",
    ),
    # tail_alerting
    "alerts-absent": Case("tail_alerting", "missing", {f"{R}.alerts": DROP}, "missing alerts (budget_breach"),
    "alerts-retry-amplification": Case(
        "tail_alerting", "missing", {f"{R}.alerts.retry_amplification": DROP}, "alerts.retry_amplification"
    ),
    "alerts-false-where-it-applies": Case(
        "tail_alerting",
        "inconsistent",
        {f"{R}.alerts.fallback_rate": False},
        "alerts.fallback_rate is false but applies here",
    ),
}


def apply(changes: dict[str, Any]) -> dict[str, Any]:
    data = complete_spec()
    for path, value in changes.items():
        if value is DROP:
            drop_field(data, path)
        else:
            set_field(data, path, value)
    return data


def test_complete_spec_passes_every_item() -> None:
    (result,) = lint(validate_routes(complete_spec(), "complete"))
    assert [i.item for i in result.items] == list(ORDER)
    assert {i.item: i.status for i in result.items} == dict.fromkeys(ORDER, "present")
    assert all(not i.findings for i in result.items)
    assert result.ok
    assert exit_status([result]) == 0


def test_shipped_routes_file_passes() -> None:
    results = lint(load_routes(SHIPPED_ROUTES))
    assert [r.route for r in results] == ["summarize", "extract", "chat", "embed"]
    bad = {(r.route, i.item): i.findings for r in results for i in r.items if i.status != "present"}
    assert bad == {}
    assert exit_status(results) == 0


@pytest.mark.parametrize("case", list(CASES.values()), ids=list(CASES))
def test_each_item_reports_what_is_missing_or_inconsistent(case: Case) -> None:
    (result,) = lint(validate_routes(apply(case.changes), "case"))
    found = result.item(case.item)
    assert found.status == case.status, found.findings
    assert any(case.finding in f for f in found.findings), found.findings
    assert not result.ok
    assert exit_status([result]) == 1


def test_every_item_has_a_missing_case_and_an_inconsistent_one_where_it_can_contradict() -> None:
    missing = {c.item for c in CASES.values() if c.status == "missing"}
    inconsistent = {c.item for c in CASES.values() if c.status == "inconsistent"}
    assert missing == set(ORDER)
    # Inventory and the structured-output bound have nothing to contradict.
    assert inconsistent == set(ORDER) - {"route_inventory", "structured_output"}


def test_missing_outranks_inconsistent_and_both_are_listed() -> None:
    data = apply({f"{R}.retry.idempotency": DROP, f"{R}.retry.call_timeout_s": 6})
    found = lint(validate_routes(data, "x"))[0].item("retry_bound")
    assert found.status == "missing"
    assert found.findings[0].startswith("missing retry.idempotency")
    assert any("not shorter than the p99 budget" in f for f in found.findings)


def test_worst_case_is_shown_with_its_figures() -> None:
    (result,) = lint(validate_routes(complete_spec(), "x"))
    assert result.worst is not None
    assert result.worst.cost_usd == pytest.approx(0.012772)


def test_cli_exit_statuses_and_table(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("COLUMNS", "250")  # one finding per line in the table
    assert main(["lint", str(SHIPPED_ROUTES)]) == 0
    good = capsys.readouterr().out
    assert "4 of 4 routes pass the checklist" in good
    assert "$0.012772" in good  # summarize's worst case
    bad_spec = write_spec(tmp_path / "bad.yaml", apply({f"{R}.retry.idempotency": "none"}))
    assert main(["lint", str(bad_spec)]) == 1
    bad = capsys.readouterr().out
    assert "retries without idempotency" in bad
    assert "NOT READY" in bad
    invalid = tmp_path / "invalid.yaml"
    invalid.write_text("target: {app: sample}\nroutes:\n  a:\n    request: {path: /a}\n    qps: many\n")
    assert main(["lint", str(invalid)]) == 2
    refused = capsys.readouterr()
    assert f"{invalid}: routes.a.qps (line 5)" in refused.err
    assert refused.out == ""

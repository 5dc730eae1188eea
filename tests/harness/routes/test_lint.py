"""`rehearse lint`: a complete spec passes; each checklist item, left out or contradicted, is
reported as missing or inconsistent with a finding that names the field; exit 1 then, 2 for an
invalid file."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from harness.cli import main
from harness.errors import InvalidRoutes
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


def missing(item: str, changes: dict[str, Any], finding: str) -> Case:
    """`changes` to the summarize route (paths under it) leave `item` missing a part."""
    return Case(item, "missing", {f"{R}.{path}": v for path, v in changes.items()}, finding)


def dropped(item: str, path: str, finding: str | None = None) -> Case:
    """The summarize route without `path`: `item` is missing, the finding names the path."""
    return missing(item, {path: DROP}, path if finding is None else finding)


def inconsistent(item: str, changes: dict[str, Any], finding: str) -> Case:
    """`changes` to the summarize route (paths under it) make `item` contradict itself."""
    return Case(item, "inconsistent", {f"{R}.{path}": v for path, v in changes.items()}, finding)


CASES: dict[str, Case] = {
    # route_inventory
    "inventory-caller": dropped("route_inventory", "caller", "missing caller"),
    # token_budget
    "tokens-absent": dropped("token_budget", "tokens", "missing tokens (input_cap"),
    "tokens-hard-cap": dropped("token_budget", "tokens.hard_cap"),
    "tokens-breach-action": dropped("token_budget", "tokens.on_breach"),
    "tokens-hard-cap-under-worst": inconsistent(
        "token_budget",
        {"tokens.hard_cap": 5000},
        "worst case 6360 tokens per request (3 calls at the caps) is over tokens.hard_cap 5000",
    ),
    "tokens-over-context-window": inconsistent(
        "token_budget",
        {"tokens.input_cap": 200_000, "tokens.hard_cap": 10**7},
        "tokens.input_cap 200000 is over gpt-4o's context window 128000",
    ),
    "tokens-over-output-limit": inconsistent(
        "token_budget",
        {"tokens.output_cap": 20_000, "tokens.hard_cap": 10**7},
        "tokens.output_cap 20000 is over gpt-4o's output limit 16384",
    ),
    # latency_budget
    "latency-p99": dropped("latency_budget", "latency.p99_ms"),
    "latency-ttft-when-streamed": missing(
        "latency_budget", {"stream": "sse", "ok": {"status": 200}}, "latency.ttft_p95_ms"
    ),
    "latency-unordered": inconsistent("latency_budget", {"latency.p95_ms": 1000}, "must not decrease"),
    "latency-over-route-timeout": inconsistent(
        "latency_budget", {"latency.p99_ms": 12000}, "p99_ms 12000 is over the route timeout (10 s)"
    ),
    # model_class
    "models-fallback-or-refusal": dropped(
        "model_class", "models.fallback", "models.fallback, or a refusal contract"
    ),
    "models-cascade": dropped("model_class", "models.cascade"),
    "models-fallback-larger": inconsistent(
        "model_class",
        {"models.primary": "gpt-4o-mini", "models.fallback": "gpt-4o"},
        "fallback gpt-4o is larger than primary gpt-4o-mini",
    ),
    "models-unknown": inconsistent(
        "model_class",
        {"models.fallback": "no-such-model"},
        "model 'no-such-model' is not in the provider catalogue",
    ),
    "models-fallback-is-primary": inconsistent(
        "model_class", {"models.fallback": "gpt-4o"}, "the fallback is the primary model"
    ),
    # serving_capacity
    "capacity-owner": dropped("serving_capacity", "capacity.owner"),
    "capacity-quota": dropped("serving_capacity", "capacity.quota_rpm", "capacity.quota_rpm or"),
    "capacity-peak-over-quota": inconsistent(
        "serving_capacity", {"capacity.quota_rpm": 600}, "peak 15 req/s (900/min) is over quota_rpm 600"
    ),
    "capacity-concurrency-under-in-flight": inconsistent(
        "serving_capacity", {"capacity.concurrency": 10}, "keeps ~60 calls in flight, over concurrency 10"
    ),
    # cache_strategy
    "cache-layer-undeclared": dropped(
        "cache_strategy", "cache.semantic", "cache.semantic (a layer, or false"
    ),
    "cache-tenant-data": dropped("cache_strategy", "tenant_data"),
    "cache-layer-ttl": dropped("cache_strategy", "cache.prompt_prefix.ttl_s"),
    "cache-semantic-threshold": missing(
        "cache_strategy",
        {
            "cache.semantic": {
                "scope": "tenant",
                "ttl_s": 60,
                "invalidation": "x",
                "target_hit_rate": 0.1,
                "false_hit_budget": 0.01,
            }
        },
        "cache.semantic.confidence_threshold",
    ),
    "cache-target-hit-rate": dropped("cache_strategy", "cache.prompt_prefix.target_hit_rate"),
    "cache-target-hit-rate-zero": inconsistent(
        "cache_strategy",
        {"cache.prompt_prefix.target_hit_rate": 0},
        "cache.prompt_prefix.target_hit_rate is 0: a layer in use targets some hits (0 < rate <= 1)",
    ),
    "cache-not-per-tenant": inconsistent(
        "cache_strategy",
        {"cache.prompt_prefix.scope": "global"},
        "cache.prompt_prefix.scope is global but prompts carry tenant data: per-tenant scope required",
    ),
    # retry_bound
    "retry-idempotency": dropped("retry_bound", "retry.idempotency"),
    "retry-backoff": dropped("retry_bound", "retry.backoff"),
    "retry-worst-case": dropped("retry_bound", "retry.max_attempts", "the worst-case cost per request"),
    "retry-timeout-not-under-p99": inconsistent(
        "retry_bound",
        {"retry.call_timeout_s": 6},
        "per-call timeout 6 s is not shorter than the p99 budget (6000 ms)",
    ),
    "retry-timeout-not-under-route-timeout": inconsistent(
        "retry_bound",
        {"retry.route_timeout_s": 4, "latency.p99_ms": 4000, "latency.p95_ms": 3000},
        "per-call timeout 4 s is not shorter than the route timeout 4 s",
    ),
    "retry-without-idempotency": inconsistent(
        "retry_bound",
        {"retry.idempotency": "none"},
        "3 attempts but the call is not idempotent (retries without idempotency)",
    ),
    "retry-no-attempt-for-fallback": inconsistent(
        "retry_bound", {"retry.primary_attempts": 3}, "no attempt is left for the fallback model"
    ),
    "retry-no-time-for-fallback": inconsistent(
        "retry_bound",
        {"retry.route_timeout_s": 8, "latency.p99_ms": 7000},
        "2 primary attempts x 4 s leave no time for the fallback within the route timeout (8 s)",
    ),
    "retry-fleet-over-quota-needs-a-breaker": missing(
        "retry_bound",
        {"retry.breaker": DROP},
        "retry.breaker or retry.shared_backoff (summarize: 5 qps x 3 peak x 3 attempts = 45 calls/s "
        "over the primary's quota of 20/s (quota_rpm 1200))",
    ),
    # structured_output
    "structured-output-undeclared": dropped(
        "structured_output", "structured_output", "structured_output (the re-ask"
    ),
    "structured-output-counter": missing(
        "structured_output",
        {"structured_output": {"kind": "json_schema", "max_reasks": 1, "validation": "jsonschema"}},
        "structured_output.counter",
    ),
    # degradation_path
    "degradation-mode": dropped("degradation_path", "degradation.malformed", "missing degradation.malformed"),
    "degradation-expect": missing(
        "degradation_path",
        {"degradation.slow": {"action": "fallback_model", "user_visible": "x"}},
        "degradation.slow.expect",
    ),
    # the cadence is the file's, not the route's
    "degradation-cadence": Case(
        "degradation_path", "missing", {"rehearsal.cadence": DROP}, "rehearsal.cadence"
    ),
    "degradation-silent-fallback": inconsistent(
        "degradation_path",
        {
            "degradation.unavailable": {
                "action": "fallback_model",
                "user_visible": "x",
                "expect": {"status": 200},
            }
        },
        "degradation.unavailable: a fallback_model answer that does not expect the degraded signal",
    ),
    "degradation-refuse-with-2xx": inconsistent(
        "degradation_path",
        {"degradation.over_budget.expect": {"status": 200}},
        "degradation.over_budget: action refuse but expect.status is 200",
    ),
    "degradation-fallback-without-model": inconsistent(
        "degradation_path",
        {"models.fallback": DROP},
        "action is fallback_model but models.fallback is not declared",
    ),
    "degradation-body-of-a-stream": inconsistent(
        "degradation_path",
        {"stream": "sse", "latency.ttft_p95_ms": 500, "ok": {"status": 200}},
        "a streamed (sse) answer has no JSON body to check",
    ),
    # cost_attribution
    "attribution-feature-tag": missing(
        "cost_attribution", {"attribution.tags": ["route", "tenant"]}, "attribution.tags: feature"
    ),
    "attribution-feature-value": dropped("cost_attribution", "attribution.feature"),
    "attribution-tenant": inconsistent(
        "cost_attribution",
        {"attribution.tags": ["route", "feature"]},
        "prompts carry tenant data but calls are not tagged by tenant",
    ),
    # tail_alerting
    "alerts-absent": dropped("tail_alerting", "alerts", "missing alerts (budget_breach"),
    "alerts-retry-amplification": dropped("tail_alerting", "alerts.retry_amplification"),
    "alerts-false-where-it-applies": inconsistent(
        "tail_alerting", {"alerts.fallback_rate": False}, "alerts.fallback_rate is false but applies here"
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


@pytest.mark.parametrize(
    "changes",
    [
        {"retry.shared_backoff": True},  # a shared backoff bounds the fleet too
        {"qps": 2},  # 2 x 3 x 3 = 18 calls/s: within the quota of 20/s
        {"capacity.quota_rpm": 2700},  # exactly at the quota: 45 calls/s
        {"models.fallback": DROP, "degradation": None},  # no fallback: the check does not apply
    ],
    ids=["shared-backoff", "under-quota", "at-quota", "no-fallback"],
)
def test_a_fleet_within_its_quota_or_bounded_needs_no_breaker(changes: dict[str, Any]) -> None:
    data = apply({f"{R}.retry.breaker": DROP} | {f"{R}.{k}": v for k, v in changes.items()})
    if "degradation" in changes:
        drop_field(data, f"{R}.degradation")
    found = lint(validate_routes(data, "x"))[0].item("retry_bound")
    assert not any("breaker" in f for f in found.findings), found.findings


def test_a_cache_layer_refuses_a_target_hit_rate_over_one() -> None:
    with pytest.raises(
        InvalidRoutes, match=r"cache\.prompt_prefix\..*target_hit_rate: .* less than or equal to 1"
    ):
        validate_routes(apply({f"{R}.cache.prompt_prefix.target_hit_rate": 1.5}), "x")


def test_no_cache_layer_in_use_needs_no_target() -> None:
    data = apply({f"{R}.cache.prompt_prefix": False})
    found = lint(validate_routes(data, "x"))[0].item("cache_strategy")
    assert found.status == "present", found.findings


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

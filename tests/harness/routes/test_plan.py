"""`rehearse plan`: one experiment per route x failure mode, each valid under the experiment
schema, its faults aimed at the primary model and its contract taken from the spec."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from harness.cli import main
from harness.experiment.load import load_experiment
from harness.routes.load import load_routes, validate_routes
from harness.routes.plan import Planned, plan, plan_one, write_plan
from harness.routes.spec import FAILURE_MODES
from tests.harness.routes.specs import SHIPPED_ROUTES, complete_spec, drop_field, set_field, write_spec

R = "routes.summarize"


def planned(data: dict[str, Any], mode: str, time_scale: float = 1.0, where: Path = Path(".")) -> Planned:
    return plan_one(validate_routes(data, "t"), "summarize", mode, where, time_scale)  # type: ignore[arg-type]


def experiment(data: dict[str, Any], mode: str, time_scale: float = 1.0) -> dict[str, Any]:
    p = planned(data, mode, time_scale)
    assert p.experiment is not None, p.reason
    return p.experiment


def clauses(exp: dict[str, Any]) -> dict[str, list[dict[str, Any]]]:
    out: dict[str, list[dict[str, Any]]] = {}
    for clause in exp["contract"]:
        ((name, params),) = clause.items()
        out.setdefault(name, []).append(params)
    return out


def fault_phase(exp: dict[str, Any]) -> dict[str, Any]:
    return next(p for p in exp["phases"] if p["name"] == "fault")


def test_shipped_routes_file_plans_twenty_valid_experiments(tmp_path: Path) -> None:
    planned_all = plan(load_routes(SHIPPED_ROUTES), SHIPPED_ROUTES)
    assert [(p.route, p.mode) for p in planned_all] == [
        (r, m) for r in ("summarize", "extract", "chat", "embed") for m in FAILURE_MODES
    ]
    assert all(p.experiment is not None for p in planned_all), [p.reason for p in planned_all]
    paths = write_plan(planned_all, tmp_path / "plan", SHIPPED_ROUTES)
    assert [p.name for p in paths][:5] == [
        "summarize-unavailable.yaml",
        "summarize-rate-limited.yaml",
        "summarize-over-budget.yaml",
        "summarize-malformed.yaml",
        "summarize-slow.yaml",
    ]
    for path in paths:
        exp = load_experiment(path)  # validates the file as written
        assert exp.target.app == "sample"
        assert exp.provider.latency == "none"
        assert "&id" not in path.read_text()  # written out in full, no YAML anchors


def test_contract_is_taken_from_the_spec() -> None:
    exp = experiment(complete_spec(), "unavailable")
    c = clauses(exp)
    assert c["retries"] == [{"max_attempts_per_request": 3}]
    assert c["budget"] == [
        {
            "max_input_tokens": 6000,
            "max_output_tokens": 360,
            "max_cost_usd_per_request": 0.012772,
            "max_input_tokens_per_call": 2000,  # tokens.input_cap
            "max_output_tokens_per_call": 120,  # tokens.output_cap
        }
    ]
    assert c["attribution"] == [{"required_tags": ["route", "feature", "tenant"]}]
    assert c["no_silent_fallback"] == [
        {"primary_models": ["gpt-4o"], "signal_header": "x-degraded", "signal_body": "degraded"}
    ]
    assert c["correlation"] == [{}]
    degradation = {d["phase"]: d["expect"] for d in c["degradation"]}
    assert degradation == {
        "steady": {"status": 200, "body": {"degraded": False}},
        "recovery": {"status": 200, "body": {"degraded": False}},
        "fault": {"status": 200, "headers": {"x-degraded": "fallback"}, "body": {"degraded": True}},
    }
    assert c["error_rate"] == [{"phase": "recovery", "max": 0}]
    latency = {d["phase"]: d for d in c["latency"]}
    assert latency["recovery"] == {"phase": "recovery", "p50_ms": 1500.0, "p95_ms": 4000.0, "p99_ms": 6000.0}
    assert latency["fault"] == {"phase": "fault", "p99_ms": 11000.0, "include_errors": True}  # timeout + 1 s
    assert "retry_after_respected" not in c
    assert "retry_after_respected" in clauses(experiment(complete_spec(), "rate_limited"))


def test_reasks_raise_the_retry_cap_and_the_budget() -> None:
    data = set_field(
        complete_spec(),
        f"{R}.structured_output",
        {"kind": "tool_call", "max_reasks": 2, "validation": "v", "counter": "c"},
    )
    c = clauses(experiment(data, "malformed"))
    assert c["retries"] == [{"max_attempts_per_request": 9}]
    assert c["budget"][0]["max_input_tokens"] == 18000


def test_phases_warmup_steady_fault_settle_recovery_and_only_some_are_scaled() -> None:
    exp = experiment(complete_spec(), "rate_limited", time_scale=0.1)
    phases = [(p["name"], p["duration_s"]) for p in exp["phases"]]
    # settle: 2 primary attempts x 0.2 s retry-after + one backoff of 0.05 s + 1 s margin.
    # cooldown: the breaker's 2 s cool-down + 1 s margin, fault off, so recovery meets a closed breaker.
    assert phases == [
        ("warmup", 1.0),
        ("steady", 0.5),
        ("fault", 1.0),
        ("settle", 1.45),
        ("cooldown", 3.0),
        ("recovery", 0.5),
    ]
    faulted = [p["name"] for p in exp["phases"] if p.get("faults")]
    assert faulted == ["fault", "settle"]
    assert exp["load"] == {"mode": "open", "rate": 10.0}
    # A shared backoff waits at most backoff.max_s (1 s); without either there is no cooldown.
    shared = drop_field(set_field(complete_spec(), f"{R}.retry.shared_backoff", True), f"{R}.retry.breaker")
    names = [(p["name"], p["duration_s"]) for p in experiment(shared, "unavailable")["phases"]]
    assert ("cooldown", 2.0) in names
    unbounded = drop_field(complete_spec(), f"{R}.retry.breaker")
    assert "cooldown" not in [p["name"] for p in experiment(unbounded, "unavailable")["phases"]]


def test_settle_covers_slow_attempts_up_to_the_route_timeout() -> None:
    slow = experiment(complete_spec(), "slow")
    settle = next(p for p in slow["phases"] if p["name"] == "settle")
    assert settle["duration_s"] == pytest.approx(2 * 4 + 0.05 + 1.0)
    data = set_field(complete_spec(), "rehearsal.settle_s", 2.5)
    settle = next(p for p in experiment(data, "slow")["phases"] if p["name"] == "settle")
    assert settle["duration_s"] == 2.5


@pytest.mark.parametrize(
    ("mode", "fault", "extra"),
    [
        ("unavailable", {"kind": "http_error", "status": 503}, {}),
        ("rate_limited", {"kind": "rate_limit", "retry_after_ms": 200}, {}),
        ("slow", {"kind": "slow", "ttft_ms": 5000}, {}),  # 1 s over the 4 s call timeout
        ("malformed", {"kind": "partial", "after_tokens": 5, "mode": "error_event"}, {}),
        ("over_budget", {"kind": "context_length"}, {}),
    ],
)
def test_default_faults_hit_the_primary_model(
    mode: str, fault: dict[str, Any], extra: dict[str, Any]
) -> None:
    data = drop_field(complete_spec(), f"{R}.over_budget_request")
    (rule,) = fault_phase(experiment(data, mode))["faults"]
    assert rule == {"match": {"model": "gpt-4o"}, "fault": fault, **extra}


def test_malformed_fault_follows_the_structured_output_kind() -> None:
    data = set_field(complete_spec(), f"{R}.structured_output", {"kind": "tool_call"})
    (rule,) = fault_phase(experiment(data, "malformed"))["faults"]
    assert rule["fault"] == {"kind": "malformed_tool_call", "mode": "missing_required"}
    set_field(data, f"{R}.structured_output", {"kind": "json_schema"})
    (rule,) = fault_phase(experiment(data, "malformed"))["faults"]
    assert rule["fault"] == {"kind": "malformed_output", "mode": "schema_violation"}


def test_embedding_routes_hang_for_slow_and_reset_once_for_malformed() -> None:
    data = set_field(complete_spec(), f"{R}.models", {"primary": "text-embedding-3-small"})
    (slow,) = fault_phase(experiment(data, "slow"))["faults"]
    assert slow["fault"] == {"kind": "hang", "after_s": 5.0}
    (broken,) = fault_phase(experiment(data, "malformed"))["faults"]
    assert broken == {
        "match": {"model": "text-embedding-3-small"},
        "fault": {"kind": "connection_reset"},
        "first_attempts": 1,
    }


def test_faults_given_in_the_spec_replace_the_default() -> None:
    data = set_field(
        complete_spec(),
        f"{R}.degradation.unavailable.faults",
        [
            {
                "match": {"model": "gpt-4o", "route": "summarize"},
                "fault": {"kind": "http_error", "status": 529},
            }
        ],
    )
    (rule,) = fault_phase(experiment(data, "unavailable"))["faults"]
    assert rule == {
        "match": {"model": "gpt-4o", "route": "summarize"},
        "fault": {"kind": "http_error", "status": 529},
    }


def test_over_budget_sends_the_oversized_request_and_counts_no_provider_call() -> None:
    exp = experiment(complete_spec(), "over_budget", time_scale=0.5)
    assert [(p["name"], p["duration_s"]) for p in exp["phases"]] == [("warmup", 1.0), ("fault", 5.0)]
    assert exp["target"]["request"]["json"] == {"text": "{{ faker.text(max_nb_chars=20000) }}"}
    # Refused before any model call: nothing for the provider-side clauses to judge.
    assert set(clauses(exp)) == {"degradation", "latency"}
    trimmed = set_field(
        complete_spec(),
        f"{R}.degradation.over_budget",
        {
            "action": "trim",
            "user_visible": "cut",
            "expect": {"status": 200, "headers": {"x-input-trimmed": "true"}},
        },
    )
    assert {"budget", "retries", "attribution"} <= set(clauses(experiment(trimmed, "over_budget")))


def test_a_mode_without_expectation_or_primary_is_not_planned() -> None:
    data = drop_field(complete_spec(), f"{R}.degradation.slow.expect")
    p = planned(data, "slow")
    assert p.experiment is None
    assert p.reason == "degradation.slow.expect is not declared"
    data = drop_field(complete_spec(), f"{R}.models.primary")
    p = planned(data, "unavailable")
    assert p.experiment is None
    assert p.reason is not None
    assert "models.primary" in p.reason


def test_target_and_provider_come_from_the_routes_file(tmp_path: Path) -> None:
    data = complete_spec()
    exp = experiment(data, "unavailable")
    assert exp["target"]["url"] == "http://127.0.0.1:9"
    assert exp["target"]["stream"] is False
    assert exp["target"]["timeout_s"] == 15.0
    set_field(data, "target", {"app": "sample", "sample": {"flaws": ["silent_fallback"]}})
    set_field(data, "provider", {"scenario": "scenarios/base.yaml"})
    p = planned(data, "unavailable", where=tmp_path)
    assert p.experiment is not None
    assert p.experiment["target"]["sample"] == {"flaws": ["silent_fallback"]}
    assert p.experiment["provider"] == {
        "scenario": str(tmp_path.resolve() / "scenarios/base.yaml"),
        "latency": "none",
    }


def test_cli_writes_the_plan_and_says_what_it_could_not_plan(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["plan", str(SHIPPED_ROUTES), "-o", str(tmp_path / "out"), "--time-scale", "0.1"]) == 0
    assert len(list((tmp_path / "out").glob("*.yaml"))) == 20
    assert f"wrote {tmp_path / 'out' / 'chat-slow.yaml'}" in capsys.readouterr().out
    steady = yaml.safe_load((tmp_path / "out" / "chat-slow.yaml").read_text())["phases"][1]
    assert steady == {"name": "steady", "duration_s": 0.5}
    partial = write_spec(
        tmp_path / "partial.yaml", drop_field(complete_spec(), f"{R}.degradation.slow.expect")
    )
    assert main(["plan", str(partial), "-o", str(tmp_path / "partial")]) == 1
    assert "not planned: summarize slow: degradation.slow.expect is not declared" in capsys.readouterr().err
    assert len(list((tmp_path / "partial").glob("*.yaml"))) == 4
    invalid = tmp_path / "invalid.yaml"
    invalid.write_text("routes: {}\n")
    assert main(["plan", str(invalid), "-o", str(tmp_path / "never")]) == 2
    assert "target (line 1): Field required" in capsys.readouterr().err
    assert not (tmp_path / "never").exists()
    assert main(["plan", str(SHIPPED_ROUTES), "-o", str(tmp_path / "x"), "--time-scale", "0"]) == 2

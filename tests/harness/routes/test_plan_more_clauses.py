"""`rehearse plan` and the SPEC §10 clauses: breaker and amplification in the unavailable and
rate-limited plans, stream integrity in the malformed plan of a streamed route, goodput from the
latency budget, cache from the target hit rates; each left out, with its reason, when the spec
does not declare what it needs. The written plans validate with `rehearse validate`."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from harness.cli import main
from harness.routes.load import load_routes
from harness.routes.plan import plan, write_plan
from tests.harness.routes.specs import SHIPPED_ROUTES, complete_spec, drop_field, set_field, write_spec
from tests.harness.routes.test_plan import R, clauses, experiment, planned


def only(exp: dict[str, Any], name: str) -> dict[str, Any] | None:
    found = clauses(exp).get(name, [])
    assert len(found) <= 1, found
    return found[0] if found else None


def absent(data: dict[str, Any], mode: str, time_scale: float = 1.0) -> list[str]:
    p = planned(data, mode, time_scale)
    assert p.experiment is not None, p.reason
    return list(p.absent)


@pytest.mark.parametrize("mode", ["unavailable", "rate_limited"])
def test_breaker_from_the_declared_breaker(mode: str) -> None:
    exp = experiment(complete_spec(), mode)
    # 5 failures open it: ceil(5 / 2 primary attempts) + 1 arrivals at 10/s, then the last one's
    # attempts on the primary (unavailable: one 0.05 s backoff; rate-limited: 2 x 0.2 s retry-after
    # + 0.05 s). From then to the end of the 10 s fault phase: one probe per 2 s cool-down, + 1.
    after = {"unavailable": 0.45, "rate_limited": 0.85}[mode]
    window = 10 - after
    assert only(exp, "breaker") == {
        "phase": "fault",
        "model": "gpt-4o",
        "after_s": after,
        "max_calls_per_s": round((int(window // 2) + 1) / window, 3),
    }


def test_breaker_from_a_shared_backoff_and_left_out_without_either() -> None:
    data = drop_field(set_field(complete_spec(), f"{R}.retry.shared_backoff", True), f"{R}.retry.breaker")
    # The shared wait grows 0.05 + 0.1 + 0.2 + 0.4 + 0.8 = 1.55 s to max_s 1 s; + the 0.05 s backoff.
    assert only(experiment(data, "unavailable"), "breaker") == {
        "phase": "fault",
        "model": "gpt-4o",
        "after_s": 1.6,
        "max_calls_per_s": round(9 / 8.4, 3),
    }
    # At a tenth of the time the fault phase (1 s) ends before the shared backoff has grown.
    assert only(experiment(data, "unavailable", time_scale=0.1), "breaker") is None
    assert "breaker: the fault phase (1 s) ends before the bound takes hold (1.6 s)" in absent(
        data, "unavailable", 0.1
    )
    unbounded = drop_field(complete_spec(), f"{R}.retry.breaker")
    assert only(experiment(unbounded, "unavailable"), "breaker") is None
    assert "breaker: no retry.breaker (or retry.shared_backoff with a backoff) is declared" in absent(
        unbounded, "unavailable"
    )


def test_amplification_bounds_calls_and_cost_per_request_by_the_retry_policy() -> None:
    assert only(experiment(complete_spec(), "unavailable"), "amplification") == {
        "phase": "fault",
        "max_calls_per_request": 3,  # max_attempts, the fallback's included
        "baseline_phase": "steady",
        # worst case $0.012772 (2 x gpt-4o + gpt-4o-mini at the caps) / one gpt-4o call $0.0062
        "max_cost_ratio": 2.06,
    }
    reasks = set_field(
        complete_spec(),
        f"{R}.structured_output",
        {"kind": "tool_call", "max_reasks": 1, "validation": "v", "counter": "c"},
    )
    amp = only(experiment(reasks, "rate_limited"), "amplification")
    assert amp is not None
    assert amp["max_calls_per_request"] == 6
    assert amp["max_cost_ratio"] == 4.12
    no_caps = drop_field(complete_spec(), f"{R}.tokens")
    assert only(experiment(no_caps, "unavailable"), "amplification") == {
        "phase": "fault",
        "max_calls_per_request": 3,
    }
    assert any(
        a.startswith("amplification.max_cost_ratio: tokens.input_cap") for a in absent(no_caps, "unavailable")
    )


@pytest.mark.parametrize("mode", ["over_budget", "malformed", "slow"])
def test_breaker_and_amplification_only_where_the_primary_is_down(mode: str) -> None:
    data = drop_field(complete_spec(), f"{R}.over_budget_request")
    c = clauses(experiment(data, mode))
    assert "breaker" not in c
    assert "amplification" not in c


def test_per_call_caps_come_from_the_token_caps_even_without_a_worst_case() -> None:
    data = drop_field(complete_spec(), f"{R}.retry.max_attempts")
    data = drop_field(data, f"{R}.retry.primary_attempts")
    assert only(experiment(data, "unavailable"), "budget") == {
        "max_input_tokens_per_call": 2000,
        "max_output_tokens_per_call": 120,
    }
    assert only(experiment(drop_field(data, f"{R}.tokens"), "unavailable"), "budget") is None


def test_goodput_from_the_latency_budget() -> None:
    assert only(experiment(complete_spec(), "slow"), "goodput") == {
        "phase": "recovery",
        "min": 0.95,  # the default: the targets are p95 targets
        "e2e_ms": 4000.0,  # latency.p95_ms
    }
    data = set_field(complete_spec(), f"{R}.latency.goodput_min", 0.9)
    set_field(data, f"{R}.stream", "sse")
    set_field(data, f"{R}.latency.ttft_p95_ms", 800)
    assert only(experiment(data, "unavailable"), "goodput") == {
        "phase": "recovery",
        "min": 0.9,
        "e2e_ms": 4000.0,
        "ttft_ms": 800.0,
    }
    p99_only = drop_field(complete_spec(), f"{R}.latency.p95_ms")
    goodput = only(experiment(p99_only, "unavailable"), "goodput")
    assert goodput is not None
    assert goodput["e2e_ms"] == 6000.0
    no_budget = drop_field(complete_spec(), f"{R}.latency")
    assert only(experiment(no_budget, "unavailable"), "goodput") is None
    assert "goodput: latency.p95_ms (or p99_ms) is not declared" in absent(no_budget, "unavailable")


def test_goodput_and_cache_need_steady_and_recovery_phases() -> None:
    exp = experiment(complete_spec(), "over_budget")  # the oversized request alone: warmup, fault
    assert {"goodput", "cache", "breaker", "amplification"}.isdisjoint(clauses(exp))


def test_cache_from_the_target_hit_rates() -> None:
    assert only(experiment(complete_spec(), "unavailable"), "cache") == {
        "phase": "steady",
        "min_prompt_cache_share": 0.2,
    }
    layer = {"scope": "tenant", "ttl_s": 60, "invalidation": "x"}
    data = set_field(complete_spec(), f"{R}.cache.prompt_prefix", False)
    set_field(data, f"{R}.cache.full_response", {**layer, "target_hit_rate": 0.3})
    set_field(
        data,
        f"{R}.cache.semantic",
        {**layer, "target_hit_rate": 0.1, "confidence_threshold": 0.9, "false_hit_budget": 0.01},
    )
    assert only(experiment(data, "unavailable"), "cache") == {
        "phase": "steady",
        "min_response_cache_share": 0.3,
    }
    # An embedding cache's hit rate is per text, not per request: no clause from it.
    embedding = set_field(complete_spec(), f"{R}.cache.prompt_prefix", False)
    set_field(embedding, f"{R}.cache.embedding", {**layer, "target_hit_rate": 0.6})
    assert only(experiment(embedding, "unavailable"), "cache") is None
    assert "cache: no prompt_prefix, full_response or semantic layer declares a target_hit_rate" in absent(
        embedding, "unavailable"
    )


def test_stream_integrity_in_the_malformed_plan_of_a_streamed_route() -> None:
    data = set_field(complete_spec(), f"{R}.stream", "sse")
    set_field(data, f"{R}.latency.ttft_p95_ms", 800)
    set_field(data, "signal.stream_marker", "stream_interrupted")
    assert only(experiment(data, "malformed"), "stream_integrity") == {
        "phase": "fault",
        "signal_header": "x-degraded",
        "error_marker": "stream_interrupted",
    }
    assert only(experiment(data, "unavailable"), "stream_integrity") is None
    plain = complete_spec()
    assert only(experiment(plain, "malformed"), "stream_integrity") is None
    assert "stream_integrity: the route does not stream" in absent(plain, "malformed")


def test_shipped_plan_carries_the_new_clauses_and_validates(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "plan"
    write_plan(plan(load_routes(SHIPPED_ROUTES), SHIPPED_ROUTES, 0.1), out, SHIPPED_ROUTES)
    by_file = {p.stem: clauses(yaml.safe_load(p.read_text())) for p in out.glob("*.yaml")}
    for route in ("summarize", "extract", "chat", "embed"):  # a breaker each
        for mode in ("unavailable", "rate-limited"):
            expected = (
                {"amplification"}
                if (route, mode) == ("embed", "rate-limited")
                else {"breaker", "amplification"}
            )
            assert expected <= set(by_file[f"{route}-{mode}"]), (route, mode)
        assert "breaker" not in by_file[f"{route}-slow"]
    # embed's three attempts, 0.2 s retry-after each: its breaker has not opened in the 1 s fault phase.
    header = (out / "embed-rate-limited.yaml").read_text().splitlines()
    assert "# Not checked: breaker: the fault phase (1 s) ends before the bound takes hold (1.05 s)" in header
    assert by_file["chat-malformed"]["stream_integrity"] == [
        {"phase": "fault", "signal_header": "x-degraded", "error_marker": "stream_interrupted"}
    ]
    header = (out / "summarize-malformed.yaml").read_text().splitlines()
    assert "# Not checked: stream_integrity: the route does not stream" in header
    capsys.readouterr()
    assert main(["validate", str(out)]) == 0, capsys.readouterr()


def test_cli_says_which_clauses_are_not_checked(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    spec = write_spec(tmp_path / "r.yaml", drop_field(complete_spec(), f"{R}.retry.breaker"))
    assert main(["plan", str(spec), "-o", str(tmp_path / "out")]) == 0
    out = capsys.readouterr().out
    assert "not checked in summarize unavailable: breaker: no retry.breaker" in out
    assert "not checked in summarize malformed: stream_integrity: the route does not stream" in out

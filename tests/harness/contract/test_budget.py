"""`budget`: tokens and cost per route request, every attempt summed."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from harness.contract.budget import BudgetParams
from tests.harness.contract.conftest import call, evaluate, make_run, req

CAPS = {"max_input_tokens": 4000, "max_output_tokens": 512, "max_cost_usd_per_request": 0.02}


def test_budget_holds_when_every_request_stays_under_its_caps() -> None:
    ledger = [call("a", input_tokens=1000, output_tokens=300, cost_usd=0.01), call("b", input_tokens=3999)]
    result = evaluate("budget", CAPS, make_run([req("a"), req("b"), req("cached")], ledger))
    assert result.verdict == "pass"
    assert result.details["input_tokens"]["max"] == 3999
    assert result.details["units"] == 2  # the request that made no call is not counted


def test_budget_sums_every_attempt_of_a_request() -> None:
    # Each attempt fits the cap; the retries together do not.
    ledger = [call("a", at=i * 0.2, status=503, input_tokens=1500) for i in range(2)]
    ledger.append(call("a", at=1.0, input_tokens=1500, output_tokens=100, cost_usd=0.005))
    ledger.append(call("b", input_tokens=100))
    result = evaluate("budget", CAPS, make_run([req("a"), req("b")], ledger))
    assert result.verdict == "fail"
    assert result.offenders == ["a"]
    assert result.details["input_tokens"] == {"max": 4500, "mean": 2300, "over": 1, "cap": 4000}
    assert result.observed.startswith(
        "max input tokens 4500 (1 over); max output tokens 100; max cost USD $0.005 over 2"
    )


def test_budget_fails_a_route_without_a_token_cap() -> None:
    ledger = [call("a", output_tokens=400), call("b", output_tokens=4096), call("c", output_tokens=2000)]
    result = evaluate("budget", {"max_output_tokens": 512}, make_run([req("a"), req("b"), req("c")], ledger))
    assert result.verdict == "fail"
    assert result.offenders == ["b", "c"]  # worst first


def test_budget_cost_cap() -> None:
    ledger = [call("a", cost_usd=0.01), call("a", at=1, cost_usd=0.011)]
    result = evaluate("budget", {"max_cost_usd_per_request": 0.02}, make_run([req("a")], ledger))
    assert result.verdict == "fail"
    assert result.details["cost_usd"]["max"] == pytest.approx(0.021)


def test_budget_without_a_ledger_cannot_be_judged() -> None:
    result = evaluate("budget", CAPS, make_run([req("a")]))
    assert result.verdict == "error"
    assert result.observed == "the provider recorded no call"


def test_budget_by_fingerprint_when_not_correlated() -> None:
    ledger = [
        call("p1", fingerprint="f", input_tokens=3000),
        call("p2", at=1, fingerprint="f", input_tokens=3000),
    ]
    result = evaluate("budget", {"max_input_tokens": 4000}, make_run([req("a")], ledger))
    assert result.verdict == "fail"
    assert result.offenders == ["fingerprint:f"]


def test_budget_needs_a_cap() -> None:
    with pytest.raises(ValidationError, match="at least one cap"):
        BudgetParams.model_validate({})


PER_CALL = {"max_input_tokens_per_call": 1000, "max_output_tokens_per_call": 200}


def test_budget_per_call_holds_exactly_at_the_cap() -> None:
    # Three calls of one request: each exactly at the caps, together far over them.
    ledger = [call("a", at=i * 0.2, input_tokens=1000, output_tokens=200) for i in range(3)]
    result = evaluate("budget", PER_CALL, make_run([req("a")], ledger))
    assert result.verdict == "pass"
    assert result.details["input_tokens_per_call"] == {"max": 1000, "mean": 1000, "over": 0, "cap": 1000}
    assert result.expected == "per call: input tokens per call <= 1000, output tokens per call <= 200"
    assert result.observed.endswith("over 1 requests (3 calls)")


def test_budget_per_call_fails_one_token_over_and_names_the_request() -> None:
    ledger = [call("a", input_tokens=900), call("a", at=0.5, input_tokens=1001), call("b", output_tokens=201)]
    result = evaluate("budget", PER_CALL, make_run([req("a"), req("b")], ledger))
    assert result.verdict == "fail"
    assert result.offenders == ["b", "a"]  # 201/200 before 1001/1000: worst ratio first
    assert result.details["input_tokens_per_call"]["over"] == 1
    assert result.details["output_tokens_per_call"]["over"] == 1


def test_budget_per_call_beside_the_per_request_sums() -> None:
    ledger = [call("a", input_tokens=800), call("a", at=0.5, input_tokens=800)]
    params = {"max_input_tokens": 1500, "max_input_tokens_per_call": 1000}
    result = evaluate("budget", params, make_run([req("a")], ledger))
    assert result.verdict == "fail"  # each call fits; the request's sum does not
    assert result.details["input_tokens"]["over"] == 1
    assert result.details["input_tokens_per_call"]["over"] == 0
    assert result.expected == "per request: input tokens <= 1500; per call: input tokens per call <= 1000"


def test_budget_per_call_counts_calls_not_joined_by_fingerprint() -> None:
    ledger = [call("p1", fingerprint="f", input_tokens=5000)]
    result = evaluate("budget", {"max_input_tokens_per_call": 4000}, make_run([req("a")], ledger))
    assert result.verdict == "fail"
    assert result.offenders == ["fingerprint:f"]


def test_budget_per_call_phase_without_calls_cannot_be_judged() -> None:
    ledger = [call("a", input_tokens=5000)]
    run = make_run([req("a"), req("b", "outage", at=11)], ledger)
    result = evaluate("budget", {"max_input_tokens_per_call": 4000, "phase": "outage"}, run)
    assert result.verdict == "error"
    assert result.observed == "no provider call in this phase"

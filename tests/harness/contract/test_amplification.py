"""`amplification`: provider calls (and cost) per route request in a phase."""

from __future__ import annotations

from typing import Any

import pytest
from pydantic import ValidationError

from harness.contract.amplification import AmplificationParams
from harness.record import RequestRecord
from tests.harness.contract.conftest import call, evaluate, make_run, req


def _outage(
    n_requests: int, calls_each: list[int], cost: float = 0.001
) -> tuple[list[RequestRecord], list[dict[str, Any]]]:
    requests = [req(f"o{i}", "outage", at=11 + i * 0.1) for i in range(n_requests)]
    ledger = [
        call(f"o{i}", at=11 + i * 0.1 + k * 0.01, cost_usd=cost)
        for i, n in enumerate(calls_each)
        for k in range(n)
    ]
    return requests, ledger


def test_amplification_holds_exactly_at_the_cap() -> None:
    # 4 requests, 8 calls: a mean of 2.0 exactly; the request with no call counts as 0.
    requests, ledger = _outage(4, [3, 3, 2, 0])
    result = evaluate(
        "amplification", {"phase": "outage", "max_calls_per_request": 2}, make_run(requests, ledger)
    )
    assert result.verdict == "pass"
    assert result.details["calls_per_request"] == 2.0
    assert result.details["requests_without_call"] == 1
    assert result.offenders == []


def test_amplification_fails_over_the_cap_and_names_the_busiest_requests() -> None:
    requests, ledger = _outage(4, [4, 3, 2, 0])  # 9 / 4 = 2.25
    result = evaluate(
        "amplification", {"phase": "outage", "max_calls_per_request": 2}, make_run(requests, ledger)
    )
    assert result.verdict == "fail"
    assert result.offenders == ["o0", "o1", "o2"]
    assert result.observed == "2.25 calls per request (9 calls, 4 requests)"


def test_amplification_counts_calls_not_joined_by_their_start_time() -> None:
    requests, _ = _outage(2, [])
    ledger = [call("elsewhere", at=11 + k * 0.1, fingerprint=f"f{k}") for k in range(5)]
    ledger.append(call("elsewhere", at=5.0, fingerprint="steady"))  # in another phase's window
    result = evaluate(
        "amplification", {"phase": "outage", "max_calls_per_request": 2}, make_run(requests, ledger)
    )
    assert result.verdict == "fail"
    assert result.details["calls"] == 5
    assert result.details["calls_not_joined"] == 5
    assert "5 calls not joined to a request, counted by time" in result.observed


def test_amplification_cost_ratio_against_the_baseline() -> None:
    steady = [req(f"s{i}", at=i) for i in range(2)]
    base = [call(f"s{i}", at=i, cost_usd=0.002) for i in range(2)]
    requests, ledger = _outage(2, [2, 1], cost=0.002)  # 3 calls * 0.002 / 2 = 0.003: ratio 1.5
    run = make_run([*steady, *requests], [*base, *ledger])
    params = {"phase": "outage", "baseline_phase": "steady", "max_calls_per_request": 5}
    assert evaluate("amplification", params | {"max_cost_ratio": 1.5}, run).verdict == "pass"
    result = evaluate("amplification", params | {"max_cost_ratio": 1.4}, run)
    assert result.verdict == "fail"
    assert result.details["cost_ratio"] == pytest.approx(1.5)
    assert result.offenders == ["o0", "o1"]


def test_amplification_baseline_without_cost_cannot_be_judged() -> None:
    requests, ledger = _outage(2, [1, 1])
    run = make_run([req("s0"), *requests], ledger)  # steady made no call
    params = {"phase": "outage", "baseline_phase": "steady", "max_calls_per_request": 5, "max_cost_ratio": 2}
    result = evaluate("amplification", params, run)
    assert result.verdict == "error"
    assert "no cost in baseline phase steady (1 requests)" in result.observed


def test_amplification_phase_without_requests_cannot_be_judged() -> None:
    result = evaluate(
        "amplification", {"phase": "outage", "max_calls_per_request": 2}, make_run([req("a")], [call("a")])
    )
    assert result.verdict == "error"
    assert result.observed == "no request was sent in phase outage"


def test_amplification_ratio_needs_a_baseline() -> None:
    with pytest.raises(ValidationError, match="needs `baseline_phase`"):
        AmplificationParams.model_validate({"phase": "p", "max_calls_per_request": 1, "max_cost_ratio": 2})

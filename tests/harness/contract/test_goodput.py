"""`goodput`: the share of requests that succeeded within the latency targets."""

from __future__ import annotations

from tests.harness.contract.conftest import evaluate, make_run, req

PARAMS = {"min": 0.75, "e2e_ms": 500, "ttft_ms": 100}


def test_goodput_holds_exactly_at_the_targets_and_the_share() -> None:
    requests = [
        req("a", latency=0.5, chunks=[0.1, 0.5]),  # both exactly at their target
        req("b", latency=0.2),  # not streamed: E2E only
        req("c", latency=0.3, chunks=[0.05, 0.3]),
        req("d", status=503),
    ]
    result = evaluate("goodput", PARAMS, make_run(requests))
    assert result.verdict == "pass"
    assert result.details["share"] == 0.75
    assert result.details["without_ttft"] == 2
    assert result.offenders == []


def test_goodput_fails_just_over_and_names_failures_first_then_the_slowest() -> None:
    requests = [
        req("slow", latency=0.501),
        req("late", latency=0.3, chunks=[0.101, 0.3]),
        req("broken", error="read: reset"),
        req("ok", latency=0.1),
    ]
    result = evaluate("goodput", PARAMS, make_run(requests))
    assert result.verdict == "fail"
    assert result.offenders == ["broken", "slow", "late"]
    assert result.details["misses"] == {"e2e over target": 1, "ttft over target": 1, "outcome broken": 1}
    assert result.observed.startswith("25.00% good (1 of 4)")


def test_goodput_phase_without_requests_cannot_be_judged() -> None:
    result = evaluate("goodput", PARAMS | {"phase": "outage"}, make_run([req("a")]))
    assert result.verdict == "error"
    assert result.observed == "no request was sent"

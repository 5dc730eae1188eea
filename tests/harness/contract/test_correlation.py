"""`correlation`: provider calls carry the route request's X-Request-Id."""

from __future__ import annotations

from tests.harness.contract.conftest import call, evaluate, make_run, req


def test_correlation_holds_when_every_call_carries_a_request_id() -> None:
    result = evaluate("correlation", {}, make_run([req("a"), req("b")], [call("a"), call("b"), call("b")]))
    assert result.verdict == "pass"
    assert result.observed == "3 of 3 calls correlated (100.0%)"


def test_correlation_fails_and_names_the_calls_without_one() -> None:
    ledger = [call("a"), call("req_p1", seq=1), call("req_p2", seq=2)]
    result = evaluate("correlation", {}, make_run([req("a"), req("b"), req("c")], ledger))
    assert result.verdict == "fail"
    assert result.offenders == ["req_p1", "req_p2"]
    assert result.details["calls_correlated"] == 1


def test_correlation_accepts_a_lower_share_when_asked() -> None:
    ledger = [call("a"), call("b"), call("req_p1")]
    run = make_run([req("a"), req("b")], ledger)
    assert evaluate("correlation", {"min_call_share": 0.6}, run).verdict == "pass"
    assert evaluate("correlation", {"min_call_share": 0.7}, run).verdict == "fail"


def test_correlation_by_phase_counts_loose_calls_by_start_time() -> None:
    ledger = [call("a", at=1.0), call("req_p1", at=12.0)]
    run = make_run([req("a", at=1.0)], ledger)
    assert evaluate("correlation", {"phase": "steady"}, run).verdict == "pass"
    assert evaluate("correlation", {"phase": "outage"}, run).verdict == "fail"


def test_correlation_cannot_judge_a_run_without_calls() -> None:
    assert evaluate("correlation", {}, make_run([req("a")], [])).verdict == "error"

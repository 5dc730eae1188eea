"""`retries`: provider attempts per route request, joined on X-Request-Id or by fingerprint."""

from __future__ import annotations

from tests.harness.contract.conftest import call, evaluate, make_run, req


def test_retries_hold_when_every_request_stays_under_the_cap() -> None:
    ledger = [call("a"), call("b", status=503), call("b", at=0.5), call("b", at=1, model="gpt-4o-mini")]
    result = evaluate("retries", {"max_attempts_per_request": 3}, make_run([req("a"), req("b")], ledger))
    assert result.verdict == "pass"
    assert result.details["worst"] == 3
    assert result.details["distribution"] == {"1": 1, "3": 1}
    assert result.observed == "worst 3 (requests by attempts 1: 1, 3: 1)"
    assert result.offenders == []


def test_retries_fail_on_unbounded_retries_and_name_the_worst_first() -> None:
    ledger = [call("a")] + [call("b", at=i * 0.1, status=503) for i in range(5)]
    ledger += [call("c", at=i * 0.1, status=503) for i in range(8)]
    run = make_run([req("a"), req("b"), req("c")], ledger)
    result = evaluate("retries", {"max_attempts_per_request": 3}, run)
    assert result.verdict == "fail"
    assert result.offenders == ["c", "b"]
    assert result.details["worst"] == 8
    assert result.details["over"] == 2
    assert result.expected == "<= 3 provider attempts per request"


def test_retries_fall_back_to_fingerprints_when_the_route_does_not_forward_the_id() -> None:
    ledger = [call(f"req_{i}", at=i * 0.1, status=503, fingerprint="same-body") for i in range(4)]
    result = evaluate("retries", {"max_attempts_per_request": 2}, make_run([req("a")], ledger))
    assert result.verdict == "fail"
    assert result.offenders == ["fingerprint:same-body"]
    assert result.details["fingerprint_groups"] == 1
    assert result.details["coverage"]["call_share"] == 0.0
    assert "by fingerprint" in result.observed


def test_retries_in_one_phase_only() -> None:
    ledger = [call("a", status=503), call("a", at=0.1), call("b", at=11)]
    run = make_run([req("a"), req("b", "outage", at=11)], ledger)
    assert evaluate("retries", {"max_attempts_per_request": 1, "phase": "outage"}, run).verdict == "pass"
    assert evaluate("retries", {"max_attempts_per_request": 1, "phase": "steady"}, run).verdict == "fail"


def test_retries_without_a_ledger_cannot_be_judged() -> None:
    result = evaluate("retries", {"max_attempts_per_request": 3}, make_run([req("a")]))
    assert result.verdict == "error"
    assert result.observed == "the provider recorded no call"


def test_retries_in_a_phase_without_calls_cannot_be_judged() -> None:
    run = make_run([req("a")], [call("a")])
    result = evaluate("retries", {"max_attempts_per_request": 3, "phase": "outage"}, run)
    assert result.verdict == "error"
    assert result.observed == "no provider call in this phase"


def test_retries_name_an_unknown_phase() -> None:
    run = make_run([req("a")], [call("a")])
    result = evaluate("retries", {"max_attempts_per_request": 3, "phase": "nope"}, run)
    assert result.verdict == "error"
    assert "no phase named 'nope'" in result.observed


def test_retries_name_at_most_five_offenders() -> None:
    ledger = [call(f"r{i}", at=i + j * 0.1, status=503) for i in range(8) for j in range(3)]
    result = evaluate(
        "retries", {"max_attempts_per_request": 2}, make_run([req(f"r{i}", at=i) for i in range(8)], ledger)
    )
    assert result.verdict == "fail"
    assert result.offenders == ["r0", "r1", "r2", "r3", "r4"]
    assert result.details["over"] == 8

"""`degradation`: the share of a phase's requests answering with the expected status, headers
and body fields."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from harness.contract.degradation import DegradationParams, same_json
from harness.record import RequestRecord
from tests.harness.contract.conftest import evaluate, make_run, req

FALLBACK = {"x-degraded": "fallback"}
EXPECT = {"status": 200, "headers": {"X-Degraded": "fallback"}, "body": {"meta.model": "gpt-4o-mini"}}


def _fallback(rid: str, model: str = "gpt-4o-mini", headers: dict[str, str] | None = None) -> RequestRecord:
    return req(
        rid,
        "outage",
        at=11,
        headers=FALLBACK if headers is None else headers,
        body={"meta": {"model": model}},
    )


def test_degradation_holds_when_every_request_degrades_as_expected() -> None:
    run = make_run([req("s", "steady"), _fallback("a"), _fallback("b")])
    result = evaluate("degradation", {"phase": "outage", "expect": EXPECT}, run)
    assert result.verdict == "pass"
    assert result.observed == "2 of 2 (100.0%) as expected"
    assert (
        result.expected
        == "status 200, X-Degraded: fallback, body.meta.model = 'gpt-4o-mini' on every request"
    )


def test_degradation_fails_and_says_what_differed() -> None:
    requests = [
        _fallback("ok"),
        _fallback("silent", headers={}),
        _fallback("wrong-model", model="gpt-4o"),
        req("down", "outage", at=12, status=503),
        req("gone", "outage", at=13, status=None, latency=None, error="timeout"),
    ]
    result = evaluate("degradation", {"phase": "outage", "expect": EXPECT}, make_run(requests))
    assert result.verdict == "fail"
    assert result.offenders == ["silent", "wrong-model", "down", "gone"]
    assert result.details["offender_reasons"] == {
        "silent": "no x-degraded header",
        "wrong-model": "body.meta.model = 'gpt-4o'",
        "down": "status 503",
        "gone": "no response (timeout)",
    }
    assert result.details["share"] == pytest.approx(0.2)


def test_degradation_min_share_tolerates_a_few() -> None:
    requests = [_fallback(f"r{i}") for i in range(9)] + [_fallback("late", headers={})]
    params = {"phase": "outage", "expect": {"headers": {"x-degraded": "*"}}, "min_share": 0.9}
    result = evaluate("degradation", params, make_run(requests))
    assert result.verdict == "pass"
    assert result.offenders == []
    params["min_share"] = 0.95
    assert evaluate("degradation", params, make_run(requests)).verdict == "fail"


def test_degradation_status_may_be_one_of_several() -> None:
    run = make_run([req("a", "outage", status=200), req("b", "outage", status=503)])
    assert (
        evaluate("degradation", {"phase": "outage", "expect": {"status": [200, 503]}}, run).verdict == "pass"
    )


def test_degradation_body_values_compare_as_json() -> None:
    run = make_run([req("a", "outage", body={"degraded": 1, "items": [{"ok": True}]})])
    assert (
        evaluate("degradation", {"phase": "outage", "expect": {"body": {"items.0.ok": True}}}, run).verdict
        == "pass"
    )
    assert (
        evaluate("degradation", {"phase": "outage", "expect": {"body": {"degraded": True}}}, run).verdict
        == "fail"
    )
    assert same_json(1, 1.0)
    assert not same_json("1", 1)


def test_degradation_in_an_empty_phase_cannot_be_judged() -> None:
    result = evaluate("degradation", {"phase": "outage", "expect": {"status": 200}}, make_run([req("a")]))
    assert result.verdict == "error"
    assert result.observed == "no request was sent in phase outage"


def test_degradation_names_an_unknown_phase() -> None:
    result = evaluate("degradation", {"phase": "brownout", "expect": {"status": 200}}, make_run([req("a")]))
    assert result.verdict == "error"
    assert "no phase named 'brownout'" in result.observed


def test_degradation_needs_a_phase_and_an_expectation() -> None:
    with pytest.raises(ValidationError, match="phase"):
        DegradationParams.model_validate({"expect": {"status": 200}})
    with pytest.raises(ValidationError, match="expect at least one"):
        DegradationParams.model_validate({"phase": "outage", "expect": {}})


def test_degradation_does_not_judge_requests_at_the_phase_edges() -> None:
    edge = req("edge", "outage", at=10.05, body={"meta": {"model": "gpt-4o"}})  # primary: window not begun
    late = req("late", "outage", at=19.9, body={"meta": {"model": "gpt-4o"}})
    run = make_run([_fallback("a"), edge, late])
    assert evaluate("degradation", {"phase": "outage", "expect": EXPECT}, run).verdict == "pass"
    strict = evaluate("degradation", {"phase": "outage", "expect": EXPECT, "edge_s": 0}, run)
    assert strict.verdict == "fail"
    assert strict.offenders == ["edge", "late"]


def test_degradation_judges_every_request_when_the_edges_leave_none() -> None:
    run = make_run([req("edge", "outage", at=10.05)])
    result = evaluate("degradation", {"phase": "outage", "expect": {"status": 503}, "edge_s": 5}, run)
    assert result.verdict == "fail"

"""`attribution`: every provider call carries the required tags."""

from __future__ import annotations

from tests.harness.contract.conftest import call, evaluate, make_run, req

TAGS = {"required_tags": ["route", "feature", "tenant"]}


def test_attribution_holds_when_every_call_is_tagged() -> None:
    result = evaluate("attribution", TAGS, make_run([req("a"), req("b")], [call("a"), call("b")]))
    assert result.verdict == "pass"
    assert result.observed == "all 2 calls tagged"


def test_attribution_fails_on_missing_or_empty_tags() -> None:
    ledger = [
        call("a"),
        call("b", tags={"route": "/summarize", "feature": "summary", "tenant": None}),
        call("c", tags={"route": "/summarize", "feature": "", "tenant": ""}),
        call("d", tags={}),
    ]
    result = evaluate("attribution", TAGS, make_run([req(i) for i in "abcd"], ledger))
    assert result.verdict == "fail"
    assert result.offenders == ["b", "c", "d"]
    assert result.details["missing"] == {"route": 1, "feature": 2, "tenant": 3}
    assert result.observed == "3 of 4 calls missing a tag (route x1, feature x2, tenant x3)"


def test_attribution_checks_only_the_required_tags() -> None:
    ledger = [call("a", tags={"route": "/summarize", "feature": None, "tenant": "acme"})]
    run = make_run([req("a")], ledger)
    assert evaluate("attribution", {"required_tags": ["route", "tenant"]}, run).verdict == "pass"
    assert evaluate("attribution", {}, run).verdict == "fail"  # default: all three


def test_attribution_covers_calls_not_joined_to_a_request() -> None:
    ledger = [call("req_provider", tags={"route": None, "feature": "x", "tenant": "y"})]
    result = evaluate("attribution", TAGS, make_run([req("a")], ledger))
    assert result.verdict == "fail"
    assert result.offenders == ["req_provider"]


def test_attribution_per_phase() -> None:
    ledger = [call("a"), call("b", at=11, tags={}), call("req_provider", at=12, tags={})]
    run = make_run([req("a"), req("b", "outage", at=11)], ledger)
    assert evaluate("attribution", {**TAGS, "phase": "steady"}, run).verdict == "pass"
    result = evaluate("attribution", {**TAGS, "phase": "outage"}, run)
    assert result.offenders == ["b", "req_provider"]


def test_attribution_without_a_ledger_cannot_be_judged() -> None:
    result = evaluate("attribution", TAGS, make_run([req("a")]))
    assert result.verdict == "error"
    assert result.observed == "the provider recorded no call"

"""`no_silent_fallback`: a request a fallback model served (per the ledger) says so."""

from __future__ import annotations

from tests.harness.contract.conftest import call, evaluate, make_run, req

SIGNAL = {"x-degraded": "fallback"}


def _fell_back(rid: str, at: float = 11.0) -> list[dict[str, object]]:
    return [call(rid, at=at, status=503), call(rid, at=at + 0.1, model="gpt-4o-mini")]


def test_no_silent_fallback_holds_when_fallbacks_are_signalled() -> None:
    requests = [req("a"), req("b", "outage", at=11, headers=SIGNAL)]
    result = evaluate(
        "no_silent_fallback",
        {"signal_header": "X-Degraded"},
        make_run(requests, [call("a"), *_fell_back("b")]),
    )
    assert result.verdict == "pass"
    assert result.details["fallback_served"] == 1
    assert result.details["fallback_models"] == {"gpt-4o-mini": 1}


def test_no_silent_fallback_fails_on_a_silent_fallback() -> None:
    requests = [
        req("a", "outage", at=11, headers=SIGNAL),
        req("b", "outage", at=12),
        req("c", "outage", at=13),
    ]
    ledger = [*_fell_back("a"), *_fell_back("b", 12), *_fell_back("c", 13)]
    result = evaluate("no_silent_fallback", {"signal_header": "x-degraded"}, make_run(requests, ledger))
    assert result.verdict == "fail"
    assert result.offenders == ["b", "c"]
    assert (
        result.observed
        == "3 served by a fallback (gpt-4o-mini): 1 signalled, 2 silent (no x-degraded header)"
    )


def test_no_silent_fallback_default_signal_is_x_degraded() -> None:
    run = make_run([req("a", headers=SIGNAL)], _fell_back("a", 0))
    result = evaluate("no_silent_fallback", {}, run)
    assert result.verdict == "pass"
    assert result.expected == "every fallback-served response carries header x-degraded"


def test_no_silent_fallback_body_signal() -> None:
    ledger = [*_fell_back("a", 0), *_fell_back("b", 1)]
    requests = [
        req("a", body={"meta": {"degraded": True}}),
        req("b", at=1, body={"meta": {"degraded": False}}),
    ]
    result = evaluate("no_silent_fallback", {"signal_body": "meta.degraded"}, make_run(requests, ledger))
    assert result.verdict == "fail"
    assert result.offenders == ["b"]


def test_no_silent_fallback_with_primary_models() -> None:
    # A request that only ever called the fallback model was still served by it.
    run = make_run([req("a")], [call("a", model="gpt-4o-mini")])
    assert evaluate("no_silent_fallback", {}, run).verdict == "pass"  # first model == last model
    result = evaluate("no_silent_fallback", {"primary_models": ["gpt-4o"]}, run)
    assert result.verdict == "fail"
    assert result.offenders == ["a"]


def test_no_silent_fallback_ignores_other_apis_and_failed_answers() -> None:
    ledger = [
        call("a", model="text-embedding-3-small", api="openai.embeddings"),
        call("a", at=0.1),  # the first chat call: the primary
        *_fell_back("b", 1),  # served by the fallback, but the route answered 502
    ]
    requests = [req("a"), req("b", at=1, status=502)]
    result = evaluate("no_silent_fallback", {}, make_run(requests, ledger))
    assert result.verdict == "pass"
    assert result.details["not_answered"] == 1
    assert result.details["silent"] == 0


def test_no_silent_fallback_without_fallbacks_passes_and_says_so() -> None:
    result = evaluate("no_silent_fallback", {}, make_run([req("a")], [call("a")]))
    assert result.verdict == "pass"
    assert result.observed == "no request served by a fallback model (of 1 correlated)"


def test_no_silent_fallback_needs_correlation() -> None:
    result = evaluate("no_silent_fallback", {}, make_run([req("a")], [call("req_provider")]))
    assert result.verdict == "error"
    assert "does not forward it" in result.observed
    assert evaluate("no_silent_fallback", {}, make_run([req("a")])).verdict == "error"

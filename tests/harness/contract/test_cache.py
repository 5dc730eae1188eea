"""`cache`: prompt cache share of input tokens, response cache share of requests."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from harness.contract.cache import CacheParams
from tests.harness.contract.conftest import call, evaluate, make_run, req


def test_cache_holds_exactly_at_both_shares() -> None:
    requests = [req("a"), req("b"), req("hit1"), req("hit2")]
    ledger = [
        call("a", input_tokens=1000, cached_tokens=600),
        call("b", input_tokens=1000, cached_tokens=400),
    ]
    params = {"min_prompt_cache_share": 0.5, "min_response_cache_share": 0.5}
    result = evaluate("cache", params, make_run(requests, ledger))
    assert result.verdict == "pass"
    assert result.details["prompt_cache_share"] == 0.5
    assert result.details["response_cache_share"] == 0.5
    assert result.observed == (
        "prompt cache share 50.00% (1000 of 2000 tokens); response cache share 50.00% (2 of 4 with no call)"
    )


def test_cache_fails_just_under_a_share() -> None:
    requests = [req("a"), req("b"), req("hit"), req("failed", status=503)]  # a 503 is not a hit
    ledger = [
        call("a", input_tokens=1000, cached_tokens=499),
        call("b", at=1, input_tokens=1000, cached_tokens=500),
    ]
    prompt = evaluate("cache", {"min_prompt_cache_share": 0.5}, make_run(requests, ledger))
    assert prompt.verdict == "fail"
    assert prompt.offenders == ["a", "b"]  # the least cached first
    response = evaluate("cache", {"min_response_cache_share": 0.5}, make_run(requests, ledger))
    assert response.verdict == "fail"
    assert response.details["answered_without_call"] == 1


def test_cache_response_share_needs_correlation() -> None:
    requests = [req("a"), req("b")]
    ledger = [call("not-forwarded", input_tokens=100)]
    result = evaluate("cache", {"min_response_cache_share": 0.5}, make_run(requests, ledger))
    assert result.verdict == "error"
    assert result.observed.startswith("1 of 1 provider calls not joined to a request (correlation: 0 of 1")
    # The prompt share needs no correlation: the unjoined call counts by its start time.
    prompt = evaluate("cache", {"min_prompt_cache_share": 0.0}, make_run(requests, ledger))
    assert prompt.verdict == "pass"
    assert prompt.details["input_tokens"] == 100


def test_cache_phase_without_requests_or_tokens_cannot_be_judged() -> None:
    run = make_run([req("hit")], [])
    assert (
        evaluate("cache", {"min_prompt_cache_share": 0.5, "phase": "outage"}, run).observed
        == "no request was sent"
    )
    result = evaluate("cache", {"min_prompt_cache_share": 0.5}, run)
    assert result.verdict == "error"
    assert result.observed == "no input tokens billed (0 provider calls)"
    # Every request answered with no call: all of them hits.
    assert evaluate("cache", {"min_response_cache_share": 1.0}, run).verdict == "pass"


def test_cache_needs_a_share() -> None:
    with pytest.raises(ValidationError, match="at least one of"):
        CacheParams.model_validate({"phase": "steady"})

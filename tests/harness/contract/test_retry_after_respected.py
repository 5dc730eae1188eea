"""`retry_after_respected`: retries wait the provider's retry-after, and back off after a 5xx."""

from __future__ import annotations

from typing import Any

import pytest

from harness.contract.retry_after_respected import fault_rules, retry_after_s
from harness.record import LedgerCall
from tests.harness.contract.conftest import PHASES, call, evaluate, make_run, req

RULE = "outage/rate_limit-1"  # how the runner names a phase's first, unnamed fault


def _experiment(**fault: Any) -> dict[str, Any]:
    faults = [{"match": {"model": "gpt-4o"}, "probability": 1.0, "fault": {"kind": "rate_limit", **fault}}]
    return {"title": "t", "phases": [{"name": "steady"}, {"name": "outage", "faults": faults}]}


def _limited_then_retried(gap: float, rid: str = "a", api: str = "openai.chat") -> list[dict[str, Any]]:
    """A 429 from the phase's rate_limit rule (ends at 11.05), then a retry `gap` seconds later."""
    return [
        call(rid, at=11.0, duration=0.05, status=429, api=api, fault=(RULE, "rate_limit")),
        call(rid, at=11.05 + gap, api=api),
    ]


def _run(ledger: list[dict[str, Any]], experiment: dict[str, Any] | None = None, **kw: Any) -> Any:
    requests = [req(rid, "outage", at=11) for rid in dict.fromkeys(r["request_id"] for r in ledger)]
    return make_run(requests, ledger, experiment=experiment or _experiment(retry_after_s=2), **kw)


def test_retry_after_respected_when_the_retry_waits() -> None:
    result = evaluate("retry_after_respected", {}, _run(_limited_then_retried(2.01)))
    assert result.verdict == "pass"
    assert result.observed == "all 1 retries after a 429/5xx waited"
    assert result.details["retry_after_from"] == {"rule": 1}


def test_retry_after_violated_by_an_early_retry() -> None:
    ledger = _limited_then_retried(0.5) + _limited_then_retried(2.0, "b")
    result = evaluate("retry_after_respected", {}, _run(ledger))
    assert result.verdict == "fail"
    assert result.offenders == ["a"]
    assert result.observed == "1 of 2 retries too early (e.g. 500 ms after a 429, wanted retry-after 2000 ms)"
    assert result.details["violations"][0]["attempt"] == 2


def test_retry_after_tolerance() -> None:
    run = _run(_limited_then_retried(1.96))
    assert evaluate("retry_after_respected", {}, run).verdict == "pass"  # within 50 ms
    assert evaluate("retry_after_respected", {"tolerance_ms": 10}, run).verdict == "fail"


def test_retry_after_reads_the_providers_own_rule_list_first() -> None:
    rules = [{"name": RULE, "fault": {"kind": "rate_limit", "retry_after_ms": 300}, "hits": 1}]
    run = _run(_limited_then_retried(0.4), fault_rules=rules)
    assert evaluate("retry_after_respected", {}, run).verdict == "pass"  # 300 ms, not the phase's 2 s


def test_an_immediate_switch_to_a_fallback_model_is_not_a_retry() -> None:
    ledger = [
        call("a", at=11.0, status=429, fault=(RULE, "rate_limit")),
        call("a", at=11.06, model="gpt-4o-mini"),
    ]
    result = evaluate("retry_after_respected", {}, _run(ledger))
    assert result.verdict == "pass"
    assert result.observed == "no retry after a 429/5xx"


def test_an_immediate_retry_after_a_5xx_is_no_backoff() -> None:
    ledger = [
        call("a", at=11.0, status=503),
        call("a", at=11.06),
        call("b", at=12.0, status=503),
        call("b", at=12.5),
    ]
    result = evaluate("retry_after_respected", {}, _run(ledger))
    assert result.verdict == "fail"
    assert result.offenders == ["a"]
    assert "wanted a backoff" in result.observed
    assert result.details["retry_after_from"] == {"none": 2}


def test_retry_after_omitted_asks_only_for_a_backoff() -> None:
    run = _run(_limited_then_retried(0.3), _experiment(omit_retry_after=True))
    assert evaluate("retry_after_respected", {}, run).verdict == "pass"
    run = _run(_limited_then_retried(0.01), _experiment(omit_retry_after=True))
    assert evaluate("retry_after_respected", {}, run).verdict == "fail"


def test_an_unknown_rule_is_checked_for_backoff_only() -> None:
    ledger = [call("a", at=11.0, status=429, fault=("scenario-rule", "rate_limit")), call("a", at=11.5)]
    result = evaluate("retry_after_respected", {}, _run(ledger))
    assert result.verdict == "pass"
    assert result.details["retry_after_from"] == {"unknown": 1}


def test_retries_by_fingerprint_when_the_id_is_not_forwarded() -> None:
    ledger = [
        call("req_p1", at=11.0, status=429, fingerprint="f", fault=(RULE, "rate_limit")),
        call("req_p2", at=11.2, fingerprint="f"),
    ]
    run = make_run([req("a", "outage", at=11)], ledger, experiment=_experiment(retry_after_s=1))
    result = evaluate("retry_after_respected", {}, run)
    assert result.verdict == "fail"
    assert result.offenders == ["fingerprint:f"]


def test_retry_after_per_phase_and_without_a_ledger() -> None:
    run = _run(_limited_then_retried(0.1))
    assert evaluate("retry_after_respected", {"phase": "steady"}, run).verdict == "pass"
    assert evaluate("retry_after_respected", {"phase": "outage"}, run).verdict == "fail"
    empty = evaluate("retry_after_respected", {}, make_run([req("a")]))
    assert (empty.verdict, empty.observed) == ("error", "the provider recorded no call")


# ---- the derivation of retry-after from the ledger ----


def _failed(
    status: int = 429,
    api: str = "openai.chat",
    fault: tuple[str, str] | None = None,
    error: str | None = None,
) -> LedgerCall:
    return LedgerCall.from_dict(call("a", status=status, api=api, fault=fault, error=error))


@pytest.mark.parametrize(
    ("params", "api", "want"),
    [
        ({}, "openai.chat", 1.0),  # the provider's default: 1 s
        ({"retry_after_s": 2.5}, "openai.chat", 2.5),
        ({"retry_after_s": 2.5}, "anthropic.messages", 3.0),  # whole seconds, rounded up
        ({"retry_after_ms": 250}, "openai.chat", 0.25),
        ({"retry_after_ms": 250}, "anthropic.messages", 1.0),
        ({"retry_after_s": 3, "retry_after_date": True}, "openai.chat", 2.0),
        ({"omit_retry_after": True}, "openai.chat", None),
    ],
)
def test_retry_after_of_a_rate_limit_rule(params: dict[str, Any], api: str, want: float | None) -> None:
    rules = {"r": {"kind": "rate_limit", **params}}
    wait, source = retry_after_s(_failed(api=api, fault=("r", "rate_limit")), rules)
    assert wait == want
    assert source == ("rule" if want is not None else "none")


@pytest.mark.parametrize(
    ("message", "want"),
    [
        (
            "Rate limit reached for gpt-4o on requests per min (RPM): Limit 3, Requested 1. "
            "Please try again in 120ms.",
            0.12,
        ),
        (
            "Rate limit reached for gpt-4o on tokens per min (TPM): Limit 10, Requested 50. "
            "Please try again in 1.5s.",
            1.5,
        ),
        ("... Please try again in 6m0s.", 360.0),
        ("... Please try again in 1m2.25s.", 62.25),
        ("You exceeded your current quota ... Please retry in 12.5s.", 12.5),  # Gemini's words
    ],
)
def test_retry_after_of_the_quota_limiter_from_its_message(message: str, want: float) -> None:
    wait, source = retry_after_s(_failed(error=message), {})
    assert wait == pytest.approx(want)
    assert source == "limit"


def test_retry_after_of_the_anthropic_quota_limiter_is_at_least_a_second() -> None:
    assert retry_after_s(_failed(api="anthropic.messages", error="Please try again later."), {}) == (
        1.0,
        "limit",
    )


def test_a_5xx_has_no_retry_after() -> None:
    assert retry_after_s(_failed(503, fault=("outage/http_error-1", "http_error")), {}) == (None, "none")


def test_fault_rules_name_phase_faults_as_the_runner_does() -> None:
    exp = _experiment(retry_after_s=2)
    exp["phases"][1]["faults"].append({"name": "quota", "fault": {"kind": "rate_limit", "retry_after_ms": 5}})
    run = make_run([], experiment=exp, phases=PHASES)
    assert set(fault_rules(run)) == {"outage/rate_limit-1", "outage/quota"}

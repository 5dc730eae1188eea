"""`breaker`: calls to a failing model from all requests together, from `after_s` into the phase."""

from __future__ import annotations

from harness.contract.breaker import busiest_second
from harness.record import RequestRecord
from tests.harness.contract.conftest import call, evaluate, make_run, req

PARAMS = {"phase": "outage", "model": "gpt-4o", "after_s": 2, "max_calls_per_s": 1}


def _outage_requests(n: int = 10) -> list[RequestRecord]:
    return [req(f"o{i}", "outage", at=10 + i) for i in range(n)]


def test_breaker_holds_exactly_at_the_rate() -> None:
    # Window [12, 20]: 8 s; 8 calls to gpt-4o inside it (edges included) = 1.0/s.
    ledger = [call(f"o{i}", at=12 + i * (8 / 7), status=503) for i in range(8)]
    ledger += [call("o0", at=10.5, status=503), call("o1", at=11.9, status=503)]  # before after_s
    ledger += [call(f"o{i}", at=13 + i * 0.1, model="gpt-4o-mini") for i in range(5)]  # another model
    result = evaluate("breaker", PARAMS, make_run(_outage_requests(), ledger))
    assert result.verdict == "pass"
    assert result.details["calls"] == 8
    assert result.details["calls_per_s"] == 1.0
    assert result.details["window_s"] == 8


def test_breaker_fails_one_call_over_and_reports_the_busiest_second() -> None:
    ledger = [call(f"o{i}", at=12 + i * (8 / 7), status=503) for i in range(8)]
    ledger += [call("o9", at=19.5, status=503), call("o8", at=19.6, status=503)]  # 10 calls: 1.25/s
    result = evaluate("breaker", PARAMS, make_run(_outage_requests(), ledger))
    assert result.verdict == "fail"
    assert result.details["busiest_second_calls"] == 3  # 18.86, 19.5, 19.6 (first of the busiest)
    assert result.offenders == ["o6", "o9", "o8"]
    assert result.observed == "1.25 calls/s (10 calls in 8 s, from 10 requests); busiest second 3 calls"


def test_breaker_counts_calls_not_joined_to_a_request() -> None:
    ledger = [call("hidden", at=12 + i * 0.5, status=503, fingerprint=f"f{i}") for i in range(16)]
    result = evaluate("breaker", PARAMS, make_run(_outage_requests(), ledger))
    assert result.verdict == "fail"
    assert result.details["calls_not_joined"] == 16
    assert result.offenders[0] == "fingerprint:f0"


def test_breaker_phase_without_requests_cannot_be_judged() -> None:
    result = evaluate("breaker", PARAMS, make_run([req("a")], [call("a")]))
    assert result.verdict == "error"
    assert result.observed == "no request was sent in phase outage"


def test_breaker_names_the_models_when_the_model_was_never_called() -> None:
    result = evaluate(
        "breaker", PARAMS | {"model": "gpt-4"}, make_run(_outage_requests(), [call("o0", at=10)])
    )
    assert result.verdict == "error"
    assert result.observed == "no call to gpt-4 in this run (models called: gpt-4o)"


def test_breaker_after_the_phase_end_cannot_be_judged() -> None:
    result = evaluate("breaker", PARAMS | {"after_s": 10}, make_run(_outage_requests(), [call("o0", at=10)]))
    assert result.verdict == "error"
    assert "nothing is left after 10 s" in result.observed


def test_busiest_second() -> None:
    assert busiest_second([]) == (0, 0)
    assert busiest_second([0.0, 0.5, 0.99, 1.0, 1.2, 1.3, 1.4, 1.5]) == (6, 1)

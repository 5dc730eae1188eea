"""`latency`: E2E, TTFT and ITL percentiles against bounds."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from harness.contract.latency import LatencyParams
from harness.record import RequestRecord
from tests.harness.contract.conftest import evaluate, make_run, req


def _steady(latencies_ms: list[float], phase: str = "steady") -> list[RequestRecord]:
    return [req(f"r{i}", phase, at=i * 0.1, latency=ms / 1000) for i, ms in enumerate(latencies_ms)]


def test_latency_holds_within_bounds() -> None:
    run = make_run(_steady([100, 200, 300, 400]))
    result = evaluate("latency", {"p50_ms": 300, "p95_ms": 400}, run)
    assert result.verdict == "pass"
    assert result.details["e2e"]["p50_ms"] == pytest.approx(250.0)
    assert result.details["e2e"]["p95_ms"] == pytest.approx(385.0)
    assert result.observed == "p50 250 ms; p95 385 ms (4 samples)"
    assert result.expected == "p50 <= 300 ms, p95 <= 400 ms"


def test_latency_fails_and_names_the_slowest_requests_over_the_bound() -> None:
    run = make_run(_steady([100] * 10 + [900, 1200, 800]))
    result = evaluate("latency", {"p95_ms": 500}, run)
    assert result.verdict == "fail"
    assert result.offenders == ["r11", "r10", "r12"]


def test_latency_ignores_failed_requests_unless_told() -> None:
    requests = [*_steady([100, 100, 100]), req("slow-fail", at=1, latency=5.0, status=503)]
    requests.append(req("timeout", at=2, latency=30.0, status=None, error="timeout"))
    run = make_run(requests)
    answered = evaluate("latency", {"p99_ms": 200}, run)
    assert answered.verdict == "pass"
    assert answered.details["samples"] == 3
    assert answered.details["excluded"] == 2
    everything = evaluate("latency", {"p99_ms": 200, "include_errors": True}, run)
    assert everything.verdict == "fail"
    assert everything.offenders == ["timeout", "slow-fail"]


def test_latency_measures_ttft_of_streamed_requests() -> None:
    requests = [req(f"s{i}", at=i, latency=1.0, chunks=[0.1 * (i + 1), 0.9]) for i in range(5)]
    run = make_run(requests)
    assert evaluate("latency", {"ttft_p95_ms": 600}, run).verdict == "pass"
    result = evaluate("latency", {"ttft_p95_ms": 400, "itl_p50_ms": 1000}, run)
    assert result.verdict == "fail"
    assert result.offenders == ["s4"]
    assert result.details["ttft"]["p95_ms"] == pytest.approx(480.0)


def test_latency_only_counts_its_phase() -> None:
    run = make_run(_steady([100, 100]) + _steady([5000, 5000], "outage"))
    assert evaluate("latency", {"phase": "steady", "p99_ms": 200}, run).verdict == "pass"
    assert evaluate("latency", {"phase": "outage", "p99_ms": 200}, run).verdict == "fail"


def test_latency_ttft_of_a_non_streamed_target_cannot_be_judged() -> None:
    result = evaluate("latency", {"p95_ms": 1000, "ttft_p95_ms": 500}, make_run(_steady([100])))
    assert result.verdict == "error"
    assert result.observed.startswith("p95 100 ms; no ttft p95 sample among 1 answered")


def test_latency_without_requests_cannot_be_judged() -> None:
    result = evaluate("latency", {"p95_ms": 1000}, make_run([]))
    assert result.verdict == "error"
    assert result.observed == "no request was sent"


def test_latency_when_nothing_was_answered_cannot_be_judged() -> None:
    run = make_run([req("a", status=None, latency=None, error="connect: refused")])
    result = evaluate("latency", {"p95_ms": 1000}, run)
    assert result.verdict == "error"
    assert "no p95 sample among 0 answered" in result.observed


def test_latency_needs_a_bound() -> None:
    with pytest.raises(ValidationError, match="at least one bound"):
        LatencyParams.model_validate({"phase": "steady"})
    with pytest.raises(ValidationError, match="Extra inputs"):
        LatencyParams.model_validate({"p95": 100})

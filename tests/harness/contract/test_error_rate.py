"""`error_rate`: the share of requests with an error outcome, by outcome."""

from __future__ import annotations

import pytest

from harness.contract.error_rate import outcome
from harness.record import RequestRecord
from tests.harness.contract.conftest import evaluate, make_run, req


def _mix(ok: int, failed: list[tuple[int | None, str | None]], phase: str = "steady") -> list[RequestRecord]:
    requests = [req(f"ok{i}", phase, at=i * 0.01) for i in range(ok)]
    for i, (status, error) in enumerate(failed):
        requests.append(req(f"e{i}", phase, at=1 + i * 0.01, status=status, error=error))
    return requests


def test_error_rate_holds_under_the_max() -> None:
    run = make_run(_mix(99, [(503, None)]))
    result = evaluate("error_rate", {"max": 0.01}, run)
    assert result.verdict == "pass"
    assert result.observed == "1.00% (1 of 100; ok 99, 5xx 1)"
    assert result.offenders == []


def test_error_rate_fails_over_the_max_with_the_outcome_breakdown() -> None:
    failed = [
        (503, None),
        (None, "timeout"),
        (None, "connect: refused"),
        (200, "read: connection reset"),
        (429, None),
    ]
    result = evaluate("error_rate", {"max": 0.01}, make_run(_mix(95, failed)))
    assert result.verdict == "fail"
    assert result.details["errors"] == 4  # a 429 is not an error by default
    assert result.details["outcomes"] == {
        "ok": 95,
        "5xx": 1,
        "timeout": 1,
        "no_response": 1,
        "broken": 1,
        "4xx": 1,
    }
    assert result.details["statuses"] == {"200": 96, "429": 1, "503": 1, "none": 2}
    assert result.offenders == ["e0", "e1", "e2", "e3"]


def test_error_rate_outcomes_are_configurable() -> None:
    run = make_run(_mix(9, [(429, None)]))
    assert evaluate("error_rate", {"max": 0.05}, run).verdict == "pass"
    result = evaluate("error_rate", {"max": 0.05, "outcomes": ["4xx", "5xx"]}, run)
    assert result.verdict == "fail"
    assert result.details["rate"] == pytest.approx(0.1)


def test_error_rate_per_phase() -> None:
    run = make_run(_mix(10, []) + _mix(0, [(503, None)], "outage"))
    assert evaluate("error_rate", {"max": 0.0, "phase": "steady"}, run).verdict == "pass"
    assert evaluate("error_rate", {"max": 0.5, "phase": "outage"}, run).verdict == "fail"


def test_error_rate_without_requests_cannot_be_judged() -> None:
    result = evaluate("error_rate", {"max": 0.01, "phase": "outage"}, make_run(_mix(3, [])))
    assert result.verdict == "error"
    assert result.observed == "no request was sent"


@pytest.mark.parametrize(
    ("status", "error", "want"),
    [
        (200, None, "ok"),
        (302, None, "ok"),
        (404, None, "4xx"),
        (500, None, "5xx"),
        (None, "timeout", "timeout"),
        (200, "timeout", "timeout"),
        (None, "connect: refused", "no_response"),
        (200, "read: reset", "broken"),
    ],
)
def test_outcome_of_a_request(status: int | None, error: str | None, want: str) -> None:
    assert outcome(req("a", status=status, error=error)) == want

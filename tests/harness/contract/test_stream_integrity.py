"""`stream_integrity`: a request cut upstream is visibly incomplete to its caller."""

from __future__ import annotations

from tests.harness.contract.conftest import call, evaluate, make_run, req


def _cut(rid: str, outcome: str = "partial", at: float = 0.0) -> dict[str, object]:
    return call(rid, at=at, outcome=outcome)


def test_stream_integrity_holds_when_every_cut_request_shows_it() -> None:
    requests = [
        req("status", status=502),
        req("header", headers={"x-degraded": "partial"}),
        req("event", tail='event: error\ndata: {"error": {}}\n\n', stream_end="error"),
        req("unterminated", stream_end="unterminated"),
        req("read", error="read: connection reset"),
        req("fine"),
    ]
    ledger = [
        _cut("status", "reset"),
        _cut("header", "timeout"),
        _cut("event"),
        _cut("unterminated", "server_stopped"),
        _cut("read"),
        call("fine"),
    ]
    result = evaluate("stream_integrity", {}, make_run(requests, ledger))
    assert result.verdict == "pass"
    assert result.details["cut"] == 5
    assert result.details["cut_by"] == {"reset": 1, "timeout": 1, "partial": 2, "server_stopped": 1}


def test_stream_integrity_fails_a_cut_that_looked_complete() -> None:
    requests = [
        req("silent", tail='data: {"done": true}\n\n', stream_end="open"),
        req("terminated", stream_end="terminator"),
        req("json", body={"answer": "half an ans"}),
    ]
    ledger = [_cut("silent"), _cut("terminated", "reset"), _cut("json")]
    result = evaluate("stream_integrity", {}, make_run(requests, ledger))
    assert result.verdict == "fail"
    assert result.offenders == ["silent", "terminated", "json"]
    assert result.observed == "3 of 3 cut requests looked complete"


def test_stream_integrity_error_marker_in_the_tail_or_the_json_body() -> None:
    requests = [
        req("tail", tail='data: {"delta": "…"}\n\ndata: {"incomplete": true}\n\n', stream_end="open"),
        req("json", body={"answer": "half", "incomplete": True}),
    ]
    ledger = [_cut("tail"), _cut("json")]
    result = evaluate("stream_integrity", {"error_marker": '"incomplete": true'}, make_run(requests, ledger))
    assert result.verdict == "fail"  # the JSON body serializes without the space
    assert result.offenders == ["json"]
    assert (
        evaluate("stream_integrity", {"error_marker": "incomplete"}, make_run(requests, ledger)).verdict
        == "pass"
    )


def test_stream_integrity_a_later_successful_call_makes_the_answer_complete() -> None:
    requests = [req("retried", stream_end="open"), req("cut_after_ok", stream_end="open")]
    ledger = [
        _cut("retried", at=0.0),
        call("retried", at=0.2),  # a retry after the cut that succeeded
        call("cut_after_ok", at=0.0),
        _cut("cut_after_ok", at=0.2),  # a second step of the request was cut
        call("cut_after_ok", at=0.3, outcome="client_cancelled"),  # a cancelled hedge is no cut
    ]
    result = evaluate("stream_integrity", {"signal_header": None}, make_run(requests, ledger))
    assert result.verdict == "fail"
    assert result.details["cut"] == 1
    assert result.offenders == ["cut_after_ok"]


def test_stream_integrity_with_nothing_cut_cannot_be_judged() -> None:
    run = make_run([req("a"), req("b")], [call("a"), _cut("hidden")])
    result = evaluate("stream_integrity", {}, run)
    assert result.verdict == "error"
    assert result.observed == (
        "no request had its provider call cut; "
        "1 cut calls not joined to a request (X-Request-Id not forwarded)"
    )
    assert evaluate("stream_integrity", {"phase": "outage"}, run).observed == "no request was sent"

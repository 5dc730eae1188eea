from __future__ import annotations

from harness.contract.base import ClauseResult
from harness.record import RequestRecord
from harness.report.figures import (
    attempts_per_request,
    client_outcome,
    correlation_coverage,
    overall_verdict,
    phase_figures,
    spend_by,
)

from .synthetic import make_results, make_run


def test_correlation_coverage_counts_requests_seen_in_ledger() -> None:
    cov = correlation_coverage(make_run())
    assert (cov.correlated, cov.total) == (192, 200)
    assert cov.text() == "192/200 (96%)"


def test_attempts_per_request_counts_zero_for_uncorrelated_requests() -> None:
    dist = attempts_per_request(make_run())
    assert dist[0] == 8
    assert sum(dist.values()) == 200


def test_phase_figures_have_one_row_per_phase_and_all() -> None:
    rows = phase_figures(make_run())
    assert [r.name for r in rows] == ["steady", "outage", "all"]
    assert rows[0].count + rows[1].count == rows[2].count == 200
    assert rows[1].errors > rows[0].errors
    assert rows[0].p50_ms is not None
    assert rows[0].p95_ms is not None
    assert rows[0].p50_ms <= rows[0].p95_ms


def test_spend_groups_untagged_calls() -> None:
    tenants = {s.key: s for s in spend_by(make_run().ledger, "tenant")}
    assert set(tenants) == {"acme", "globex", "(untagged)"}
    assert sum(s.calls for s in tenants.values()) == len(make_run().ledger)


def test_client_outcome_names_the_error_kind_when_there_was_no_answer() -> None:
    rec = RequestRecord(id="a", seq=0, phase="p", scheduled_s=0, sent_s=0, error="connect: refused")
    assert client_outcome(rec) == "connect"


def test_overall_verdict_orders_run_error_then_fail_then_clause_error() -> None:
    run = make_run()
    ok = ClauseResult("x", "x", "e", "o", "pass")
    assert overall_verdict(run, [ok]) == "pass"
    assert overall_verdict(run, make_results()) == "fail"
    assert overall_verdict(run, [ok, ClauseResult("y", "y", "e", "o", "error")]) == "error"
    run.status = "error"
    assert overall_verdict(run, [ok]) == "error"

"""Percentiles, phases, latency figures and the ledger join, on synthetic runs."""

from __future__ import annotations

import pytest

from harness.analysis import (
    by_phase,
    e2e_s,
    itl_s,
    join,
    latency_samples,
    output_tokens,
    percentile,
    percentiles,
    phase_at,
    phase_percentiles,
    ttft_s,
    units,
    unknown_phase,
)
from harness.record import LedgerCall
from tests.harness.contract.conftest import T0, call, make_run, req

# ---- percentiles: the values numpy.percentile(xs, q) gives (method 'linear') ----


@pytest.mark.parametrize(
    ("xs", "q", "want"),
    [
        ([1, 2, 3, 4], 50, 2.5),
        ([1, 2, 3, 4], 95, 3.85),  # rank 3 * 0.95 = 2.85: 3 + 0.85 * (4 - 3)
        ([1, 2, 3, 4], 99, 3.97),
        ([1, 2, 3, 4], 0, 1.0),
        ([1, 2, 3, 4], 100, 4.0),
        ([15, 20, 35, 40, 50], 40, 29.0),  # rank 1.6: 20 + 0.6 * 15
        ([50, 15, 40, 20, 35], 40, 29.0),  # order of the samples does not matter
        ([7.5], 99, 7.5),
        (list(range(1, 101)), 95, 95.05),  # rank 94.05
        (list(range(1, 101)), 99, 99.01),
    ],
)
def test_percentile_matches_numpy_linear(xs: list[float], q: float, want: float) -> None:
    assert percentile(xs, q) == pytest.approx(want)


def test_percentile_of_no_samples_is_none() -> None:
    assert percentile([], 95) is None
    assert percentiles([], (50, 99)) == {50: None, 99: None}


def test_percentile_outside_0_100_is_refused() -> None:
    with pytest.raises(ValueError, match="outside"):
        percentile([1.0], 101)


def test_percentiles_reads_a_generator_once() -> None:
    got = percentiles((x for x in [4, 3, 2, 1]), (50, 95))
    assert got == {50: pytest.approx(2.5), 95: pytest.approx(3.85)}


# ---- phases ----


def test_by_phase_groups_requests_and_keeps_empty_phases() -> None:
    run = make_run([req("a", "steady"), req("b", "steady", at=1)])
    groups = by_phase(run)
    assert list(groups) == ["steady", "outage"]
    assert [r.id for r in groups["steady"]] == ["a", "b"]
    assert groups["outage"] == []


def test_unknown_phase_names_the_phases() -> None:
    run = make_run([])
    assert unknown_phase(run, None) is None
    assert unknown_phase(run, "outage") is None
    assert unknown_phase(run, "recovery") == "no phase named 'recovery' in this run (phases: steady, outage)"


def test_phase_at_reads_wall_clock_from_the_load_start() -> None:
    run = make_run([])
    assert phase_at(run, T0 + 0.5) == "steady"
    assert phase_at(run, T0 + 10.0) == "outage"
    assert phase_at(run, T0 + 25.0) is None
    run.load_started_at = None  # falls back to started_at, 5 s earlier in these runs
    assert phase_at(run, T0 + 6.0) == "outage"


# ---- the join ----


def test_join_groups_attempts_of_a_request_in_start_order() -> None:
    ledger = [
        call("a", at=0.3, model="gpt-4o-mini", seq=3),
        call("a", at=0.0, status=503, seq=1),
        call("a", at=0.1, status=503, seq=2),
        call("b", at=1.0, seq=4),
    ]
    j = join(make_run([req("a"), req("b", at=1), req("c", at=2)], ledger))
    assert [c.seq for c in j.calls_of("a")] == [1, 2, 3]
    assert [c.model for c in j.calls_of("a")] == ["gpt-4o", "gpt-4o", "gpt-4o-mini"]
    assert j.calls_of("c") == []
    assert j.unjoined == []
    assert j.coverage.as_dict() == {
        "requests": 3,
        "requests_joined": 2,
        "request_share": pytest.approx(2 / 3),
        "calls": 4,
        "calls_joined": 4,
        "call_share": 1.0,
    }


def test_join_leaves_calls_with_a_provider_id_unjoined() -> None:
    ledger = [call("a"), call("req_provider1", fingerprint="x"), call("req_provider2", fingerprint="x")]
    j = join(make_run([req("a"), req("b")], ledger))
    assert [c.request_id for c in j.unjoined] == ["req_provider1", "req_provider2"]
    assert j.coverage.request_share == 0.5
    assert j.coverage.call_share == pytest.approx(1 / 3)


def test_coverage_of_an_empty_run_is_undefined() -> None:
    j = join(make_run([]))
    assert j.coverage.request_share is None
    assert j.coverage.call_share is None


def test_units_fall_back_to_fingerprints_for_calls_not_joined() -> None:
    ledger = [
        call("a", at=0.0),
        call("p1", at=1.0, status=429, fingerprint="f1"),
        call("p2", at=2.0, status=429, fingerprint="f1"),
        call("p3", at=3.0, fingerprint="f1"),
        call("p4", at=11.0, fingerprint="f2"),
    ]
    run = make_run([req("a"), req("b", at=1), req("c", phase="outage", at=11)], ledger)
    got = {u.id: (len(u.calls), u.phase, u.correlated) for u in units(run)}
    assert got == {
        "a": (1, "steady", True),
        "fingerprint:f1": (3, "steady", False),
        "fingerprint:f2": (1, "outage", False),
    }
    assert [u.id for u in units(run, "outage")] == ["fingerprint:f2"]


def test_units_place_joined_calls_in_their_requests_phase() -> None:
    # The request was scheduled in steady; its retry ran into the outage window.
    run = make_run([req("a", "steady", at=9.9)], [call("a", at=9.9, status=503), call("a", at=10.5)])
    assert [u.id for u in units(run, "steady")] == ["a"]
    assert units(run, "outage") == []


def test_ledger_call_reads_a_sparse_record() -> None:
    c = LedgerCall.from_dict({"request_id": "a", "status": 429, "fault": {"rule": "r", "kind": "rate_limit"}})
    assert (c.request_id, c.status, c.fault_rule, c.fault_kind, c.input_tokens) == (
        "a",
        429,
        "r",
        "rate_limit",
        0,
    )


# ---- latency figures ----


def test_latency_is_measured_from_the_scheduled_time() -> None:
    r = req("a", at=1.0, latency=0.5, sent_lag=0.2)  # sent late: the lag counts
    assert e2e_s(r) == pytest.approx(0.5)
    assert ttft_s(r) is None  # not streamed


def test_streamed_ttft_e2e_and_itl() -> None:
    # First content 0.2 s after the scheduled time, then 4 more chunks 50 ms apart.
    r = req("a", at=2.0, latency=0.45, chunks=[0.2, 0.25, 0.3, 0.35, 0.4])
    assert ttft_s(r) == pytest.approx(0.2)
    assert e2e_s(r) == pytest.approx(0.4)  # the last chunk, not the closing byte
    assert output_tokens(r) == 5
    assert itl_s(r) == pytest.approx(0.05)  # (0.4 - 0.2) / (5 - 1)


def test_itl_takes_output_tokens_from_the_ledger() -> None:
    r = req("a", latency=1.0, chunks=[0.2, 0.6, 1.0])  # 3 chunks carrying 11 tokens
    calls = [
        LedgerCall.from_dict(call("a", status=503)),
        LedgerCall.from_dict(call("a", output_tokens=11)),
    ]
    assert output_tokens(r, calls) == 11
    assert itl_s(r, calls) == pytest.approx(0.08)  # (1.0 - 0.2) / 10


def test_itl_needs_two_tokens() -> None:
    assert itl_s(req("a", chunks=[0.1])) is None
    assert itl_s(req("a")) is None


def test_latency_samples_pair_values_with_request_ids() -> None:
    run = make_run([req("a", latency=0.3), req("b", latency=None, status=None, error="timeout")])
    samples = latency_samples(run, run.requests)
    assert samples.e2e == [(pytest.approx(0.3), "a")]
    assert samples.ttft == []


def test_phase_percentiles_count_answered_requests_only() -> None:
    requests = [req(f"s{i}", at=i * 0.1, latency=0.1 * (i + 1)) for i in range(4)]
    requests.append(req("fail", at=1, latency=0.01, status=503))
    table = phase_percentiles(make_run(requests))
    assert table["steady"]["requests"] == 5
    assert table["steady"]["answered"] == 4
    assert table["steady"]["e2e_p50_ms"] == pytest.approx(250.0)
    assert table["steady"]["e2e_p95_ms"] == pytest.approx(385.0)
    assert table["outage"]["e2e_p50_ms"] is None

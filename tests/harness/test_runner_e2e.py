"""The runner end to end, in process: real load against the small routes of `target_app`, which
call a real fake provider through the openai SDK; every contract clause seen holding and broken.

One provider and one target serve the whole module (each run reads only its own part of the
ledger and removes its faults). Phases are half a second at 20-30 requests/s, latency none.
"""

from __future__ import annotations

import json
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import yaml
from rich.console import Console

from fakeprovider import FakeProviderThread
from harness.contract.base import ClauseResult
from harness.record import Run
from harness.report.figures import correlation_coverage
from harness.report.journal import read_journal
from harness.run import stack as stack_module
from harness.run.main import main
from harness.run.runner import RunOptions
from tests.conftest import LONG_ANSWERS, put_scenario
from tests.harness.target_app import serve_target

OUTAGE = {"fault": {"kind": "http_error", "status": 503}, "match": {"model": "gpt-4o"}}
THROTTLE = {"fault": {"kind": "rate_limit", "retry_after_ms": 200}, "match": {"model": "gpt-4o"}}
BODY = {"text": "{{ faker.sentence() }} #{{ seq }}"}


@dataclass(slots=True)
class Stack:
    provider: FakeProviderThread
    target: str


@dataclass(slots=True)
class Outcome:
    status: int
    run: Run
    results: list[ClauseResult]
    console: str

    def verdicts(self) -> list[str]:
        return [r.verdict for r in self.results]


@pytest.fixture(scope="module")
def stack() -> Iterator[Stack]:
    with FakeProviderThread(latency="none", seed=0) as provider, serve_target(provider.url) as target:
        yield Stack(provider, target)


def faults_on(provider_url: str) -> list[dict[str, Any]]:
    with urllib.request.urlopen(provider_url + "/control/faults", timeout=5) as resp:
        faults: list[dict[str, Any]] = json.load(resp)["faults"]
    return faults


def experiment(
    path: str,
    phases: list[dict[str, Any]],
    contract: list[dict[str, Any]],
    load: dict[str, Any] | None = None,
) -> dict[str, Any]:
    return {
        "title": f"route {path}",
        "target": {
            "url": "http://127.0.0.1:9",  # replaced by --target-url
            "request": {"method": "POST", "path": path, "json": BODY, "headers": {"X-Tenant": "acme"}},
            "timeout_s": 10,
        },
        "load": load or {"mode": "open", "rate": 30},
        "phases": phases,
        "contract": contract,
        "seed": 3,
    }


def run_experiment(tmp_path: Path, stack: Stack, exp: dict[str, Any], time_scale: float = 1.0) -> Outcome:
    source = tmp_path / "experiment.yaml"
    source.write_text(yaml.safe_dump(exp, sort_keys=False))
    journal = tmp_path / "journal.json"
    console = Console(record=True, width=200)
    options = RunOptions(target_url=stack.target, provider_url=stack.provider.url, time_scale=time_scale)
    status = main([source], options, json=journal, console=console)
    run, results = read_journal(journal)
    assert run.status == "completed", run.error
    assert len(results) == len(exp["contract"])
    assert faults_on(stack.provider.url) == []  # the run removed the faults it added
    return Outcome(status, run, results, console.export_text())


def test_good_route_holds_every_clause_through_an_outage_and_a_throttle(tmp_path: Path, stack: Stack) -> None:
    exp = experiment(
        "/good",
        [
            {"name": "steady", "duration_s": 0.5},
            {"name": "outage", "duration_s": 0.6, "faults": [OUTAGE]},
            {"name": "throttled", "duration_s": 0.6, "faults": [THROTTLE]},
        ],
        [
            {"retries": {"max_attempts_per_request": 3}},
            {"no_silent_fallback": {"signal_header": "x-degraded"}},
            {"budget": {"max_output_tokens": 64, "max_input_tokens": 500}},
            {"attribution": {"required_tags": ["route", "feature", "tenant"]}},
            # The last requests of a phase retry after it ended: most, not all, are degraded.
            {
                "degradation": {
                    "phase": "outage",
                    "expect": {"status": 200, "headers": {"x-degraded": "fallback"}},
                    "min_share": 0.8,
                }
            },
            {"degradation": {"phase": "steady", "expect": {"status": 200, "body": {"model": "gpt-4o"}}}},
            {"degradation": {"phase": "outage", "expect": {"headers": {"x-fallback-reason": "*"}}}},
            {"error_rate": {"max": 0}},
            {"error_rate": {"phase": "outage", "max": 0}},
            {"retry_after_respected": {}},
            {"retry_after_respected": {"phase": "throttled"}},
        ],
    )
    out = run_experiment(tmp_path, stack, exp)
    assert out.verdicts() == ["pass"] * 6 + ["fail"] + ["pass"] * 4, out.console
    assert out.status == 1  # the header the route does not send
    by_title = {r.title: r for r in out.results}
    retries = out.results[0]
    assert retries.details["worst"] == 3  # primary, one retry, fallback
    assert retries.details["fingerprint_groups"] == 0
    fallback = out.results[1]
    assert "signalled" in fallback.observed
    throttled = by_title["retry_after_respected (phase throttled)"]
    assert "waited" in throttled.observed
    assert out.results[6].offenders  # ids of requests without the header
    assert correlation_coverage(out.run).share == 1.0
    assert "correlation" in out.console
    assert "100%" in out.console
    # Rough load shape: about 30/s over 1.7 s, every request tagged with its phase.
    assert 40 <= len(out.run.requests) <= 55
    assert {r.phase for r in out.run.requests} == {"steady", "outage", "throttled"}


def test_unbounded_retries_break_the_retry_cap_and_the_error_rate(tmp_path: Path, stack: Stack) -> None:
    exp = experiment(
        "/unbounded_retries",
        [{"name": "outage", "duration_s": 0.5, "faults": [OUTAGE]}],
        [
            {"retries": {"max_attempts_per_request": 3}},
            {"error_rate": {"max": 0.01}},
            {"error_rate": {"max": 1.0}},
        ],
        {"mode": "open", "rate": 20},
    )
    out = run_experiment(tmp_path, stack, exp)
    assert out.verdicts() == ["fail", "fail", "pass"], out.console
    assert out.status == 1
    retries = out.results[0]
    assert retries.details["worst"] == 8
    assert 1 <= len(retries.offenders) <= 5
    assert set(retries.offenders) <= {r.id for r in out.run.requests}
    # Requests late in the phase retry after the outage ended and may succeed; how many do
    # depends on how late the load runs on a busy machine, so only the failures are required.
    assert out.results[1].details["outcomes"]["5xx"] >= 1


def test_silent_fallback_is_caught(tmp_path: Path, stack: Stack) -> None:
    exp = experiment(
        "/silent_fallback",
        [{"name": "outage", "duration_s": 0.5, "faults": [OUTAGE]}],
        [
            {"no_silent_fallback": {"signal_header": "x-degraded"}},
            {"degradation": {"phase": "outage", "expect": {"status": 200}}},
        ],
        {"mode": "open", "rate": 20},
    )
    out = run_experiment(tmp_path, stack, exp)
    assert out.verdicts() == ["fail", "pass"], out.console
    assert out.results[0].offenders
    assert "gpt-4o-mini" in out.results[0].observed


def test_no_token_cap_breaks_the_budget_in_a_closed_loop(tmp_path: Path, stack: Stack) -> None:
    exp = experiment(
        "/no_token_cap",
        [{"name": "steady", "duration_s": 0.5}],
        [
            {"budget": {"max_output_tokens": 20}},
            {"budget": {"max_output_tokens": 100_000}},
        ],
        {"mode": "closed", "concurrency": 2, "max_requests": 12},
    )
    # Uncapped answers break the budget only when the model answers at length (a natural answer
    # to this short prompt fits in 20 tokens): give the provider long answers for this run.
    put_scenario(stack.provider.url, LONG_ANSWERS)
    try:
        out = run_experiment(tmp_path, stack, exp)
    finally:
        put_scenario(stack.provider.url, {})
    assert out.verdicts() == ["fail", "pass"], out.console
    assert len(out.run.requests) == 12  # max_requests bounds the closed loop
    assert out.results[0].details["output_tokens"]["max"] > 20
    assert out.results[0].offenders


def test_retrying_before_retry_after_is_caught(tmp_path: Path, stack: Stack) -> None:
    exp = experiment(
        "/early_retry",
        [{"name": "throttled", "duration_s": 0.5, "faults": [THROTTLE]}],
        [
            {"retry_after_respected": {}},
            {"retries": {"max_attempts_per_request": 3}},
            {"error_rate": {"max": 0}},  # 429 is not an error unless listed
            {"error_rate": {"max": 0, "outcomes": ["4xx"]}},
        ],
        {"mode": "open", "rate": 20},
    )
    out = run_experiment(tmp_path, stack, exp)
    assert out.verdicts() == ["fail", "pass", "pass", "fail"], out.console
    assert out.results[0].offenders


def test_latency_percentiles_of_a_fixed_50_ms_route(tmp_path: Path, stack: Stack) -> None:
    # Ten-second phases at --time-scale 0.1: one second of load.
    exp = experiment(
        "/slow",
        [{"name": "warm", "duration_s": 3}, {"name": "steady", "duration_s": 7}],
        [
            {"latency": {"phase": "steady", "p50_ms": 500, "p99_ms": 500}},
            {"latency": {"phase": "steady", "p50_ms": 20}},
            {"latency": {"p95_ms": 1000, "ttft_p95_ms": 100}},  # no TTFT without streaming
        ],
        {"mode": "open", "rate": 30},
    )
    out = run_experiment(tmp_path, stack, exp, time_scale=0.1)
    assert out.verdicts() == ["pass", "fail", "error"], out.console
    assert [p.name for p in out.run.phases] == ["warm", "steady"]
    assert [p.end_s for p in out.run.phases] == pytest.approx([0.3, 1.0])
    assert 25 <= len(out.run.requests) <= 31
    p50 = out.results[0].details["e2e"]["p50_ms"]
    assert 49 <= p50 <= 150, p50
    assert out.results[0].details["e2e"]["p99_ms"] >= p50
    assert out.results[1].offenders
    assert out.status == 1


def test_route_not_forwarding_the_request_id_is_counted_by_fingerprint(tmp_path: Path, stack: Stack) -> None:
    exp = experiment(
        "/no_request_id",
        [{"name": "outage", "duration_s": 0.5, "faults": [OUTAGE]}],
        [
            {"retries": {"max_attempts_per_request": 3}},
            {"retries": {"max_attempts_per_request": 1}},
            {"attribution": {"required_tags": ["route", "tenant"]}},
        ],
        {"mode": "open", "rate": 20},
    )
    out = run_experiment(tmp_path, stack, exp)
    assert out.verdicts() == ["pass", "fail", "pass"], out.console
    assert correlation_coverage(out.run).share == 0.0
    assert "0%" in out.console
    retries = out.results[0]
    assert retries.details["coverage"]["calls_joined"] == 0
    assert retries.details["fingerprint_groups"] == retries.details["units"] > 0
    assert retries.details["worst"] == 2  # two primary attempts share a fingerprint
    assert "fingerprint" in retries.observed


def test_a_remote_target_is_refused_before_anything_starts_or_connects(
    tmp_path: Path, stack: Stack, monkeypatch: pytest.MonkeyPatch
) -> None:
    touched: list[str] = []

    async def no_child(name: str, *args: object, **kwargs: object) -> None:
        touched.append(name)
        raise AssertionError("a child was started")

    async def no_connection(url: str, *args: object, **kwargs: object) -> None:
        touched.append(url)
        raise AssertionError("the target was contacted")

    monkeypatch.setattr(stack_module, "start_child", no_child)
    monkeypatch.setattr(stack_module, "wait_reachable", no_connection)
    exp = experiment("/good", [{"name": "steady", "duration_s": 0.5}], [{"error_rate": {"max": 0}}])
    del exp["target"]["url"]
    exp["target"]["url"] = "http://192.0.2.1:80"  # TEST-NET-1: never routed
    source = tmp_path / "remote.yaml"
    source.write_text(yaml.safe_dump(exp))
    journal = tmp_path / "journal.json"
    status = main([source], RunOptions(), json=journal, console=Console(record=True, width=200))
    assert status == 2
    assert touched == []
    run, results = read_journal(journal)
    assert run.status == "error"
    assert run.error is not None
    assert "--allow-remote-target" in run.error
    assert results == []

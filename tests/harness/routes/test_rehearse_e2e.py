"""The plan of the shipped `routes.yaml` run by the runner against the real sampleapp: the
rehearsals hold against the correct app, and against an app with one known flaw the matching
rehearsal fails on the matching clause.

One fake provider serves the module (each run reads only its own part of the ledger and removes
its faults); every test starts its own sampleapp in this process (a fresh embedding cache, its
own flaws). Phases are a tenth of the shipped ones (`time_scale` 0.1): each run is a few seconds.

The shipped routes declare the sampleapp's circuit breaker (`retry.breaker`), so their plans
carry the `breaker` clause and a cooldown phase: these rehearsals need the sampleapp with its
breaker (and the `no_breaker` / `serves_truncated` flaws).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from rich.console import Console

from fakeprovider import FakeProviderThread
from harness.contract.base import ClauseResult
from harness.report.journal import read_journal
from harness.routes.load import load_routes, validate_routes
from harness.routes.plan import plan, write_plan
from harness.run.main import main as run_main
from harness.run.runner import RunOptions
from sampleapp import SampleAppThread
from tests.harness.routes.specs import SHIPPED_ROUTES

SCALE = 0.1


@dataclass(slots=True)
class Outcome:
    status: int
    results: list[ClauseResult]
    console: str

    def failed(self) -> set[str]:
        return {r.clause for r in self.results if r.verdict != "pass"}


@pytest.fixture(scope="module")
def provider() -> Iterator[FakeProviderThread]:
    with FakeProviderThread(latency="none", seed=0) as p:
        yield p


@pytest.fixture(scope="module")
def planned(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("plan")
    write_plan(plan(load_routes(SHIPPED_ROUTES), SHIPPED_ROUTES, SCALE), out, SHIPPED_ROUTES)
    return out


def rehearse_one(
    experiment: Path,
    provider: FakeProviderThread,
    tmp_path: Path,
    flaws: tuple[str, ...] = (),
    config: dict[str, Any] | None = None,
) -> Outcome:
    with SampleAppThread(provider.url, config=config, flaws=flaws, seed=1) as app:
        options = RunOptions(target_url=app.url, provider_url=provider.url)
        journal = tmp_path / "journal.json"
        console = Console(record=True, width=200)
        status = run_main([experiment], options, json=journal, console=console)
    run, results = read_journal(journal)
    assert run.status == "completed", run.error
    return Outcome(status, results, console.export_text())


HOLDING = [
    "summarize-unavailable",
    "summarize-rate-limited",
    "summarize-over-budget",
    "summarize-malformed",
    "extract-malformed",
    "extract-over-budget",
    "chat-unavailable",
    "chat-malformed",
    "chat-over-budget",
    "embed-unavailable",
    "embed-rate-limited",
    "embed-malformed",
    "embed-over-budget",
]


@pytest.mark.parametrize("name", HOLDING)
def test_sampleapp_holds_the_planned_rehearsal(
    name: str, provider: FakeProviderThread, planned: Path, tmp_path: Path
) -> None:
    out = rehearse_one(planned / f"{name}.yaml", provider, tmp_path)
    assert out.status == 0, out.console
    assert out.failed() == set()


FLAWS = [
    ("unbounded_retries", "summarize-unavailable", {"retries"}),
    ("silent_fallback", "summarize-unavailable", {"no_silent_fallback", "degradation"}),
    ("no_token_cap", "summarize-over-budget", {"degradation"}),
    ("ignore_retry_after", "summarize-rate-limited", {"retry_after_respected"}),
    ("no_attribution", "summarize-unavailable", {"attribution"}),
    ("no_request_id", "summarize-unavailable", {"correlation"}),
    ("no_breaker", "summarize-unavailable", {"breaker"}),
    ("serves_truncated", "chat-malformed", {"stream_integrity"}),
]


@pytest.mark.parametrize(("flaw", "name", "broken"), FLAWS, ids=[f[0] for f in FLAWS])
def test_flawed_sampleapp_fails_the_matching_rehearsal(
    flaw: str, name: str, broken: set[str], provider: FakeProviderThread, planned: Path, tmp_path: Path
) -> None:
    # Unbounded retries run until the route times out: a 2 s timeout keeps the test short.
    config = {"routes": {"summarize": {"timeout_s": 2.0}}} if flaw == "unbounded_retries" else None
    out = rehearse_one(planned / f"{name}.yaml", provider, tmp_path, (flaw,), config)
    assert out.status in (1, 2), out.console
    assert broken <= out.failed(), out.console


def test_slow_primary_falls_back_within_the_route_timeout(
    provider: FakeProviderThread, tmp_path: Path
) -> None:
    """The slow rehearsal, with the call and route timeouts of both the spec and the app cut to
    0.3 s and 2 s so that the fallback comes quickly."""
    spec = load_routes(SHIPPED_ROUTES).model_dump(mode="json", by_alias=True, exclude_unset=True)
    retry = spec["routes"]["summarize"]["retry"]
    retry.update(call_timeout_s=0.3, route_timeout_s=2.0)
    routes = validate_routes(spec, "fast routes")
    (slow,) = [p for p in plan(routes, SHIPPED_ROUTES, SCALE) if (p.route, p.mode) == ("summarize", "slow")]
    (path,) = write_plan([slow], tmp_path / "plan", SHIPPED_ROUTES)
    config = {"retry": {"call_timeout_s": 0.3}, "routes": {"summarize": {"timeout_s": 2.0}}}
    out = rehearse_one(path, provider, tmp_path, config=config)
    assert out.status == 0, out.console
    fault = next(r for r in out.results if r.title == "degradation (phase fault)")
    assert fault.details["met"] == fault.details["requests"] > 0

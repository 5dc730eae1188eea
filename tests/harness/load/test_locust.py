"""`engine: locust` end to end through `rehearse run`: locust headless in its own processes
against the small routes of `target_app`, which call a real fake provider through the openai
SDK; the same clauses as the asyncio engine, holding and failing; a lost worker is an error.

One provider and one target serve the module. Runs last a few seconds (locust's start-up is
most of it), latency none.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import psutil
import pytest
import yaml
from rich.console import Console

from fakeprovider import FakeProviderThread
from harness.contract.base import ClauseResult
from harness.record import Run
from harness.report.journal import read_journal
from harness.run.main import main
from harness.run.runner import RunOptions
from tests.harness.target_app import serve_target

OUTAGE = {"fault": {"kind": "http_error", "status": 503}, "match": {"model": "gpt-4o"}}


@dataclass(slots=True)
class Stack:
    provider: FakeProviderThread
    target: str


@pytest.fixture(scope="module")
def stack() -> Iterator[Stack]:
    with FakeProviderThread(latency="none", seed=0) as provider, serve_target(provider.url) as target:
        yield Stack(provider, target)


def _experiment(path: str, phases: list[dict[str, Any]], contract: list[dict[str, Any]], **load: Any) -> Any:
    return {
        "title": f"locust on {path}",
        "target": {
            "url": "http://127.0.0.1:9",  # replaced by --target-url
            "request": {"path": path, "json": {"text": "{{ faker.sentence() }} #{{ seq }}"}},
            "timeout_s": 10,
        },
        "load": {"engine": "locust", "mode": "open", "rate": 20, **load},
        "phases": phases,
        "contract": contract,
        "seed": 5,
    }


def _run(tmp_path: Path, stack: Stack, exp: dict[str, Any]) -> tuple[int, Run, list[ClauseResult], str]:
    source = tmp_path / "experiment.yaml"
    source.write_text(yaml.safe_dump(exp, sort_keys=False))
    journal = tmp_path / "journal.json"
    console = Console(record=True, width=200)
    options = RunOptions(target_url=stack.target, provider_url=stack.provider.url)
    status = main([source], options, json=journal, console=console)
    run, results = read_journal(journal)
    return status, run, results, console.export_text()


def test_the_harness_side_never_imports_locust_or_gevent() -> None:
    # gevent patches the process it is imported in; the harness is asyncio.
    code = "import sys, harness.load.locust, harness.run.runner\n"
    code += "print(sorted({'locust', 'gevent'} & set(sys.modules)))"
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=True
    )
    assert done.stdout.strip() == "[]"


def test_two_locust_processes_drive_an_outage_and_every_clause_holds(tmp_path: Path, stack: Stack) -> None:
    exp = _experiment(
        "/good",
        [{"name": "steady", "duration_s": 1.5}, {"name": "outage", "duration_s": 1.5, "faults": [OUTAGE]}],
        [
            {"retries": {"max_attempts_per_request": 3}},
            {
                "degradation": {
                    "phase": "outage",
                    "expect": {"status": 200, "headers": {"x-degraded": "fallback"}},
                }
            },
            {"degradation": {"phase": "steady", "expect": {"status": 200, "body": {"model": "gpt-4o"}}}},
            {"error_rate": {"max": 0}},
        ],
        users=4,
        processes=2,
    )
    status, run, results, console = _run(tmp_path, stack, exp)
    assert run.status == "completed", run.error
    assert [r.verdict for r in results] == ["pass"] * 4, console
    assert status == 0
    # 20/s for 3 s from two lanes: every request once, each joined to its provider calls.
    assert [r.seq for r in run.requests] == list(range(60))
    called = {call.request_id for call in run.ledger}
    assert {r.id for r in run.requests} == called
    assert {r.phase for r in run.requests} == {"steady", "outage"}
    assert all(r.latency_s is not None and r.latency_s >= 0 for r in run.requests)


def test_unbounded_retries_fail_the_retry_cap_under_locust(tmp_path: Path, stack: Stack) -> None:
    exp = _experiment(
        "/unbounded_retries",
        [{"name": "outage", "duration_s": 1.0, "faults": [OUTAGE]}],
        [{"retries": {"max_attempts_per_request": 3}}, {"error_rate": {"max": 1.0}}],
        users=3,
    )
    status, run, results, console = _run(tmp_path, stack, exp)
    assert run.status == "completed", run.error
    assert [r.verdict for r in results] == ["fail", "pass"], console
    assert status == 1
    assert results[0].details["worst"] == 8
    assert set(results[0].offenders) <= {r.id for r in run.requests}


def _kill_a_worker_once_the_load_runs(stop: threading.Event) -> None:
    """SIGKILL one of the workers locust forked (a child of a locust child of this process)."""
    me = psutil.Process()
    seen_at: float | None = None
    while not stop.is_set():
        workers = [
            p for child in me.children() if "locust" in " ".join(child.cmdline()) for p in child.children()
        ]
        if len(workers) >= 2:
            seen_at = seen_at or time.monotonic()
            if time.monotonic() - seen_at > 3.0:  # started, and sending
                os.kill(workers[0].pid, signal.SIGKILL)
                return
        time.sleep(0.1)


def test_a_worker_that_dies_mid_run_is_an_error_naming_it(tmp_path: Path, stack: Stack) -> None:
    exp = _experiment("/good", [{"name": "steady", "duration_s": 12}], [{"error_rate": {"max": 0}}])
    exp["load"].update(users=2, processes=2, rate=5)
    stop = threading.Event()
    killer = threading.Thread(target=_kill_a_worker_once_the_load_runs, args=(stop,), daemon=True)
    killer.start()
    try:
        started = time.monotonic()
        status, run, results, _ = _run(tmp_path, stack, exp)
    finally:
        stop.set()
        killer.join(5)
    assert status == 2
    assert run.status == "error"
    assert "locust (master and 2 workers) exited with status 3" in (run.error or "")
    assert "worker lost during the run" in (run.error or "")
    assert results == []
    assert time.monotonic() - started < 12 + 10  # stopped when the loss was seen, not at the end

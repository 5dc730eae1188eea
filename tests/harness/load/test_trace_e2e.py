"""`load: {mode: trace}` end to end through `rehearse run`: a CSV trace replayed against the small
routes of `target_app` (which call a real fake provider through the openai SDK), each arrival's
values in its request; the provider's own ledger of that run replayed as a trace; the locust
engine splitting a trace across two processes; and `rehearse validate` on bad trace files.

Arrivals, order and values are asserted, never timing (bench/loadgen_accuracy.py --trace
measures the schedule error). Latency none; each run lasts about a second.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import yaml
from rich.console import Console

from fakeprovider import FakeProviderThread
from harness import cli
from harness.record import Run
from harness.report.journal import read_journal
from harness.run.main import main
from harness.run.runner import RunOptions
from tests.harness.target_app import serve_target

TENANTS = ("acme", "globex", "initech")


@dataclass(slots=True)
class Stack:
    provider: FakeProviderThread
    target: str


@pytest.fixture(scope="module")
def stack() -> Iterator[Stack]:
    with FakeProviderThread(latency="none", seed=0) as provider, serve_target(provider.url) as target:
        yield Stack(provider, target)


def _experiment(load: dict[str, Any], duration_s: float = 1.0) -> dict[str, Any]:
    return {
        "title": "trace replay",
        "target": {
            "url": "http://127.0.0.1:9",  # replaced by --target-url
            "request": {
                "method": "POST",
                "path": "/good",
                "json": {"text": "{{ trace.text }} #{{ seq }}"},
                "headers": {"X-Tenant": "{{ trace.tenant }}"},
            },
            "timeout_s": 10,
        },
        "load": load,
        "phases": [{"name": "replay", "duration_s": duration_s}],
        "contract": [{"error_rate": {"max": 0}}, {"attribution": {"required_tags": ["tenant"]}}],
    }


def _write_csv(path: Path, rows: list[tuple[float, str, str]]) -> None:
    lines = ["t_s,tenant,text"] + [f"{t},{tenant},{text}" for t, tenant, text in rows]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")


def _run(tmp_path: Path, stack: Stack, exp: dict[str, Any], name: str = "experiment") -> tuple[int, Run, str]:
    source = tmp_path / f"{name}.yaml"
    source.write_text(yaml.safe_dump(exp, sort_keys=False))
    journal = tmp_path / f"{name}.json"
    console = Console(record=True, width=200)
    options = RunOptions(target_url=stack.target, provider_url=stack.provider.url)
    status = main([source], options, json=journal, console=console)
    run, _ = read_journal(journal)
    assert run.status == "completed", run.error
    return status, run, console.export_text()


def _tenants_called(run: Run) -> list[str | None]:
    """The tenant each request's provider call carried, in request order."""
    by_id = {call.request_id: call.tags.get("tenant") for call in run.ledger}
    return [by_id.get(r.id) for r in run.requests]


def test_a_csv_trace_is_replayed_arrival_by_arrival_with_its_values(tmp_path: Path, stack: Stack) -> None:
    # Out of order in the file, two arrivals at once, and one past the end of the load.
    rows = [(round(0.04 * i, 2), TENANTS[i % 3], f"words{i}") for i in range(20)]
    rows = [*rows[10:], *rows[:10], (0.2, "umbrella", "tied"), (1.5, "late", "never")]
    (tmp_path / "traces").mkdir()
    _write_csv(tmp_path / "traces" / "arrivals.csv", rows)
    exp = _experiment({"mode": "trace", "file": "traces/arrivals.csv", "speed": 2.0}, duration_s=0.5)
    status, run, console = _run(tmp_path, stack, exp)
    assert status == 0, console
    sent = sorted(rows[:-1], key=lambda r: r[0])  # stable: the tie keeps its place after words5
    sent = [r for r in sent if r[0] / 2.0 < 0.5]
    assert [r.seq for r in run.requests] == list(range(len(sent)))
    assert [r.scheduled_s for r in run.requests] == [t / 2.0 for t, _, _ in sent]
    assert _tenants_called(run) == [tenant for _, tenant, _ in sent]
    assert "umbrella" in _tenants_called(run)
    assert "late" not in _tenants_called(run)


def test_a_runs_own_ledger_replays_as_a_trace(tmp_path: Path, stack: Stack) -> None:
    rows = [(0.05 * i, TENANTS[i % 3], f"w{i}") for i in range(12)]
    _write_csv(tmp_path / "arrivals.csv", rows)
    _, first, _ = _run(tmp_path, stack, _experiment({"mode": "trace", "file": "arrivals.csv"}), "first")
    ledger = tmp_path / "recorded.jsonl"
    ledger.write_text("".join(json.dumps(call.as_dict()) + "\n" for call in first.ledger), encoding="utf-8")
    exp = _experiment({"mode": "trace", "file": "recorded.jsonl"})
    exp["target"]["request"]["json"]["text"] = "{{ trace.model }} #{{ seq }}"
    status, second, console = _run(tmp_path, stack, exp, "second")
    assert status == 0, console
    # One arrival per first attempt, in the order the calls started, with their tenants.
    assert len(second.requests) == len(first.requests) == 12
    assert _tenants_called(second) == _tenants_called(first)
    gaps = [b.scheduled_s - a.scheduled_s for a, b in zip(second.requests, second.requests[1:], strict=False)]
    assert all(g >= 0 for g in gaps)


def test_locust_splits_a_trace_across_two_processes(tmp_path: Path, stack: Stack) -> None:
    rows = [(0.05 * i, TENANTS[i % 3], f"w{i}") for i in range(30)]
    _write_csv(tmp_path / "arrivals.csv", rows)
    load = {"mode": "trace", "file": "arrivals.csv", "engine": "locust", "users": 4, "processes": 2}
    status, run, console = _run(tmp_path, stack, _experiment(load, duration_s=1.5))
    assert status == 0, console
    assert [r.seq for r in run.requests] == list(range(30))
    assert [r.scheduled_s for r in run.requests] == [t for t, _, _ in rows]
    assert _tenants_called(run) == [tenant for _, tenant, _ in rows]


@pytest.mark.parametrize(
    ("trace", "says"),
    [
        (None, "load.file: {trace}: no such trace file or cassette directory"),
        ("when,tenant,text\n0,acme,x\n", "load.file: {trace}: line 1: no `t_s` column in the header"),
        ("t_s,tenant,text\n0,acme,x\n-1,acme,y\n", "load.file: {trace}: line 3: t_s: expected seconds >= 0"),
        (
            "t_s,team,text\n0,acme,x\n",
            "load.file: {trace}: target.request.headers.X-Tenant uses trace.tenant, which this trace lacks",
        ),
    ],
)
def test_validate_refuses_a_bad_trace_naming_the_experiment_the_trace_and_the_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], trace: str | None, says: str
) -> None:
    path = tmp_path / "replay.yaml"
    path.write_text(yaml.safe_dump(_experiment({"mode": "trace", "file": "t.csv"})))
    if trace is not None:
        (tmp_path / "t.csv").write_text(trace, encoding="utf-8")
    assert cli.main(["validate", str(path)]) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"{path}: " + says.format(trace=tmp_path / "t.csv")), err


def test_the_trace_replay_example_validates(capsys: pytest.CaptureFixture[str]) -> None:
    example = Path(__file__).parents[3] / "examples" / "trace-replay" / "replay.yaml"
    assert cli.main(["validate", str(example)]) == 0, capsys.readouterr().err

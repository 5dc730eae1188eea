"""`rehearse rehearse`: plan, run with the runner, readiness per route. Readiness is judged from
the checklist and every failure mode's run; the command is run for real, once in this process
against a sampleapp and a provider named by URL in the routes file, once as a user runs it
(`app: sample` with a flaw, children started by the runner)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
from rich.console import Console

from fakeprovider import FakeProviderThread
from harness.contract.base import ClauseResult
from harness.record import Run
from harness.routes.lint import lint
from harness.routes.load import validate_routes
from harness.routes.plan import plan
from harness.routes.rehearse import readiness, rehearse, render_readiness
from harness.run.runner import RunOptions
from sampleapp import SampleAppThread
from tests.harness.routes.specs import complete_spec, drop_field, set_field, write_spec

R = "routes.summarize"


def a_run(status: str = "completed", error: str | None = None) -> Run:
    return Run(experiment={}, source="x.yaml", started_at=0.0, status=status, error=error)  # type: ignore[arg-type]


def result(clause: str, verdict: str) -> ClauseResult:
    return ClauseResult(clause, f"{clause} (phase fault)", "-", "-", verdict)  # type: ignore[arg-type]


def test_a_route_is_ready_when_its_checklist_is_complete_and_every_mode_held() -> None:
    spec = validate_routes(complete_spec(), "t")
    planned = plan(spec, Path("routes.yaml"))
    held = {(p.route, p.mode): (a_run(), [result("retries", "pass")]) for p in planned}
    (report,) = readiness(lint(spec), planned, held)
    assert [m.outcome for m in report.modes] == ["held"] * 5
    assert report.ready


def test_each_mode_outcome_is_reported_with_what_went_wrong() -> None:
    data = drop_field(complete_spec(), f"{R}.degradation.slow.expect")
    spec = validate_routes(data, "t")
    planned = plan(spec, Path("routes.yaml"))
    outcomes = {
        ("summarize", "unavailable"): (a_run(), [result("degradation", "pass"), result("retries", "fail")]),
        ("summarize", "rate_limited"): (a_run(), [result("correlation", "error")]),
        ("summarize", "over_budget"): (a_run("error", "target refused to start"), []),
        # malformed: never ran (interrupted)
    }
    (report,) = readiness(lint(spec), planned, outcomes)  # type: ignore[arg-type]
    got = {m.mode: (m.outcome, m.note) for m in report.modes}
    assert got == {
        "unavailable": ("broken", "retries (phase fault)"),
        "rate_limited": ("error", "correlation (phase fault)"),
        "over_budget": ("error", "target refused to start"),
        "malformed": ("not run", "interrupted before it ran"),
        "slow": ("not planned", "degradation.slow.expect is not declared"),
    }
    assert not report.ready
    console = Console(record=True, width=200)
    render_readiness(console, [report])
    text = console.export_text()
    assert "degradation_path" in text  # the checklist item that is not complete
    assert "NOT READY" in text
    assert "not planned" in text


def test_rehearse_runs_the_plan_and_reports_readiness(tmp_path: Path) -> None:
    with FakeProviderThread(latency="none", seed=0) as provider, SampleAppThread(provider.url, seed=1) as app:
        data = complete_spec()
        set_field(data, "target", {"url": app.url})
        set_field(data, "provider", {"url": provider.url})
        for mode in ("rate_limited", "malformed", "slow"):
            drop_field(data, f"{R}.degradation.{mode}")
        routes = write_spec(tmp_path / "routes.yaml", data)
        console = Console(record=True, width=220)
        status = rehearse(
            routes,
            RunOptions(),
            time_scale=0.1,
            out_dir=tmp_path / "plan",
            json=tmp_path / "run.json",
            junit=tmp_path / "junit.xml",
            console=console,
        )
    text = console.export_text()
    assert status == 1, text  # three modes not declared: not ready
    assert sorted(p.name for p in (tmp_path / "plan").iterdir()) == [
        "summarize-over-budget.yaml",
        "summarize-unavailable.yaml",
    ]
    table = text[text.index("readiness per route") :]
    assert table.count("held") == 2, table
    assert table.count("not planned") == 3, table
    suites = ET.parse(tmp_path / "junit.xml").getroot().findall("testsuite")
    assert len(suites) == 2
    assert all(s.get("failures") == "0" and s.get("errors") == "0" for s in suites)
    journals = sorted(p.name for p in tmp_path.glob("run*.json"))
    assert journals == ["run.2.json", "run.json"]
    assert json.loads((tmp_path / "run.json").read_text())["status"] == "completed"


def test_cli_rehearses_a_flawed_sampleapp_and_says_which_path_broke(tmp_path: Path) -> None:
    data = complete_spec()
    set_field(data, "target", {"app": "sample", "sample": {"flaws": ["silent_fallback"]}})
    for mode in ("rate_limited", "over_budget", "malformed", "slow"):
        drop_field(data, f"{R}.degradation.{mode}")
    routes = write_spec(tmp_path / "routes.yaml", data)
    done = subprocess.run(
        [sys.executable, "-m", "harness.cli", "rehearse", routes, "--time-scale", "0.1"],
        capture_output=True,
        text=True,
        timeout=90,
        check=False,
        env={**os.environ, "COLUMNS": "250"},
    )
    assert done.returncode == 1, done.stdout + done.stderr
    table = done.stdout[done.stdout.index("readiness per route") :]
    assert "broken" in table
    assert "no_silent_fallback" in table
    assert "NOT READY" in table


def test_invalid_routes_file_runs_nothing(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    bad = tmp_path / "routes.yaml"
    bad.write_text(
        "target: {app: sample}\nroutes:\n  a:\n    request: {path: /a}\n    retry: {max_attempts: 0}\n"
    )
    out = Console(record=True)
    status = rehearse(bad, RunOptions(), out_dir=tmp_path / "plan", console=out)
    assert status == 2
    assert out.export_text() == ""
    assert f"{bad}: routes.a.retry.max_attempts (line 5)" in capsys.readouterr().err
    assert not (tmp_path / "plan").exists()

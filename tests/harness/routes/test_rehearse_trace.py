"""Routes files with `rehearsal.load: {mode: trace, ...}`: the plan replays the trace (its file
made absolute) in every rehearsal, the breaker clause takes the trace's rate over the fault
phase, mistakes are refused naming the routes file, and `rehearse rehearse` runs a trace
rehearsal against the sampleapp with each arrival's tenant in its provider call."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml
from rich.console import Console

from fakeprovider import FakeProviderThread
from harness import cli
from harness.errors import InvalidRoutes
from harness.report.journal import read_journal
from harness.routes.load import load_routes
from harness.routes.plan import plan
from harness.routes.rehearse import rehearse
from harness.run.runner import RunOptions
from sampleapp import SampleAppThread
from tests.harness.routes.specs import complete_spec, drop_field, set_field, write_spec

R = "routes.summarize"
TENANTS = ("acme", "globex")


def _trace(path: Path, seconds: float, per_s: float) -> list[str]:
    """A CSV trace: arrivals every 1/per_s s for `seconds`, alternating tenants; the tenants."""
    count = round(seconds * per_s)
    tenants = [TENANTS[i % 2] for i in range(count)]
    rows = [f"{i / per_s:.4f},{tenant}" for i, tenant in enumerate(tenants)]
    path.write_text("t_s,tenant\n" + "\n".join(rows) + "\n", encoding="utf-8")
    return tenants


def _traced_spec(tmp_path: Path, per_s: float = 20.0) -> Path:
    (tmp_path / "traces").mkdir(exist_ok=True)
    _trace(tmp_path / "traces" / "arrivals.csv", 60.0, per_s)
    data = complete_spec()
    set_field(data, "rehearsal.load", {"mode": "trace", "file": "traces/arrivals.csv", "speed": 2.0})
    set_field(data, f"{R}.request.headers", {"X-Tenant": "{{ trace.tenant }}"})
    return write_spec(tmp_path / "routes.yaml", data)


def test_the_plan_replays_the_trace_and_takes_the_breakers_rate_from_it(tmp_path: Path) -> None:
    routes = _traced_spec(tmp_path)
    planned = {p.mode: p for p in plan(load_routes(routes), routes)}
    exp = planned["unavailable"].experiment
    assert exp is not None
    assert exp["load"]["mode"] == "trace"
    assert exp["load"]["file"] == str(tmp_path / "traces" / "arrivals.csv")
    assert exp["load"]["speed"] == 2.0
    # 20/s in the file at speed 2: 40/s in the fault phase, so the breaker's 4 arrivals
    # (ceil(5 / 2) + 1) take 0.1 s, then the 0.05 s backoff on the primary.
    (breaker,) = [c["breaker"] for c in exp["contract"] if "breaker" in c]
    assert breaker["after_s"] == 0.15


def test_a_trace_with_no_arrivals_in_the_fault_phase_leaves_the_breaker_out(tmp_path: Path) -> None:
    _trace(tmp_path / "short.csv", 1.0, 10.0)  # over before the fault phase starts at 6 s
    data = set_field(complete_spec(), "rehearsal.load", {"mode": "trace", "file": "short.csv"})
    routes = write_spec(tmp_path / "routes.yaml", data)
    unavailable = next(p for p in plan(load_routes(routes), routes) if p.mode == "unavailable")
    assert "breaker: the trace has no arrivals in the fault phase" in unavailable.absent


def test_trace_values_without_a_trace_load_are_refused_naming_the_route_field(tmp_path: Path) -> None:
    data = set_field(complete_spec(), f"{R}.request.headers", {"X-Tenant": "{{ trace.tenant }}"})
    with pytest.raises(InvalidRoutes) as e:
        load_routes(write_spec(tmp_path / "routes.yaml", data))
    message = str(e.value)
    assert f"{R}.request.headers.X-Tenant" in message
    assert "`trace` values need `rehearsal.load: {mode: trace, file: ...}`" in message


def test_an_open_rehearsal_load_is_refused(tmp_path: Path) -> None:
    data = set_field(complete_spec(), "rehearsal.load", {"mode": "open", "rate": 5})
    with pytest.raises(InvalidRoutes, match=r"rehearsal\.load\.mode .*`load` is for `mode: trace`"):
        load_routes(write_spec(tmp_path / "routes.yaml", data))


def test_a_missing_trace_or_value_is_refused_by_plan_naming_the_routes_file(tmp_path: Path) -> None:
    data = set_field(complete_spec(), "rehearsal.load", {"mode": "trace", "file": "gone.csv"})
    routes = write_spec(tmp_path / "routes.yaml", data)
    with pytest.raises(
        InvalidRoutes, match=rf"{routes}: rehearsal.load.file: .*gone.csv: no such trace file"
    ):
        plan(load_routes(routes), routes)
    (tmp_path / "teams.csv").write_text("t_s,team\n0,a\n", encoding="utf-8")
    set_field(data, "rehearsal.load.file", "teams.csv")
    set_field(data, f"{R}.request.headers", {"X-Tenant": "{{ trace.tenant }}"})
    write_spec(routes, data)
    with pytest.raises(InvalidRoutes, match=rf"{R}.request: .*uses trace.tenant, which this trace lacks"):
        plan(load_routes(routes), routes)


def test_rehearse_runs_a_trace_rehearsal_against_the_sampleapp(tmp_path: Path) -> None:
    routes = _traced_spec(tmp_path, per_s=10.0)
    with FakeProviderThread(latency="none", seed=0) as provider, SampleAppThread(provider.url, seed=1) as app:
        data = yaml.safe_load(routes.read_text())
        set_field(data, "target", {"url": app.url})
        set_field(data, "provider", {"url": provider.url})
        for mode in ("rate_limited", "over_budget", "malformed", "slow"):
            drop_field(data, f"{R}.degradation.{mode}")
        set_field(data, f"{R}.cache.prompt_prefix", False)
        set_field(data, f"{R}.retry.breaker", {"failure_threshold": 5, "cool_down_s": 0.5})
        write_spec(routes, data)
        console = Console(record=True, width=220)
        status = rehearse(routes, RunOptions(), time_scale=0.1, json=tmp_path / "run.json", console=console)
    text = console.export_text()
    assert status == 1, text  # four modes not declared: not ready
    table = text[text.index("readiness per route") :]
    assert table.count("held") == 1, table
    run, _ = read_journal(tmp_path / "run.json")
    assert run.status == "completed", run.error
    # The trace at 2x: arrivals every 0.05 s, each carrying its row's tenant to the provider.
    expected = [i * 0.05 for i in range(len(run.requests))]
    assert [r.scheduled_s for r in run.requests] == pytest.approx(expected, abs=1e-9)
    tenant_of = {call.request_id: call.tags.get("tenant") for call in run.ledger}
    assert [tenant_of.get(r.id) for r in run.requests] == [TENANTS[i % 2] for i in range(len(run.requests))]


def test_plan_and_rehearse_exit_2_on_a_missing_trace_naming_it(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    data = set_field(complete_spec(), "rehearsal.load", {"mode": "trace", "file": "gone.csv"})
    routes = write_spec(tmp_path / "routes.yaml", data)
    assert cli.main(["plan", str(routes), "-o", str(tmp_path / "plan")]) == 2
    assert f"{routes}: rehearsal.load.file: {tmp_path / 'gone.csv'}: no such trace" in capsys.readouterr().err
    assert rehearse(routes, RunOptions(), out_dir=tmp_path / "plan", console=Console(record=True)) == 2
    assert "no such trace file" in capsys.readouterr().err
    assert not (tmp_path / "plan").exists()

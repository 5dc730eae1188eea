"""`rehearse rehearse ROUTES.yaml`: lint, plan, run every planned experiment with the runner, and
report readiness per route: which degraded paths were rehearsed and held.

A route is ready when its checklist is complete and consistent and every failure mode was
rehearsed and held. Exit 0 every route ready; 1 a route is not; 2 the file is invalid or an
experiment could not run.
"""

from __future__ import annotations

import tempfile
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

from rich.console import Console
from rich.table import Table
from rich.text import Text

from harness.errors import InvalidRoutes
from harness.experiment.load import load_experiment
from harness.report.console import output_console
from harness.report.figures import overall_verdict
from harness.routes.lint import RouteLint, lint
from harness.routes.load import load_routes
from harness.routes.plan import Planned, plan, write_plan
from harness.routes.spec import FAILURE_MODES, FailureMode
from harness.run.main import RunOutcome, print_plain, run_reported
from harness.run.runner import RunOptions

Outcome = Literal["held", "broken", "error", "not run", "not planned"]
OUTCOME_STYLE = {
    "held": "bold green",
    "broken": "bold red",
    "error": "bold yellow",
    "not run": "yellow",
    "not planned": "dim",
}


@dataclass(frozen=True, slots=True)
class ModeResult:
    mode: FailureMode
    outcome: Outcome
    note: str = ""  # the clauses that broke, the run's error, or why it was not planned


@dataclass(slots=True)
class Readiness:
    route: str
    checklist: RouteLint
    modes: list[ModeResult] = field(default_factory=list)

    @property
    def ready(self) -> bool:
        return self.checklist.ok and all(m.outcome == "held" for m in self.modes)


def mode_result(planned: Planned, outcome: RunOutcome | None) -> ModeResult:
    if planned.experiment is None:
        return ModeResult(planned.mode, "not planned", planned.reason or "")
    if outcome is None:
        return ModeResult(planned.mode, "not run", "interrupted before it ran")
    run, results = outcome
    if run.status != "completed":
        return ModeResult(planned.mode, "error", run.error or run.status)
    verdict = overall_verdict(run, results)
    if verdict == "pass":
        return ModeResult(planned.mode, "held")
    bad = [r.title for r in results if r.verdict != "pass"]
    return ModeResult(planned.mode, "broken" if verdict == "fail" else "error", ", ".join(bad))


def readiness(
    checklist: Sequence[RouteLint],
    planned: Sequence[Planned],
    outcomes: dict[tuple[str, FailureMode], RunOutcome],
) -> list[Readiness]:
    by_route = {c.route: Readiness(c.route, c) for c in checklist}
    for p in planned:
        by_route[p.route].modes.append(mode_result(p, outcomes.get((p.route, p.mode))))
    return list(by_route.values())


def render_readiness(console: Console, report: Sequence[Readiness]) -> None:
    table = Table(title="readiness per route", pad_edge=False)
    table.add_column("route", style="bold", no_wrap=True)
    table.add_column("checklist")
    for mode in FAILURE_MODES:
        table.add_column(mode, overflow="fold")
    table.add_column("ready", no_wrap=True)
    for r in report:
        bad = [i.item for i in r.checklist.items if i.status != "present"]
        checklist = Text("complete", style="green") if not bad else Text(", ".join(bad), style="red")
        cells = [Text(r.route), checklist]
        for m in r.modes:
            cell = Text(m.outcome, style=OUTCOME_STYLE[m.outcome])
            if m.note:
                cell.append(f"\n{m.note}", style="dim")
            cells.append(cell)
        cells.append(Text("READY", style="bold green") if r.ready else Text("NOT READY", style="bold red"))
        table.add_row(*cells)
    console.print(table)


def rehearse(
    routes_path: Path,
    options: RunOptions,
    *,
    time_scale: float = 1.0,
    out_dir: Path | None = None,
    json: Path | None = None,
    junit: Path | None = None,
    html: Path | None = None,
    console: Console | None = None,
) -> int:
    """Lint, plan (into `out_dir`, else a temporary folder), run, and print readiness."""
    console = console or output_console()
    try:
        spec = load_routes(routes_path)
    except InvalidRoutes as e:
        print_plain(str(e))
        return 2
    checklist = lint(spec)
    try:
        planned = plan(spec, routes_path, time_scale)
    except InvalidRoutes as e:
        print_plain(str(e))
        return 2
    with tempfile.TemporaryDirectory(prefix="rehearse-plan-") as tmp:
        folder = out_dir if out_dir is not None else Path(tmp)
        paths = write_plan(planned, folder, routes_path)
        experiments = [(path, load_experiment(path)) for path in paths]
        runs = run_reported(experiments, options, console, json, junit, html)
    keys = [(p.route, p.mode) for p in planned if p.experiment is not None]
    outcomes = dict(zip(keys, runs, strict=False))
    report = readiness(checklist, planned, outcomes)
    render_readiness(console, report)
    if len(runs) < len(experiments) or any(run.status == "error" for run, _ in runs):
        return 2
    return 0 if all(r.ready for r in report) else 1

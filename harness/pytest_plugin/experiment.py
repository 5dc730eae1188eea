"""The `run_experiment` fixture's value: run an experiment (a file or a dict) with the real
runner against the session's fake provider, and the report a test asserts on."""

from __future__ import annotations

import asyncio
import copy
import io
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from rich.console import Console

from fakeprovider.scenario import Scenario, ScenarioError, load_scenario
from harness.contract.base import ClauseResult, Verdict
from harness.errors import HarnessError, InvalidExperiment
from harness.events import RunHandler
from harness.experiment.load import check_trace_file, load_experiment, resolve_files, validate_experiment
from harness.experiment.model import Experiment
from harness.pytest_plugin.provider import FakeProviderHandle
from harness.record import Run
from harness.report.console import results_renderable
from harness.report.figures import overall_verdict, title_of
from harness.report.html import write_html
from harness.report.journal import write_journal
from harness.report.junit import write_junit
from harness.run.runner import Runner, RunOptions

TABLE_WIDTH = 120


@dataclass(slots=True)
class ExperimentReport:
    """One run and its contract's verdicts."""

    run: Run
    results: list[ClauseResult] = field(default_factory=list)

    @property
    def verdict(self) -> Verdict:
        """`pass`, `fail` (a clause failed) or `error` (the run or a clause could not finish)."""
        return overall_verdict(self.run, self.results)

    @property
    def ok(self) -> bool:
        return self.verdict == "pass"

    @property
    def failed(self) -> list[ClauseResult]:
        """The clauses that did not hold (verdict fail or error)."""
        return [r for r in self.results if r.verdict != "pass"]

    def table(self, width: int = TABLE_WIDTH) -> str:
        """The verdict line and the clause table (clause, expected, observed, verdict), as text."""
        out = io.StringIO()
        console = Console(file=out, width=width, color_system=None, force_terminal=False, soft_wrap=False)
        console.print(results_renderable(self.run, self.results))
        return out.getvalue()

    def assert_ok(self) -> None:
        """Fail the test with the clause table unless every clause held."""
        if not self.ok:
            pytest.fail(f"experiment {title_of(self.run)!r}: {self.verdict}\n{self.table()}", pytrace=False)

    def write_json(self, path: str | os.PathLike[str]) -> Path:
        """The journal (every request, every clause), as `rehearse run --json` writes it."""
        return write_journal(path, self.run, self.results)

    def write_junit(self, path: str | os.PathLike[str]) -> Path:
        return write_junit(path, [(self.run, self.results)])

    def write_html(self, path: str | os.PathLike[str]) -> Path:
        return write_html(path, [(self.run, self.results)])


class ExperimentRunner:
    """`run_experiment(path_or_dict, **overrides)`; in an async test, `await run_experiment.arun(...)`.

    Relative paths are read from the test file's folder. Unless the experiment names a running
    provider (`provider.url`) or `provider_url=` is given, it runs against the session's fake
    provider, with the experiment's `provider.scenario` and seed put in force first.
    """

    def __init__(self, provider: FakeProviderHandle, test_dir: Path, test_id: str) -> None:
        self.provider = provider
        self.test_dir = test_dir
        self.test_id = test_id  # names an experiment given as a dict in reports

    def __call__(
        self,
        experiment: str | os.PathLike[str] | Mapping[str, Any],
        *,
        duration_s: float | None = None,
        time_scale: float | None = None,
        target_url: str | None = None,
        provider_url: str | None = None,
        seed: int | None = None,
        overrides: Mapping[str, Any] | None = None,
    ) -> ExperimentReport:
        try:
            asyncio.get_running_loop()
        except RuntimeError:
            pass
        else:
            raise HarnessError(
                "run_experiment(...) was called inside a running event loop: in an async test, "
                "use `await run_experiment.arun(...)`"
            )
        return asyncio.run(
            self.arun(
                experiment,
                duration_s=duration_s,
                time_scale=time_scale,
                target_url=target_url,
                provider_url=provider_url,
                seed=seed,
                overrides=overrides,
            )
        )

    async def arun(
        self,
        experiment: str | os.PathLike[str] | Mapping[str, Any],
        *,
        duration_s: float | None = None,
        time_scale: float | None = None,
        target_url: str | None = None,
        provider_url: str | None = None,
        seed: int | None = None,
        overrides: Mapping[str, Any] | None = None,
    ) -> ExperimentReport:
        """Run one experiment. `duration_s` stretches or shrinks the whole run (phases in
        proportion); `time_scale` multiplies every duration; `overrides` sets dotted fields
        (`{"load.rate": 5}`) before validation."""
        exp, source, folder = self._load(experiment, dict(overrides or {}))
        scale = _scale(exp, duration_s, time_scale)
        options = RunOptions(target_url=target_url, provider_url=provider_url, seed=seed, time_scale=scale)
        if provider_url is None and exp.provider.url is None:
            self._prepare_provider(exp, source, folder, seed if seed is not None else exp.seed)
            options.provider_url = self.provider.url
        run, results = await Runner(exp, source, options, RunHandler()).run()
        return ExperimentReport(run, results)

    def _load(
        self, experiment: str | os.PathLike[str] | Mapping[str, Any], overrides: dict[str, Any]
    ) -> tuple[Experiment, Path, Path]:
        """The experiment, the source reports name, the folder its relative paths start from."""
        if isinstance(experiment, str | os.PathLike):
            path = self.test_dir / Path(experiment)  # an absolute path stays as it is
            return load_experiment(path, overrides), path, path.parent
        if isinstance(experiment, Mapping):
            data = copy.deepcopy(dict(experiment))
            exp = resolve_files(validate_experiment(data, self.test_id, overrides), self.test_dir)
            check_trace_file(self.test_id, exp)
            return exp, Path(self.test_id), self.test_dir
        raise TypeError(f"run_experiment: give a file path or a dict, not {type(experiment).__name__}")

    def _prepare_provider(self, exp: Experiment, source: Path, folder: Path, run_seed: int) -> None:
        """Make the session's provider what the experiment's embedded one would have been."""
        spec = exp.provider
        if "latency" in spec.model_fields_set and spec.latency != self.provider.latency:
            raise InvalidExperiment(
                f"{source}: provider.latency: the experiment asks for {spec.latency!r}, but it runs "
                f"against the session's fake provider, which has {self.provider.latency!r}: set "
                f"--rehearsal-latency (or the rehearsal_latency ini option), or leave the field out"
            )
        if spec.port is not None:
            raise InvalidExperiment(
                f"{source}: provider.port: the experiment runs against the session's fake provider "
                f"at {self.provider.url}: leave the field out, or pass provider_url="
            )
        scenario = Scenario()
        if spec.scenario is not None:
            try:
                scenario = load_scenario((folder / spec.scenario).resolve())
            except ScenarioError as e:
                raise InvalidExperiment(f"{source}: provider.scenario: {e}") from None
        if scenario.seed is None:
            scenario = scenario.model_copy(update={"seed": spec.seed if spec.seed is not None else run_seed})
        self.provider.use_scenario(scenario)


def _scale(exp: Experiment, duration_s: float | None, time_scale: float | None) -> float:
    if duration_s is not None and time_scale is not None:
        raise TypeError("run_experiment: give duration_s or time_scale, not both")
    if duration_s is not None:
        if duration_s <= 0:
            raise ValueError(f"run_experiment: duration_s must be > 0, got {duration_s}")
        return duration_s / exp.duration_s
    if time_scale is not None and time_scale <= 0:
        raise ValueError(f"run_experiment: time_scale must be > 0, got {time_scale}")
    return time_scale or 1.0

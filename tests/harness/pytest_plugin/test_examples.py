"""The documented examples work as shipped: the release-gate suite passes in a fresh project,
and the nightly workflow runs `rehearse rehearse` and publishes both reports."""

from __future__ import annotations

import shlex
import shutil
from pathlib import Path
from typing import Any

import pytest
import yaml

from harness.cli import build_parser

pytest_plugins = ["pytester"]

EXAMPLES = Path(__file__).parents[3] / "examples"


def test_the_release_gate_example_passes_in_a_strict_project(suite: pytest.Pytester) -> None:
    shutil.copytree(EXAMPLES / "release-gate", suite.path, dirs_exist_ok=True)
    (suite.path / "conftest.py").write_text((EXAMPLES / "release-gate" / "conftest.py").read_text())
    result = suite.runpytest_subprocess("-v")
    result.assert_outcomes(passed=5)
    result.stdout.fnmatch_lines(["*test_rehearsal_outage_and_throttling_hold_the_route_contract PASSED*"])


def _steps(workflow: dict[str, Any]) -> list[dict[str, Any]]:
    (job,) = workflow["jobs"].values()
    steps: list[dict[str, Any]] = job["steps"]
    return steps


def test_the_nightly_workflow_rehearses_routes_and_publishes_the_junit_and_html_reports() -> None:
    workflow = yaml.safe_load((EXAMPLES / "ci" / "nightly-rehearsal.yml").read_text())
    assert workflow[True]["schedule"][0]["cron"]  # YAML 1.1 reads the key `on` as True
    (rehearse,) = [s for s in _steps(workflow) if s.get("run", "").startswith("rehearse rehearse")]
    args = build_parser().parse_args(shlex.split(rehearse["run"])[1:])
    reports = {Path(args.junit), Path(args.html)}
    (upload,) = [s for s in _steps(workflow) if s.get("uses", "").startswith("actions/upload-artifact")]
    assert upload["if"] == "${{ always() }}"  # published when the rehearsal fails too
    assert all(Path(upload["with"]["path"]) in report.parents for report in reports)

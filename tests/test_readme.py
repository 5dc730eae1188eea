"""The README's commands, run as a user runs them, so that the quick start cannot rot.

The quick start's first command is `venv && pip install -e . && rehearse run experiments/ …`. Its
last step runs as a subprocess in a clean copy of the repository with this environment's
`rehearse` (tests/main_job.py, checked in tests/experiments/test_main_job.py); the two install
steps are checked word for word, and `.ci/run` executes both README commands verbatim on a
fresh clone.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import yaml

from harness.experiment.load import load_experiment
from tests.main_job import QUICK_START, ROOT, blocks, clean_copy, commands, run_like_a_user, section


def test_quick_start_is_two_commands_and_ci_runs_them_both() -> None:
    assert len(QUICK_START) == 2
    install_and_run, install_and_test = QUICK_START
    assert install_and_run.startswith(
        "python3 -m venv .venv && .venv/bin/pip install -q -c constraints.txt -e . && "
    )
    assert " .venv/bin/rehearse run experiments/ " in install_and_run
    assert install_and_test.startswith(
        "python3 -m venv .venv && .venv/bin/pip install -q -c constraints.txt -e '.[dev]' && "
    )
    ci = (ROOT / ".ci" / "run").read_text()
    assert install_and_run in ci
    assert install_and_test in ci


def test_the_flawed_example_fails_with_the_clauses_that_caught_it(tmp_path: Path) -> None:
    text = section("The same, against a route with a bug")
    (command,) = commands(text)
    proc = run_like_a_user(command, clean_copy(tmp_path))
    output = proc.stdout + proc.stderr
    assert proc.returncode == 1, output
    shown = blocks(text, "")[0]
    for line in shown.splitlines():
        if line.startswith(("FAIL", "  ✗")):
            assert line.split("offending")[0].split(" clauses held")[0].rstrip("… ") in output


def test_the_point_it_at_your_service_example_is_a_valid_experiment(tmp_path: Path) -> None:
    (fragment,) = blocks(section("Point it at your own service"), "yaml")
    probe = yaml.safe_load((ROOT / "experiments" / "provider-unavailable.yaml").read_text())
    probe.update(yaml.safe_load(fragment))
    probe["target"].setdefault("timeout_s", 15)
    path = tmp_path / "my-probe.yaml"
    path.write_text(yaml.safe_dump(probe))
    (tmp_path / "scenarios").mkdir()
    shutil.copy(ROOT / "experiments" / "scenarios" / "base.yaml", tmp_path / "scenarios")
    exp = load_experiment(path)
    assert exp.target.url == "http://127.0.0.1:8080"
    assert exp.provider.port == 9100

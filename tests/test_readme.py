"""The README's commands, run as a user runs them, so that the quick start cannot rot.

The quick start's first command is `venv && pip install -e . && rehearse run experiments/ …`. Here
its last step runs as a subprocess in a clean copy of the repository (the files git knows, as
they are in the working tree) with this environment's `rehearse`; the two install steps are
checked word for word, and `.ci/run` executes both README commands verbatim on a fresh clone.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from harness.experiment.load import load_experiment

ROOT = Path(__file__).resolve().parents[1]
README = (ROOT / "README.md").read_text()
RUN_TIMEOUT_S = 600
TIME_SCALE = "0.3"


def section(title: str) -> str:
    """The README text under heading `title`, up to the next heading of the same or a higher
    level (lines inside code blocks are not headings)."""
    lines = README.splitlines(keepends=True)
    out: list[str] = []
    level = 0
    fenced = False
    for line in lines:
        if line.startswith("```"):
            fenced = not fenced
        heading = re.match(r"(#+) (.*)", line) if not fenced else None
        if level and heading and len(heading.group(1)) <= level:
            break
        if level:
            out.append(line)
        elif heading and heading.group(2).strip() == title:
            level = len(heading.group(1))
    assert level, f"README has no section {title!r}"
    return "".join(out)


def blocks(text: str, lang: str) -> list[str]:
    return re.findall(rf"^```{lang}\n(.*?)^```", text, re.M | re.S)


def commands(text: str) -> list[str]:
    """The shell commands of the first `sh` block in `text`: its lines that are not comments."""
    lines = blocks(text, "sh")[0].splitlines()
    return [line for line in lines if line.strip() and not line.lstrip().startswith("#")]


QUICK_START = commands(section("Quick start"))


@pytest.fixture(scope="module")
def clean_copy(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The repository as a fresh clone would have it (tracked and new files, nothing ignored)."""
    listed = subprocess.run(
        ["git", "ls-files", "--cached", "--others", "--exclude-standard", "-z"],
        cwd=ROOT,
        capture_output=True,
        check=True,
    ).stdout.split(b"\0")
    copy = tmp_path_factory.mktemp("clone") / "rehearsal"
    for name in filter(None, listed):
        source = ROOT / os.fsdecode(name)
        if source.is_file():
            target = copy / os.fsdecode(name)
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, target)
    return copy


def run_like_a_user(command: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    """`command` with `.venv/bin/` standing for this environment's scripts, time-scaled."""
    bin_dir = Path(sys.executable).parent
    env = {**os.environ, "REHEARSE_TIME_SCALE": TIME_SCALE, "COLUMNS": "200"}
    return subprocess.run(
        command.replace(".venv/bin/", f"{bin_dir}/"),
        shell=True,
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=RUN_TIMEOUT_S,
    )


def test_quick_start_is_two_commands_and_ci_runs_them_both() -> None:
    assert len(QUICK_START) == 2
    install_and_run, install_and_test = QUICK_START
    assert install_and_run.startswith("python3 -m venv .venv && .venv/bin/pip install -q -e . && ")
    assert " .venv/bin/rehearse run experiments/ " in install_and_run
    assert install_and_test.startswith("python3 -m venv .venv && .venv/bin/pip install -q -e '.[dev]' && ")
    ci = (ROOT / ".ci" / "run").read_text()
    assert install_and_run in ci
    assert install_and_test in ci


@pytest.mark.timeout(RUN_TIMEOUT_S + 60)
def test_the_main_job_passes_and_writes_its_report(clean_copy: Path) -> None:
    step = QUICK_START[0].split(" && ")[-1]
    proc = run_like_a_user(step, clean_copy)
    output = proc.stdout + proc.stderr
    assert proc.returncode == 0, output
    report = re.search(r"--html (\S+)", step)
    assert report
    assert f"wrote {report.group(1)}" in output
    html = (clean_copy / report.group(1)).read_text()
    assert "<svg" in html
    experiments = sorted((clean_copy / "experiments").glob("*.yaml"))
    for path in experiments:
        title = yaml.safe_load(path.read_text())["title"]
        assert f"PASS  {title}" in output, output


@pytest.mark.timeout(RUN_TIMEOUT_S + 60)
def test_the_flawed_example_fails_with_the_clauses_that_caught_it(clean_copy: Path) -> None:
    text = section("The same, against a route with a bug")
    (command,) = commands(text)
    proc = run_like_a_user(command, clean_copy)
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

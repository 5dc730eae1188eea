"""The README's main job, run once per test session as a user runs it, for the tests that read
it: the README test (exit status, report) and the probe library test (each probe's verdicts).

It runs in a clean copy of the repository (the files git knows, as they are in the working tree)
with this environment's `rehearse`, time-scaled, with `--json` added so that every experiment's
journal can be read back.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
README = (ROOT / "README.md").read_text()
RUN_TIMEOUT_S = 600
TIME_SCALE = "0.3"


def section(title: str) -> str:
    """The README text under heading `title`, up to the next heading of the same or a higher
    level (lines inside code blocks are not headings)."""
    out: list[str] = []
    level = 0
    fenced = False
    for line in README.splitlines(keepends=True):
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


def clean_copy(into: Path) -> Path:
    """The repository as a fresh clone would have it (tracked and new files, nothing ignored)."""
    listed = subprocess.run(
        ["git", "ls-files", "--cached", "--others", "--exclude-standard", "-z"],
        cwd=ROOT,
        capture_output=True,
        check=True,
    ).stdout.split(b"\0")
    copy = into / "rehearsal"
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


def journals(path: Path) -> list[dict[str, Any]]:
    """`path` and its numbered siblings (`j.json`, `j.2.json`, …), in run order."""
    found = [path] if path.exists() else []
    found += sorted(
        path.parent.glob(f"{path.stem}.*{path.suffix}"), key=lambda p: int(p.stem.rsplit(".")[-1])
    )
    return [json.loads(p.read_text()) for p in found]


@dataclass
class MainJob:
    copy: Path  # the clean copy it ran in
    step: str  # the README step that ran (the `rehearse run …` part)
    returncode: int
    output: str
    journals: dict[str, dict[str, Any]]  # by experiment file name


def run_main_job(into: Path) -> MainJob:
    copy = clean_copy(into)
    step = QUICK_START[0].split(" && ")[-1]
    journal = into / "journal.json"
    proc = run_like_a_user(f"{step} --json {journal}", copy)
    by_file = {Path(j["source"]).name: j for j in journals(journal)}
    return MainJob(copy, step, proc.returncode, proc.stdout + proc.stderr, by_file)

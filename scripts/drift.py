"""Run the SDK-facing tests against the newest releases and report what drifted from the pins.

The dev install and CI use the tested set in `constraints.txt`, so a new SDK release cannot turn
main red overnight. This check installs the newest releases instead, in a throw-away venv, runs
the tests marked `sdk` (see tests/conftest.py) and reports, without failing (exit 0):
- every pinned package whose newest release differs from its pin;
- every SDK-facing test that fails against the newest releases.

    python scripts/drift.py                 # report; exit 0 whatever drifted
    python scripts/drift.py --strict        # exit 1 when a test fails against the newest releases
    python scripts/drift.py --update        # rewrite constraints.txt to the newest set if all pass
    python scripts/drift.py --json drift.json
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
import xml.etree.ElementTree as ET
from dataclasses import asdict, dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CONSTRAINTS = ROOT / "constraints.txt"
# The header kept when --update rewrites the pins.
HEADER_LINES = 2
# Bounds: an install that hangs on a registry, or a suite that hangs, ends the check (reported).
INSTALL_TIMEOUT_S = 900
TESTS_TIMEOUT_S = 1200


@dataclass
class Drift:
    pinned_python: str
    changed: dict[str, tuple[str, str]] = field(default_factory=dict)  # name: (pinned, newest)
    added: dict[str, str] = field(default_factory=dict)  # newest needs it, not pinned
    tests: int = 0
    failed: list[str] = field(default_factory=list)
    problem: str | None = None  # the check itself could not run: why
    seconds: float = 0.0


def _norm(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def read_pins(text: str) -> dict[str, str]:
    """`name==version` lines (comments, blanks and editables skipped), names normalised."""
    pins: dict[str, str] = {}
    for raw in text.splitlines():
        line = raw.split("#", 1)[0].strip()
        if not line or line.startswith("-e ") or "==" not in line:
            continue
        name, version = line.split("==", 1)
        pins[_norm(name)] = version.strip()
    return pins


def compare(
    pinned: dict[str, str], newest: dict[str, str]
) -> tuple[dict[str, tuple[str, str]], dict[str, str]]:
    changed = {n: (v, newest[n]) for n, v in sorted(pinned.items()) if n in newest and newest[n] != v}
    added = {n: v for n, v in sorted(newest.items()) if n not in pinned}
    return changed, added


def failed_tests(junit: Path) -> tuple[int, list[str]]:
    """Tests run and the ids of those that failed or errored, from pytest's JUnit XML."""
    root = ET.parse(junit).getroot()
    total, failed = 0, []
    for case in root.iter("testcase"):
        if case.find("skipped") is not None:
            continue
        total += 1
        if case.find("failure") is not None or case.find("error") is not None:
            failed.append(f"{case.get('classname', '')}::{case.get('name', '')}")
    return total, failed


def _run(cmd: list[str], timeout: float, log: Path) -> int:
    with log.open("ab") as out:
        try:
            return subprocess.run(
                cmd, cwd=ROOT, stdout=out, stderr=subprocess.STDOUT, timeout=timeout
            ).returncode
        except subprocess.TimeoutExpired:
            return -1


def check(workdir: Path, pytest_args: list[str]) -> tuple[Drift, dict[str, str]]:
    drift = Drift(pinned_python=sys.version.split()[0])
    log = workdir / "drift.log"
    venv = workdir / "venv"
    python = venv / ("Scripts/python.exe" if os.name == "nt" else "bin/python")
    if subprocess.run([sys.executable, "-m", "venv", str(venv)], check=False).returncode != 0:
        drift.problem = "could not create a venv"
        return drift, {}
    install = [str(python), "-m", "pip", "install", "-q", "--upgrade", "-e", ".[dev]"]
    if _run(install, INSTALL_TIMEOUT_S, log) != 0:
        drift.problem = f"installing the newest releases failed (log: {log})"
        return drift, {}
    freeze = subprocess.run(
        [str(python), "-m", "pip", "freeze", "--exclude-editable"],
        capture_output=True,
        text=True,
        check=False,
    ).stdout
    newest = read_pins(freeze)
    drift.changed, drift.added = compare(read_pins(CONSTRAINTS.read_text()), newest)
    junit = workdir / "sdk.xml"
    tests = [str(python), "-m", "pytest", "-q", "-m", "sdk", "-p", "no:cacheprovider", f"--junitxml={junit}"]
    code = _run([*tests, *pytest_args], TESTS_TIMEOUT_S, log)
    if not junit.exists():
        drift.problem = f"the SDK-facing tests did not run (exit {code}, log: {log})"
        return drift, newest
    drift.tests, drift.failed = failed_tests(junit)
    return drift, newest


def report(drift: Drift) -> str:
    lines = [f"drift check against the newest releases ({drift.seconds:.0f} s)"]
    if drift.changed:
        lines.append("  newer than the pins in constraints.txt:")
        lines += [f"    {n} {old} -> {new}" for n, (old, new) in drift.changed.items()]
    else:
        lines.append("  every pinned package is at its newest release")
    if drift.added:
        lines.append(
            "  needed by the newest releases, not pinned: "
            + ", ".join(f"{n} {v}" for n, v in drift.added.items())
        )
    if drift.problem:
        lines.append(f"  could not finish: {drift.problem}")
    elif drift.failed:
        lines.append(
            f"  SDK-facing tests: {len(drift.failed)} of {drift.tests} fail against the newest releases:"
        )
        lines += [f"    {t}" for t in drift.failed]
    else:
        lines.append(f"  SDK-facing tests: all {drift.tests} hold against the newest releases")
    return "\n".join(lines)


def write_pins(newest: dict[str, str]) -> None:
    header = CONSTRAINTS.read_text().splitlines()[:HEADER_LINES]
    body = [f"{n}=={v}" for n, v in sorted(newest.items()) if n != "llm-rehearsal"]
    CONSTRAINTS.write_text("\n".join([*header, *body]) + "\n")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--strict", action="store_true", help="exit 1 when a test fails against the newest releases"
    )
    parser.add_argument("--update", action="store_true", help="rewrite constraints.txt when every test holds")
    parser.add_argument("--json", type=Path, help="also write the report as JSON to this file")
    parser.add_argument(
        "--keep", action="store_true", help="keep the venv and the log (their folder is printed)"
    )
    parser.add_argument("pytest_args", nargs="*", help="passed on to pytest (after --)")
    args = parser.parse_args(argv)
    started = time.monotonic()
    workdir = Path(tempfile.mkdtemp(prefix="rehearsal-drift-"))
    drift = Drift(pinned_python=sys.version.split()[0], problem="interrupted")
    try:
        drift, newest = check(workdir, args.pytest_args)
        drift.seconds = time.monotonic() - started
        print(report(drift), flush=True)
        if args.json:
            args.json.write_text(json.dumps(asdict(drift), indent=2) + "\n")
        if args.update and not drift.problem and not drift.failed and newest:
            write_pins(newest)
            print(f"  constraints.txt rewritten to the newest set ({len(newest)} packages)")
    finally:
        # A check that could not finish keeps its log: the report names it.
        if args.keep or drift.problem:
            print(f"  kept: {workdir}")
        else:
            shutil.rmtree(workdir, ignore_errors=True)
    return 1 if args.strict and (drift.problem or drift.failed) else 0


if __name__ == "__main__":
    sys.exit(main())

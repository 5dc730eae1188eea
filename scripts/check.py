"""Run every check CI runs: format, lint, types, tests. Exit non-zero if any fails.

Format and lint take seconds and run first (a failure there stops everything). Types and tests
then run at the same time: mypy keeps one core busy for most of a minute on a fresh clone (no
cache), time the tests' longest step (the README's main job, which starts first) would otherwise
wait; its output is printed when it ends, after the tests' output if the tests are still going.
"""

from __future__ import annotations

import subprocess
import sys

FIRST: list[tuple[str, list[str]]] = [
    ("format", ["ruff", "format", "--check", "."]),
    ("lint", ["ruff", "check", "."]),
]
TYPES = ("types", ["mypy"])
# Four workers (most tests wait on child processes and timers, so two a core keep both busy:
# 226 s against 318 s with two on this 2-core machine), a module's tests on one (its
# module-scoped servers start once), modules in collection order so the README's main job,
# the longest single step, starts first.
TESTS = ("tests", ["pytest", "-q", "-n", "4", "--dist", "loadscope", "--no-loadscope-reorder"])


def _cmd(args: list[str]) -> list[str]:
    return [sys.executable, "-m", *args]


def _failed(name: str, code: int) -> int:
    print(f"== {name} failed (exit {code})", flush=True)
    return code


def main() -> int:
    extra = sys.argv[1:]
    for name, args in FIRST:
        print(f"== {name}: {' '.join(args)}", flush=True)
        code = subprocess.call(_cmd(args))
        if code != 0:
            return _failed(name, code)
    types_name, types_args = TYPES
    print(f"== {types_name}: {' '.join(types_args)} (output when it ends)", flush=True)
    types = subprocess.Popen(_cmd(types_args), stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        tests_name, tests_args = TESTS
        print(f"== {tests_name}: {' '.join(tests_args)}", flush=True)
        tests_code = subprocess.call(_cmd(tests_args) + extra)
    except BaseException:  # Ctrl-C: no waiting on mypy's minute
        types.kill()
        types.wait()
        raise
    types_out, _ = types.communicate()
    print(f"== {types_name} output:\n{types_out}", end="", flush=True)
    if types.returncode != 0:
        return _failed(types_name, types.returncode)
    if tests_code != 0:
        return _failed(tests_name, tests_code)
    print("== all checks passed", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())

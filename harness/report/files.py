"""How report files are written, for every writer alike: atomically, so a reader (a CI job, a
browser refresh) never sees half a report, and, for the reports that cover several runs, again
after every run, so an invocation cut short still leaves a complete report of what finished."""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from pathlib import Path

from harness.contract.base import ClauseResult
from harness.events import RunHandler
from harness.record import Run

RunResults = tuple[Run, Sequence[ClauseResult]]


def write_atomically(path: str | os.PathLike[str], write: Callable[[Path], object]) -> Path:
    """Create the folder, let `write` fill a temporary file beside `path`, rename it over `path`."""
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = target.with_name(f".{target.name}.{os.getpid()}.tmp")
    write(tmp)
    os.replace(tmp, target)
    return target


class RewritingHandler(RunHandler):
    """Keeps every run finished so far and rewrites one file with all of them after each run."""

    def __init__(self, path: str | os.PathLike[str]) -> None:
        self.path = Path(path)
        self.runs: list[RunResults] = []

    def run_finished(self, run: Run, results: Sequence[ClauseResult]) -> None:
        self.runs.append((run, list(results)))
        self.write(self.path, self.runs)

    def write(self, path: Path, runs: Sequence[RunResults]) -> None:
        """Write the report of `runs` to `path`."""
        raise NotImplementedError

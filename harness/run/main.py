"""`rehearse run PATH…`: validate every file, run each experiment, report, pick the exit status.

Exit 0: every clause held. 1: a clause failed. 2: a file is invalid (nothing runs then), an
experiment could not run (its partial journal is written), or a clause could not be evaluated.
"""

from __future__ import annotations

import asyncio
import signal
from collections.abc import Sequence
from pathlib import Path

from rich.console import Console

from harness.contract.base import ClauseResult
from harness.errors import InvalidExperiment
from harness.events import Handlers, RunHandler
from harness.experiment.load import experiment_files, load_experiment
from harness.experiment.model import Experiment
from harness.record import Run
from harness.report.console import ConsoleResultsHandler, ProgressHandler, output_console, render_summary
from harness.report.figures import overall_verdict
from harness.report.html import HtmlHandler
from harness.report.journal import JournalHandler
from harness.report.junit import JUnitHandler
from harness.run.runner import Runner, RunOptions

EXIT = {"pass": 0, "fail": 1, "error": 2}
RunOutcome = tuple[Run, list[ClauseResult]]


def load_all(paths: Sequence[Path]) -> list[tuple[Path, Experiment]]:
    """Every experiment, validated before anything starts (all errors reported together)."""
    files = experiment_files(paths)
    loaded: list[tuple[Path, Experiment]] = []
    errors: list[str] = []
    for path in files:
        try:
            loaded.append((path, load_experiment(path)))
        except InvalidExperiment as e:
            errors.append(str(e))
    if errors:
        raise InvalidExperiment("\n".join(errors))
    return loaded


def handlers_for(
    console: Console, json: Path | None, junit: Path | None, html: Path | None
) -> list[RunHandler]:
    handlers: list[RunHandler] = [
        ProgressHandler(output_console(stderr=True)),
        ConsoleResultsHandler(console),
    ]
    if json is not None:
        handlers.append(JournalHandler(json))
    if junit is not None:
        handlers.append(JUnitHandler(junit))
    if html is not None:
        handlers.append(HtmlHandler(html))
    return handlers


async def run_all(
    experiments: Sequence[tuple[Path, Experiment]], options: RunOptions, handler: RunHandler
) -> list[RunOutcome]:
    """Run each experiment in turn; Ctrl-C stops the current one cleanly and skips the rest."""
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    presses = 0

    def interrupt() -> None:
        nonlocal presses
        presses += 1
        stop.set()
        if presses > 1:
            for task in asyncio.all_tasks(loop):
                if task is not asyncio.current_task(loop):
                    task.cancel()

    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, interrupt)
    outcomes: list[RunOutcome] = []
    try:
        for path, exp in experiments:
            if stop.is_set():
                break
            outcomes.append(await Runner(exp, path, options, handler).run(stop))
    finally:
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.remove_signal_handler(sig)
    return outcomes


def run_reported(
    experiments: Sequence[tuple[Path, Experiment]],
    options: RunOptions,
    console: Console,
    json: Path | None = None,
    junit: Path | None = None,
    html: Path | None = None,
) -> list[RunOutcome]:
    """Run the experiments with progress, the results table and the asked-for reports as handlers.
    Fewer outcomes than experiments: Ctrl-C stopped the rest."""
    return asyncio.run(run_all(experiments, options, Handlers(handlers_for(console, json, junit, html))))


def print_plain(text: str) -> None:
    """One message on stderr as it is: file paths and field names are neither styled nor wrapped."""
    Console(stderr=True).print(text, markup=False, highlight=False, soft_wrap=True)


def main(
    paths: Sequence[Path],
    options: RunOptions,
    json: Path | None = None,
    junit: Path | None = None,
    html: Path | None = None,
    console: Console | None = None,
) -> int:
    console = console or output_console()
    try:
        experiments = load_all(paths)
    except InvalidExperiment as e:
        print_plain(str(e))
        return 2
    outcomes = run_reported(experiments, options, console, json, junit, html)
    if len(outcomes) > 1:
        render_summary(console, outcomes)
    for run, _ in outcomes:
        if run.status == "error":  # also in the results table; here unwrapped, for logs
            print_plain(f"rehearse run: {run.source}: {run.error}")
    for path in (json, junit, html):
        if path is not None:
            print_plain(f"wrote {path}")
    if len(outcomes) < len(experiments):
        return 2
    verdicts = [overall_verdict(run, results) for run, results in outcomes]
    return max((EXIT[v] for v in verdicts), default=0)

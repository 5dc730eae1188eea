"""The contract of an experiment evaluated on a locust run made outside `rehearse run` (for
example distributed over several hosts): its records file, plus the provider ledger merged
from every replica (`rehearse ledger merge … --experiment FILE --records FILE`)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from harness.contract.evaluate import evaluate
from harness.errors import HarnessError
from harness.experiment.load import load_experiment
from harness.load.locust import read_records
from harness.record import LedgerCall, Run
from harness.report.console import ConsoleResultsHandler
from harness.report.figures import overall_verdict
from harness.report.journal import JournalHandler
from harness.run.phases import phase_windows

EXIT = {"pass": 0, "fail": 1, "error": 2}
SLACK_S = 5.0  # calls this close to the run still belong to it (clocks of several hosts)


def evaluate_records(
    experiment: Path, records: Path, ledger: list[dict[str, Any]], journal: Path | None = None
) -> int:
    """Print the clause table (and write the journal); the exit status of `rehearse run`."""
    exp = load_experiment(experiment)
    t0, requests = read_records(records)
    if t0 is None:
        raise HarnessError(f"{records}: no start line: the load never started, or not a records file")
    last = max((r.end_s or r.sent_s for r in requests), default=0.0)
    end = t0 + max(last, exp.duration_s) + SLACK_S
    run = Run(
        experiment=exp.model_dump(mode="json", by_alias=True, exclude_none=True),
        source=str(experiment),
        started_at=t0,
        phases=phase_windows(exp),
        requests=requests,
        ledger=[c for c in map(LedgerCall.from_dict, ledger) if t0 - SLACK_S <= c.ts_start <= end],
        load_started_at=t0,
    )
    results = evaluate(exp, run)
    ConsoleResultsHandler().run_finished(run, results)
    if journal is not None:
        JournalHandler(journal).run_finished(run, results)
    return EXIT[overall_verdict(run, results)]

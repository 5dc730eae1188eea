"""An experiment's contract evaluated on a `Run`: every clause's verdict, beside the clauses.

The runner calls it when a run completes; `rehearse ledger merge --experiment` calls it on a run
assembled from a records file and a merged ledger; the pytest plugin's runs go through the runner.
"""

from __future__ import annotations

from harness.contract.base import ClauseResult
from harness.experiment.model import Experiment
from harness.record import Run


def evaluate(exp: Experiment, run: Run) -> list[ClauseResult]:
    """Every contract clause's verdict on `run`; a clause that raises gives verdict `error`."""
    results: list[ClauseResult] = []
    for spec in exp.contract:
        clause = spec.build()
        try:
            results.append(clause.evaluate(run))
        except Exception as e:
            results.append(ClauseResult(spec.name, spec.name, "-", f"could not evaluate: {e!r}", "error"))
    return results

"""The JSON journal of one run: the experiment as run, status, phases, every raw request record,
the provider ledger, every clause result and the metric definitions. A journal read back gives
the same `Run` and results, so a saved run can be re-evaluated and re-rendered."""

from __future__ import annotations

import os
import time
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import orjson

from harness import analysis
from harness.contract.base import ClauseResult
from harness.errors import HarnessError
from harness.events import RunHandler
from harness.record import Run
from harness.report.files import write_atomically

JOURNAL_FORMAT = "rehearsal-journal"
JOURNAL_VERSION = 1

# What the journal's figures mean, written into every journal.
METRIC_DEFINITIONS: dict[str, str] = {
    **analysis.METRIC_DEFINITIONS,
    "percentiles": analysis.PERCENTILE_METHOD,
}

_RUN_KEYS = (
    "experiment",
    "source",
    "started_at",
    "load_started_at",
    "status",
    "error",
    "phases",
    "fault_rules",
    "requests",
    "ledger",
)


def _default(value: Any) -> Any:
    # The experiment may carry values orjson does not know (paths, pydantic leftovers): keep
    # their text rather than lose the journal.
    if isinstance(value, (set, frozenset, tuple)):
        return list(value)
    return str(value)


def journal_dict(
    run: Run, results: Sequence[ClauseResult], metric_definitions: Mapping[str, str] | None = None
) -> dict[str, Any]:
    data: dict[str, Any] = {"format": JOURNAL_FORMAT, "version": JOURNAL_VERSION, "written_at": time.time()}
    data.update(run.to_dict())
    data["results"] = [r.to_dict() for r in results]
    data["metric_definitions"] = dict(
        METRIC_DEFINITIONS if metric_definitions is None else metric_definitions
    )
    return data


def write_journal(
    path: str | os.PathLike[str],
    run: Run,
    results: Sequence[ClauseResult],
    metric_definitions: Mapping[str, str] | None = None,
) -> Path:
    """Write the journal atomically (a reader never sees half a file); returns the path."""
    payload = orjson.dumps(
        journal_dict(run, results, metric_definitions),
        default=_default,
        option=orjson.OPT_NON_STR_KEYS | orjson.OPT_APPEND_NEWLINE,
    )
    return write_atomically(path, lambda tmp: tmp.write_bytes(payload))


def read_journal(path: str | os.PathLike[str]) -> tuple[Run, list[ClauseResult]]:
    """Read a journal back into the `Run` and the clause results it was written from."""
    source = Path(path)
    try:
        data = orjson.loads(source.read_bytes())
    except OSError as e:
        raise HarnessError(f"{source}: cannot read journal: {e.strerror or e}") from e
    except orjson.JSONDecodeError as e:
        raise HarnessError(f"{source}: not a JSON journal: {e}") from e
    if not isinstance(data, dict) or data.get("format") != JOURNAL_FORMAT:
        raise HarnessError(f'{source}: not a rehearsal journal (no "format": "{JOURNAL_FORMAT}")')
    if data.get("version") != JOURNAL_VERSION:
        raise HarnessError(
            f"{source}: journal version {data.get('version')!r}; this harness reads {JOURNAL_VERSION}"
        )
    try:
        run = Run.from_dict({k: data[k] for k in _RUN_KEYS if k in data})
        results = [ClauseResult(**r) for r in data.get("results", [])]
    except (KeyError, TypeError, ValueError, AttributeError) as e:  # a ledger record not a record
        raise HarnessError(f"{source}: malformed journal: {e}") from e
    return run, results


def numbered(path: Path, index: int) -> Path:
    """`out.json` for the first run, `out.2.json`, `out.3.json`… for the next ones."""
    return path if index <= 1 else path.with_name(f"{path.stem}.{index}{path.suffix}")


class JournalHandler(RunHandler):
    """Writes the journal when a run finishes, also when it errored (status error, results
    empty). With several experiments in one invocation, the n-th run goes to `numbered(path, n)`."""

    def __init__(
        self, path: str | os.PathLike[str], metric_definitions: Mapping[str, str] | None = None
    ) -> None:
        self.path = Path(path)
        self.metric_definitions = metric_definitions
        self.written: list[Path] = []

    def run_finished(self, run: Run, results: Sequence[ClauseResult]) -> None:
        target = numbered(self.path, len(self.written) + 1)
        self.written.append(write_journal(target, run, results, self.metric_definitions))

"""The locust engine: `load: {engine: locust, users: N, spawn_rate: R, processes: P}`.

Locust runs headless in processes of its own, never in this one: gevent patches the process it
runs in, and the harness is asyncio. One process for `processes: 1`; otherwise locust's master
and P workers on this machine. The locustfile (`locustfiles/llm_route.py`) sends the
experiment's requests and writes one record per request to a JSONL file, which this module
follows for progress and reads back into `RequestRecord`s, so the same contract clauses and
reports apply as to the asyncio engine. The load is bounded in count and time by the
experiment; the processes are bounded by a deadline and always stopped, and one that dies is
a `ChildCrashed` naming it, with the end of its log.
"""

from __future__ import annotations

import asyncio
import json
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import orjson

import locustfiles
from harness.errors import HarnessError
from harness.experiment.model import Experiment
from harness.load.locust_procs import LocustProcess, start_locust
from harness.procs import free_port
from harness.record import RequestRecord

LOCUSTFILE = Path(locustfiles.__file__).parent / "llm_route.py"
START_TIMEOUT_S = 60.0  # locust imports, workers connect, the master starts the load
DRAIN_SLACK_S = 15.0  # beyond duration + target timeout: the shape's drain, writing stats
POLL_S = 0.1
# The error of an open-loop request that was due but never sent (every user busy to the end).
NOT_SENT = "not sent: no locust user was free before the load ended (raise load.users or spawn_rate)"

OnRecord = Callable[[RequestRecord], None]


@dataclass(slots=True)
class LocustResult:
    records: list[RequestRecord]
    t0: float | None  # wall clock of load start (the providers' scenario clocks start with it)
    requests: int  # locust's own count of requests (all names), and of failures
    failures: int


class _Records:
    """Follows the records file as it grows."""

    def __init__(self, path: Path, on_record: OnRecord | None) -> None:
        self.path = path
        self.on_record = on_record
        self.t0: float | None = None
        self.records: list[RequestRecord] = []
        self._offset = 0

    def poll(self) -> None:
        try:
            with self.path.open("rb") as f:
                f.seek(self._offset)
                data = f.read()
        except FileNotFoundError:
            return
        end = data.rfind(b"\n") + 1  # a line still being written waits for the next poll
        self._offset += end
        for line in data[:end].splitlines():
            entry = orjson.loads(line)
            if entry["kind"] == "start":
                self.t0 = float(entry["t0"])
            elif entry["kind"] == "request":
                record = RequestRecord(**entry["record"])
                self.records.append(record)
                if self.on_record is not None:
                    self.on_record(record)


def read_records(path: Path) -> tuple[float | None, list[RequestRecord]]:
    """A finished records file (`--rehearse-records`): time zero and the records in seq order."""
    records = _Records(path, None)
    try:
        records.poll()
    except (ValueError, KeyError, TypeError) as e:
        raise HarnessError(f"{path}: not a locust records file: {e!r}") from None
    return records.t0, sorted(records.records, key=lambda r: r.seq)


async def drive_locust(
    target_url: str,
    exp: Experiment,
    seed: int,
    provider_url: str,
    *,
    on_record: OnRecord | None = None,
    stop: asyncio.Event | None = None,
) -> LocustResult:
    """Run the experiment's load with locust against `target_url`; records in seq order.

    The locust master (or only process) starts the provider's scenario clock with the load, so
    phase faults line up with its phases. Setting `stop` ends the run at once (what was
    recorded so far is returned).
    """
    stop = stop or asyncio.Event()
    load = exp.load
    with tempfile.TemporaryDirectory(prefix="rehearse-locust-") as tmp:
        work = Path(tmp)
        data = exp.model_dump(mode="json", by_alias=True, exclude_none=True)
        data["seed"] = seed
        (work / "experiment.json").write_text(json.dumps(data), encoding="utf-8")
        args = [
            "-f", str(LOCUSTFILE), "--headless", "--only-summary", "--exit-code-on-error", "0",
            "--host", target_url, "--json-file", str(work / "stats"),
            "--rehearse-experiment", str(work / "experiment.json"),
            "--rehearse-records", str(work / "records.jsonl"),
            "--rehearse-provider", provider_url,
        ]  # fmt: skip
        processes = load.processes or 1
        if processes > 1:
            # Locust forks its workers after importing the locustfile: one import, not P + 1.
            port = str(free_port())
            args += ["--processes", str(processes), "--master-bind-host", "127.0.0.1"]
            args += ["--master-bind-port", port, "--master-port", port]
            args += ["--expect-workers-max-wait", str(int(START_TIMEOUT_S))]
        proc: LocustProcess | None = None
        records = _Records(work / "records.jsonl", on_record)
        try:
            name = "locust" if processes == 1 else f"locust (master and {processes} workers)"
            proc = await start_locust(name, args, work / "locust.log")
            budget_s = START_TIMEOUT_S + exp.duration_s + exp.target.timeout_s + DRAIN_SLACK_S
            await _follow(proc, records, stop, budget_s)
        finally:
            if proc is not None:
                await proc.stop()
        records.poll()
        result = LocustResult(sorted(records.records, key=lambda r: r.seq), records.t0, 0, 0)
        if not stop.is_set():
            _read_stats(work / "stats.json", result)
        return result


async def _follow(proc: LocustProcess, records: _Records, stop: asyncio.Event, budget_s: float) -> None:
    """Until locust exits (its master stops when a worker is lost): follow the records."""
    started = time.monotonic()
    while proc.alive():
        records.poll()
        if stop.is_set():
            return
        waited = time.monotonic() - started
        if records.t0 is None and waited > START_TIMEOUT_S:
            raise HarnessError(
                f"{proc.name} did not start the load within {START_TIMEOUT_S:g} s:\n{proc.tail()}"
            )
        if waited > budget_s:
            raise HarnessError(f"{proc.name} was still running after {budget_s:g} s; stopped it")
        await asyncio.sleep(POLL_S)
    if proc.proc.returncode != 0:
        raise proc.crashed(
            "before the load was over" if records.t0 is not None else "before the load started"
        )


def _read_stats(path: Path, result: LocustResult) -> None:
    """Locust's own counts, checked against the records: every request locust counted has
    exactly one record (a record lost on the way would skew every clause)."""
    try:
        entries = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as e:
        raise HarnessError(f"locust wrote no readable stats ({path.name}): {e}") from None
    result.requests = sum(int(e["num_requests"]) for e in entries)
    result.failures = sum(int(e["num_failures"]) for e in entries)
    sent = [r for r in result.records if r.error not in (NOT_SENT, "cancelled")]
    if len(sent) != result.requests:
        raise HarnessError(
            f"locust counted {result.requests} requests but its users recorded {len(sent)}: records were lost"
        )

"""`rehearse ledger merge SOURCE…`: one ledger from several fake-provider replicas.

Behind a load balancer each replica records only the calls it served, numbers them itself and
counts attempts itself, so a request retried on another replica looks like a first attempt on
each. The merge reads every replica's ledger (`GET /control/ledger`, page by page, or a JSONL
file written with `rehearse serve --ledger`), orders the calls by start time, numbers them
again from 1 and counts attempts across all of them as one provider would (by request id, else
idempotency key, else body fingerprint). Each record keeps where it came from: `replica` and
`replica_seq`. With `--experiment` and `--records` (a locust run's records file) the contract
is evaluated on the merged ledger, as `rehearse run` would.
"""

from __future__ import annotations

import json
import sys
import urllib.error
import urllib.request
from collections.abc import Sequence
from pathlib import Path
from typing import Any, TextIO

from harness.errors import HarnessError, ProviderError

PAGE = 5000
TIMEOUT_S = 30.0
Ledger = list[dict[str, Any]]


def fetch_ledger(url: str, token: str | None = None) -> Ledger:
    """Every record a running provider holds (its in-memory ledger is bounded)."""
    records: Ledger = []
    since = 0
    while True:
        request = urllib.request.Request(f"{url.rstrip('/')}/control/ledger?since={since}&limit={PAGE}")
        if token:
            request.add_header("Authorization", f"Bearer {token}")
        try:
            with urllib.request.urlopen(request, timeout=TIMEOUT_S) as resp:
                page = json.load(resp)
        except urllib.error.HTTPError as e:
            detail = e.read().decode(errors="replace")
            raise ProviderError(f"{url}: GET /control/ledger answered {e.code}: {detail}") from None
        except (OSError, ValueError) as e:
            raise ProviderError(f"{url}: cannot read the ledger: {e}") from None
        if not page["records"]:
            return records
        records.extend(page["records"])
        since = page["next"]


def read_ledger_file(path: Path) -> Ledger:
    """A ledger written with `rehearse serve --ledger FILE` (one JSON record per line)."""
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except OSError as e:
        raise HarnessError(f"{path}: cannot read: {e.strerror or e}") from None
    records: Ledger = []
    for number, line in enumerate(lines, 1):
        if not line.strip():
            continue
        try:
            records.append(json.loads(line))
        except ValueError as e:
            raise HarnessError(f"{path}: line {number}: not a JSON record: {e}") from None
    return records


def load_source(source: str, token: str | None = None) -> Ledger:
    if source.startswith(("http://", "https://")):
        return fetch_ledger(source, token)
    return read_ledger_file(Path(source))


def merge(ledgers: Sequence[tuple[str, Ledger]]) -> Ledger:
    """The calls of every replica in start order, renumbered, attempts counted across replicas."""
    calls = [
        {**record, "replica": replica, "replica_seq": record.get("seq")}
        for replica, records in ledgers
        for record in records
    ]
    calls.sort(key=lambda r: (float(r.get("ts_start", 0.0)), str(r["replica"]), int(r.get("seq") or 0)))
    seen: dict[tuple[str, str], int] = {}
    for seq, call in enumerate(calls, 1):
        call["seq"] = seq
        key = _attempt_key(call)
        if key is not None:
            seen[key] = seen.get(key, 0) + 1
            call["attempt"] = seen[key]
    return calls


def _attempt_key(call: dict[str, Any]) -> tuple[str, str] | None:
    for field in ("request_id", "idempotency_key", "fingerprint"):
        value = call.get(field)
        if value:
            return field, str(value)
    return None


def write_jsonl(calls: Ledger, out: TextIO) -> None:
    for call in calls:
        out.write(json.dumps(call, separators=(",", ":")) + "\n")


def main(
    sources: Sequence[str],
    output: Path | None,
    token: str | None = None,
    experiment: Path | None = None,
    records: Path | None = None,
    journal: Path | None = None,
) -> int:
    """The CLI: 0 merged (and every clause held), 1 a clause failed, 2 bad input."""
    if (experiment is None) != (records is None):
        print("rehearse ledger merge: give --experiment and --records together", file=sys.stderr)
        return 2
    try:
        calls = merge([(source, load_source(source, token)) for source in sources])
        if output is None and experiment is None:
            write_jsonl(calls, sys.stdout)
        elif output is not None:
            with output.open("w", encoding="utf-8") as f:
                write_jsonl(calls, f)
        print(f"merged {len(calls)} calls from {len(sources)} ledgers", file=sys.stderr)
        if experiment is None or records is None:
            return 0
        from harness.ledger_evaluate import evaluate_records

        return evaluate_records(experiment, records, calls, journal)
    except HarnessError as e:
        print(f"rehearse ledger merge: {e}", file=sys.stderr)
        return 2

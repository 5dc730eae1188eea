"""Where the LLM timings go: a JSONL file of raw request records (optional), and a per-phase
table of TTFT, E2E and ITL percentiles printed when the test stops.

Only the process that runs the test (locust's master, or the single local process) has a sink;
workers pass their records to it. The file's lines are:

    {"kind": "start", "t0": <wall clock of load start>, "id_prefix": "rh-…-", "lanes": N}
    {"kind": "request", "record": {…a `harness.record.RequestRecord`, times from t0…}}

so `rehearse run` reads the records back and applies the same clauses as to its own engine.
"""

from __future__ import annotations

import io
from collections import defaultdict
from pathlib import Path
from typing import Any

import orjson

from harness.analysis import percentiles


class RecordSink:
    def __init__(self, path: Path | None) -> None:
        self.path = path
        self._file: io.BufferedWriter | None = None
        self.count = 0
        self.errors = 0
        self._samples: dict[str, dict[str, list[float]]] = defaultdict(lambda: defaultdict(list))
        self._phases: list[str] = []

    def start(self, t0: float, id_prefix: str, lanes: int) -> None:
        if self.path is not None:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self._file = self.path.open("wb")
        self._write({"kind": "start", "t0": t0, "id_prefix": id_prefix, "lanes": lanes})

    def write(self, records: list[dict[str, Any]]) -> None:
        """Take finished records (`RequestRecord` as dicts)."""
        for record in records:
            self._write({"kind": "request", "record": record})
            self._count(record)
        if self._file is not None:
            self._file.flush()  # `rehearse run` follows the file for its progress line

    def close(self) -> None:
        if self._file is not None:
            self._file.close()
            self._file = None

    def _write(self, line: dict[str, Any]) -> None:
        if self._file is not None:
            self._file.write(orjson.dumps(line) + b"\n")

    def _count(self, r: dict[str, Any]) -> None:
        self.count += 1
        phase = r["phase"] or "run"
        if phase not in self._phases:
            self._phases.append(phase)
        samples = self._samples[phase]
        ok = r["error"] is None and r["status"] is not None and 200 <= r["status"] < 300
        if not ok:
            self.errors += 1
            samples["errors"].append(1.0)
            return
        e2e = r["end_s"] - r["scheduled_s"]
        samples["e2e"].append(e2e)
        if r["first_content_s"] is not None:
            ttft = r["first_content_s"] - r["scheduled_s"]
            samples["ttft"].append(ttft)
            # Without the provider's token counts, chunks from the first content on stand in
            # for output tokens (the report of `rehearse run` uses the ledger's counts).
            tokens = sum(1 for t in r["chunk_s"] if t >= r["first_content_s"])
            if tokens > 1:
                samples["itl"].append((e2e - ttft) / (tokens - 1))

    def table(self) -> str:
        """Per phase: requests, errors, and TTFT / E2E / ITL percentiles in milliseconds."""
        head = f"{'phase':<16}{'reqs':>7}{'errors':>8}"
        for metric in ("ttft", "e2e"):
            head += "".join(f"{metric + ' p' + q:>12}" for q in ("50", "95", "99"))
        head += f"{'itl p50':>10}{'itl p95':>10}"
        lines = ["LLM timings (ms, from the scheduled send time)", head]
        for phase in self._phases:
            s = self._samples[phase]
            n = len(s["e2e"]) + len(s["errors"])
            row = f"{phase[:15]:<16}{n:>7}{len(s['errors']):>8}"
            for metric in ("ttft", "e2e"):
                row += "".join(f"{_ms(v):>12}" for v in percentiles(s[metric], (50, 95, 99)).values())
            row += "".join(f"{_ms(v):>10}" for v in percentiles(s["itl"], (50, 95)).values())
            lines.append(row)
        return "\n".join(lines)


def _ms(value: float | None) -> str:
    return "-" if value is None else f"{value * 1000:.0f}"

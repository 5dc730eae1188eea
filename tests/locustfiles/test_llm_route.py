"""The locust user on its own (`locust -f locustfiles/llm_route.py`, experiment and control
token from the environment) against the fake provider's streaming endpoint: the phase's slow
fault put on and taken off, TTFT as the provider paced it, chunks timed past the headers,
X-Request-Id on every request, and locust's request count equal to the requests the provider
saw."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
import urllib.request
from pathlib import Path
from typing import Any

import openai
import yaml

from fakeprovider import FakeProviderThread
from fakeprovider.accounting.ledger import LedgerRecord

LOCUSTFILE = Path(__file__).resolve().parents[2] / "locustfiles" / "llm_route.py"
TTFT_S = 0.3
INTER_TOKEN_S = 0.02
REQUESTS = 8
SLOW = {"kind": "slow", "ttft_ms": TTFT_S * 1000, "inter_token_ms": INTER_TOKEN_S * 1000}
TOKEN = "s3cret"


def _experiment(url: str) -> dict[str, Any]:
    return {
        "title": "stream straight from the provider",
        "target": {
            "url": url,
            "request": {
                "path": "/v1/chat/completions",
                "json": {
                    "model": "gpt-4o-mini",
                    "stream": True,
                    "max_tokens": 6,
                    "messages": [{"role": "user", "content": "say hi #{{ seq }}"}],
                },
            },
            "stream": "sse",
            "timeout_s": 5,
        },
        "load": {"engine": "locust", "mode": "closed", "users": 2, "max_requests": REQUESTS},
        # The slow start is a phase fault: the locustfile puts it on the provider and takes it off.
        "phases": [{"name": "slow", "duration_s": 20, "faults": [{"name": "slow-start", "fault": SLOW}]}],
    }


def _warm_up(url: str) -> None:
    with openai.OpenAI(base_url=url + "/v1", api_key="sk-test", max_retries=0) as client:
        client.chat.completions.create(
            model="gpt-4o-mini", messages=[{"role": "user", "content": "warm up"}], max_tokens=2, timeout=10
        )


def _ledger(provider: FakeProviderThread, count: int) -> list[LedgerRecord]:
    """The calls the locust users made (their request ids start `rh-`), once `count` are in."""
    deadline = time.monotonic() + 3
    while True:
        calls = [r for r in provider.state.ledger.records() if r.request_id.startswith("rh-")]
        if len(calls) >= count or time.monotonic() > deadline:
            return calls
        time.sleep(0.02)


def _faults(url: str) -> list[dict[str, Any]]:
    request = urllib.request.Request(url + "/control/faults", headers={"Authorization": f"Bearer {TOKEN}"})
    with urllib.request.urlopen(request, timeout=5) as resp:
        faults: list[dict[str, Any]] = json.load(resp)["faults"]
    return faults


def test_standalone_user_times_the_stream_and_counts_each_request_once(tmp_path: Path) -> None:
    with FakeProviderThread(latency="none", seed=0, control_token=TOKEN) as provider:
        exp_file = tmp_path / "exp.yaml"
        exp_file.write_text(yaml.safe_dump(_experiment(provider.url)))
        records_file = tmp_path / "records.jsonl"
        _warm_up(provider.url)  # the first call pays for the tokenizer: not what is measured here
        command = [sys.executable, "-m", "locust", "-f", str(LOCUSTFILE), "--headless", "--only-summary"]
        command += ["--json-file", str(tmp_path / "stats"), "--rehearse-records", str(records_file)]
        command += ["--rehearse-provider", provider.url, "--rehearse-phase-faults"]
        done = subprocess.run(
            command,
            env={**os.environ, "REHEARSE_EXPERIMENT": str(exp_file), "REHEARSE_CONTROL_TOKEN": TOKEN},
            cwd=tmp_path,
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert done.returncode == 0, done.stderr[-2000:]
        ledger = _ledger(provider, REQUESTS)
        assert _faults(provider.url) == []  # the phase fault is gone with the test

    lines = [json.loads(line) for line in records_file.read_text().splitlines()]
    assert lines[0]["kind"] == "start"
    records = [line["record"] for line in lines[1:]]
    assert sorted(r["seq"] for r in records) == list(range(REQUESTS))
    assert {r["id"] for r in records} == {call.request_id for call in ledger}
    stats = json.loads((tmp_path / "stats.json").read_text())
    assert sum(e["num_requests"] for e in stats) == len(records) == len(ledger) == REQUESTS
    assert "LLM timings" in done.stdout

    provider_ttft = {call.request_id: call.ttft_ms / 1000 for call in ledger if call.ttft_ms is not None}
    for r in records:
        assert (r["status"], r["error"]) == (200, None)
        ttft = r["first_content_s"] - r["scheduled_s"]
        assert TTFT_S - 0.01 <= ttft <= TTFT_S + 0.25, r
        assert abs(ttft - provider_ttft[r["id"]]) <= 0.1
        # Chunks arrive paced after the first: timed one by one, not at the end of the body.
        content = [t for t in r["chunk_s"] if t >= r["first_content_s"]]
        assert len(content) >= 4
        assert content[-1] - content[0] >= 3 * INTER_TOKEN_S * 0.8
    # Locust's own timing ends at the headers of a stream, well before the first token.
    assert max(e["max_response_time"] for e in stats) < TTFT_S * 1000

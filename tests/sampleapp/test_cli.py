"""`rehearse sample-app` as a user runs it: a real process, its first line, signals, exit codes."""

from __future__ import annotations

import json
import queue
import re
import signal
import socket
import subprocess
import sys
import threading
import urllib.request
from pathlib import Path

from fakeprovider import FakeProviderThread

START_TIMEOUT_S = 30  # importing the SDK and the tokenizer takes seconds on a busy machine
STOP_TIMEOUT_S = 10


def _sample_app(*args: str) -> list[str]:
    return [sys.executable, "-m", "harness.cli", "sample-app", *args]


def _first_line(proc: subprocess.Popen[str], timeout: float) -> str:
    """The first stdout line, or "" if the process ends (or stays silent) first."""
    assert proc.stdout is not None
    lines: queue.Queue[str] = queue.Queue()
    stdout = proc.stdout
    threading.Thread(target=lambda: lines.put(stdout.readline()), daemon=True).start()
    try:
        return lines.get(timeout=timeout)
    except queue.Empty:
        return ""


def _summarize(url: str, request_id: str) -> dict[str, object]:
    req = urllib.request.Request(
        url + "/summarize",
        data=json.dumps({"text": "hello"}).encode(),
        headers={"Content-Type": "application/json", "X-Request-Id": request_id},
    )
    with urllib.request.urlopen(req, timeout=10) as resp:
        body: dict[str, object] = json.load(resp)
    return body


def test_sample_app_prints_its_url_answers_and_stops_cleanly_on_sigterm_and_sigint(
    provider: FakeProviderThread,
) -> None:
    # Two apps at once (one per signal): each start pays for its imports, and they need not queue.
    args = ["--port", "0", "--provider-url", provider.url, "--flaw", "silent_fallback"]
    procs = {
        sig: subprocess.Popen(_sample_app(*args), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        for sig in (signal.SIGTERM, signal.SIGINT)
    }
    try:
        for sig, proc in procs.items():
            line = _first_line(proc, START_TIMEOUT_S)
            m = re.fullmatch(r"listening on (http://127\.0\.0\.1:(\d+))\n", line)
            assert m is not None, f"unexpected first line: {line!r}"
            assert int(m.group(2)) > 0
            assert _summarize(m.group(1), f"r-{sig.name}")["model"] == "gpt-4o"
            proc.send_signal(sig)
            out, err = proc.communicate(timeout=STOP_TIMEOUT_S)
            assert proc.returncode == 0, err
            assert out == ""  # nothing after the `listening on` line
            assert "Traceback" not in err
    finally:
        for proc in procs.values():
            if proc.poll() is None:
                proc.kill()
                proc.communicate(timeout=STOP_TIMEOUT_S)
    assert [r.request_id for r in provider.state.ledger.records()] == ["r-SIGTERM", "r-SIGINT"]


def test_bad_start_up_input_exits_2_with_one_clear_line(tmp_path: Path) -> None:
    config = tmp_path / "app.yaml"
    config.write_text("retry:\n  max_attemps: 5\n")
    provider_url = "http://127.0.0.1:9"
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = str(taken.getsockname()[1])
        cases = {
            "unknown flaw": (
                ["--port", "0", "--provider-url", provider_url, "--flaw", "flaky"],
                "unknown flaw 'flaky' (known: unbounded_retries, silent_fallback, no_token_cap, "
                "ignore_retry_after, no_attribution, no_request_id, no_breaker, serves_truncated, no_cache, "
                "no_read_timeout)",
            ),
            "bad config": (
                ["--port", "0", "--provider-url", provider_url, "--config", str(config)],
                f"{config}: retry.max_attemps: unknown field",
            ),
            "port in use": (
                ["--port", port, "--provider-url", provider_url],
                f"cannot listen on 127.0.0.1:{port}: the port is in use",
            ),
            "no provider": (
                ["--port", "0"],
                "--provider-url is required (e.g. the URL `rehearse serve` prints)",
            ),
        }
        # All at once: each start pays for its imports, and they need not queue.
        procs = {
            name: subprocess.Popen(
                _sample_app(*args), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
            )
            for name, (args, _) in cases.items()
        }
        try:
            results = {name: p.communicate(timeout=START_TIMEOUT_S) for name, p in procs.items()}
        finally:
            for p in procs.values():
                if p.poll() is None:
                    p.kill()
                    p.communicate(timeout=STOP_TIMEOUT_S)
    for name, (_, expected) in cases.items():
        out, err = results[name]
        assert procs[name].returncode == 2, (name, err)
        assert out == "", name
        assert err.splitlines() == [f"rehearse sample-app: {expected}"], name

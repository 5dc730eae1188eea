"""`rehearse record` as a user runs it: a real process in front of a real provider, a signal to stop."""

from __future__ import annotations

import json
import signal
import socket
import subprocess
import sys
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from fakeprovider.replay.cassette import REDACTED, iter_exchanges
from fakeprovider.server import FakeProviderThread
from tests.harness.test_cli import START_TIMEOUT_S, STOP_TIMEOUT_S, _first_line, _url_of

KEY = "sk-cli-secret-77aa"


@pytest.fixture(scope="module")
def upstream() -> Iterator[FakeProviderThread]:
    with FakeProviderThread(latency="none", warm=False) as provider:
        yield provider


def _record(*args: str) -> list[str]:
    return [sys.executable, "-m", "harness.cli", "record", *args]


def test_record_prints_its_url_records_a_call_and_stops_on_sigterm(
    upstream: FakeProviderThread, tmp_path: Path
) -> None:
    cassette = tmp_path / "cassette"
    proc = subprocess.Popen(
        _record("--upstream", upstream.url, "--cassette", str(cassette)),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        url = _url_of(_first_line(proc, START_TIMEOUT_S))
        request = urllib.request.Request(
            url + "/v1/chat/completions",
            data=json.dumps({"model": "gpt-4o", "messages": [{"role": "user", "content": "hi"}]}).encode(),
            headers={"Content-Type": "application/json", "Authorization": f"Bearer {KEY}"},
        )
        with urllib.request.urlopen(request, timeout=10) as resp:
            answer = json.load(resp)
        proc.send_signal(signal.SIGTERM)
        out, err = proc.communicate(timeout=STOP_TIMEOUT_S)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.communicate(timeout=STOP_TIMEOUT_S)
    assert proc.returncode == 0
    assert out == ""
    assert "Traceback" not in err
    [x] = iter_exchanges(cassette)  # written before the process ended
    assert (x.api, x.model, x.stream) == ("openai.chat", "gpt-4o", False)
    assert x.response.body == answer
    assert x.request.headers["authorization"] == REDACTED
    assert KEY not in next(cassette.iterdir()).read_text()


def test_record_on_a_port_in_use_exits_2_naming_it(tmp_path: Path) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        proc = subprocess.run(
            _record("--upstream", "http://127.0.0.1:1", "--port", str(port), "--cassette", str(tmp_path)),
            capture_output=True,
            text=True,
            timeout=START_TIMEOUT_S,
        )
    assert proc.returncode == 2
    assert f"127.0.0.1:{port}: the port is in use" in proc.stderr
    assert "Traceback" not in proc.stderr


def test_record_with_a_bad_upstream_exits_2_naming_it(tmp_path: Path) -> None:
    proc = subprocess.run(
        _record("--upstream", "api.openai.com", "--cassette", str(tmp_path)),
        capture_output=True,
        text=True,
        timeout=START_TIMEOUT_S,
    )
    assert proc.returncode == 2
    assert "--upstream 'api.openai.com': expected an http:// or https:// URL" in proc.stderr

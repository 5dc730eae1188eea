"""`rehearse toxiproxy` as a user runs it: a real process, toxiproxy-python, signals, exit codes."""

from __future__ import annotations

import json
import queue
import re
import signal
import socket
import subprocess
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager

import pytest

from harness.network.api import TOXIPROXY_VERSION
from harness.network.client import toxiproxy_client
from tests.harness.network.conftest import Upstream, dial, round_trip

START_TIMEOUT_S = 20
STOP_TIMEOUT_S = 10


def _first_line(proc: subprocess.Popen[str]) -> str:
    assert proc.stdout is not None
    lines: queue.Queue[str] = queue.Queue()
    stdout = proc.stdout
    threading.Thread(target=lambda: lines.put(stdout.readline()), daemon=True).start()
    try:
        return lines.get(timeout=START_TIMEOUT_S)
    except queue.Empty:
        return ""


@contextmanager
def _toxiproxy(*args: str) -> Iterator[tuple[subprocess.Popen[str], str]]:
    """`rehearse toxiproxy ARGS`, always stopped when the block ends."""
    proc = subprocess.Popen(
        [sys.executable, "-m", "harness.cli", "toxiproxy", *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        yield proc, _first_line(proc)
    finally:
        if proc.poll() is None:
            proc.kill()
        proc.communicate(timeout=STOP_TIMEOUT_S)


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT])
def test_toxiproxy_prints_its_url_serves_the_api_and_stops_cleanly_on_signal(
    sig: signal.Signals, echo_upstream: Upstream
) -> None:
    with _toxiproxy("--port", "0") as (proc, line):
        m = re.fullmatch(r"listening on (http://127\.0\.0\.1:(\d+))\n", line)
        assert m is not None, f"unexpected first line: {line!r}"
        client = toxiproxy_client(m.group(1))
        assert json.loads(client.version()) == {"version": TOXIPROXY_VERSION}
        proxy = client.create(upstream=echo_upstream.address, name="echo")
        proxy.add_toxic(type="latency", attributes={"latency": 100})
        with dial(proxy.listen) as conn:
            assert round_trip(conn) >= 0.1
        proc.send_signal(sig)
        _, err = proc.communicate(timeout=STOP_TIMEOUT_S)
        assert proc.returncode == 0, err
        assert err.strip().splitlines()[-1] == "stopped"
        with pytest.raises(ConnectionRefusedError):
            dial(proxy.listen)


def test_toxiproxy_on_a_port_in_use_exits_2_with_one_line() -> None:
    with socket.create_server(("127.0.0.1", 0)) as taken:
        port = taken.getsockname()[1]
        with _toxiproxy("--port", str(port)) as (proc, line):
            _, err = proc.communicate(timeout=STOP_TIMEOUT_S)
    assert line == ""
    assert proc.returncode == 2
    assert err.splitlines() == [f"rehearse toxiproxy: cannot listen on 127.0.0.1:{port}: the port is in use"]


def test_toxiproxy_refuses_a_bad_port_with_a_usage_error() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "harness.cli", "toxiproxy", "--port", "99999"],
        capture_output=True,
        text=True,
        timeout=STOP_TIMEOUT_S * 2,
        check=False,
    )
    assert result.returncode == 2
    assert "port must be 0-65535, got 99999" in result.stderr

"""`rehearse serve` and `rehearse demo` as a user runs them: real processes, signals, exit codes."""

from __future__ import annotations

import json
import os
import queue
import re
import signal
import socket
import subprocess
import sys
import threading
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from fakeprovider.threaded import is_loopback_host
from harness.cli import main

START_TIMEOUT_S = 30  # importing the tokenizer alone takes a second or two on a busy machine
STOP_TIMEOUT_S = 5


def _rehearse(*args: str) -> list[str]:
    return [sys.executable, "-m", "harness.cli", *args]


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


@contextmanager
def _serve(*args: str, pass_fds: tuple[int, ...] = ()) -> Iterator[tuple[subprocess.Popen[str], str]]:
    """`rehearse serve --port 0 --latency none ARGS`, always stopped when the block ends."""
    proc = subprocess.Popen(
        _rehearse("serve", "--port", "0", "--latency", "none", *args),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        pass_fds=pass_fds,
    )
    try:
        yield proc, _first_line(proc, START_TIMEOUT_S)
    finally:
        if proc.poll() is None:
            proc.kill()
        proc.communicate(timeout=STOP_TIMEOUT_S)


def _url_of(line: str) -> str:
    m = re.fullmatch(r"listening on (http://127\.0\.0\.1:(\d+))\n", line)
    assert m is not None, f"unexpected first line: {line!r}"
    assert int(m.group(2)) > 0
    return m.group(1)


def _chat(url: str) -> dict[str, object]:
    req = urllib.request.Request(
        url + "/v1/chat/completions",
        data=json.dumps({"model": "gpt-4o", "messages": [{"role": "user", "content": "hi"}]}).encode(),
        headers={"Content-Type": "application/json", "Authorization": "Bearer sk-test"},
    )
    with urllib.request.urlopen(req, timeout=10) as resp:
        body: dict[str, object] = json.load(resp)
    return body


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT])
def test_serve_prints_its_url_answers_and_stops_cleanly_on_signal(
    sig: signal.Signals, tmp_path: Path
) -> None:
    ledger = tmp_path / "calls.jsonl"
    with _serve("--ledger", str(ledger)) as (proc, line):
        url = _url_of(line)
        assert _chat(url)["object"] == "chat.completion"
        assert len(ledger.read_text().splitlines()) == 1
        proc.send_signal(sig)
        out, err = proc.communicate(timeout=STOP_TIMEOUT_S)
        assert proc.returncode == 0
        assert "Traceback" not in err
        assert out == ""  # nothing after the `listening on` line
    assert json.loads(ledger.read_text())["model"] == "gpt-4o"


def test_serve_serves_on_a_socket_its_supervisor_bound_and_listens_on() -> None:
    # What `rehearse run` does to know the provider's URL before the provider is ready.
    with socket.create_server(("127.0.0.1", 0)) as sock:
        port = sock.getsockname()[1]
        fd = sock.fileno()
        with _serve("--listen-fd", str(fd), pass_fds=(fd,)) as (proc, line):
            sock.close()  # the supervisor's copy: from here on only the provider holds it
            url = _url_of(line)
            assert url == f"http://127.0.0.1:{port}"
            assert _chat(url)["object"] == "chat.completion"
            proc.send_signal(signal.SIGTERM)
            _, err = proc.communicate(timeout=STOP_TIMEOUT_S)
            assert proc.returncode == 0, err
    with pytest.raises(ConnectionRefusedError):  # stopping it closed the socket
        socket.create_connection(("127.0.0.1", port), timeout=5).close()
    # A descriptor that is no socket is refused in one line.
    proc = subprocess.run(
        _rehearse("serve", "--listen-fd", "0"),
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=START_TIMEOUT_S,
    )
    assert proc.returncode == 2
    assert proc.stderr.startswith("rehearse serve: --listen-fd 0: not a listening socket ("), proc.stderr


@pytest.mark.parametrize("command", ["serve", "toxiproxy"])
def test_a_bind_address_beyond_loopback_is_warned_about(command: str) -> None:
    # 192.0.2.1 (TEST-NET-1) is no address of this machine: the bind fails, after the warning,
    # and nothing listens beyond loopback.
    proc = subprocess.run(
        _rehearse(command, "--host", "192.0.2.1", "--port", "0"),
        capture_output=True,
        text=True,
        timeout=START_TIMEOUT_S,
    )
    assert proc.returncode == 2
    assert f"rehearse {command}: warning: --host 192.0.2.1 is not a loopback address" in proc.stderr


@pytest.mark.parametrize(
    ("host", "loopback"),
    [
        ("127.0.0.1", True),
        ("127.9.9.9", True),
        ("::1", True),
        ("[::1]", True),
        ("localhost", True),
        ("0.0.0.0", False),
        ("::", False),
        ("10.0.0.1", False),
        ("example.com", False),
    ],
)
def test_loopback_hosts_are_told_apart(host: str, loopback: bool) -> None:
    assert is_loopback_host(host) is loopback


@pytest.mark.skipif(not Path("/dev/full").exists(), reason="needs /dev/full (a full disk on demand)")
def test_serve_with_its_ledger_on_a_full_disk_answers_says_so_once_and_stops_with_0() -> None:
    with _serve("--ledger", "/dev/full") as (proc, line):
        url = _url_of(line)
        for _ in range(3):
            assert _chat(url)["object"] == "chat.completion"
        proc.send_signal(signal.SIGTERM)
        _, err = proc.communicate(timeout=STOP_TIMEOUT_S)
        assert proc.returncode == 0
        assert "Traceback" not in err
        assert err.count("ledger file /dev/full: No space left on device") == 1


def test_serve_on_a_port_in_use_exits_2_naming_the_port() -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        proc = subprocess.run(
            _rehearse("serve", "--port", str(port), "--latency", "none"),
            capture_output=True,
            text=True,
            timeout=START_TIMEOUT_S,
        )
    assert proc.returncode == 2
    assert proc.stdout == ""
    assert f"127.0.0.1:{port}" in proc.stderr
    assert "in use" in proc.stderr
    assert "Traceback" not in proc.stderr


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (None, r"missing\.yaml: cannot read scenario: No such file or directory"),
        ("seed: 1\nmodels: x: y\n", r"bad\.yaml: invalid YAML \(line 2, column 10\)"),
        (
            "seed: 1\nresponses:\n  - reply: {content: a}\n    matchh: {}\n",
            r"bad\.yaml: responses\.0\.matchh: unknown field",
        ),
        ("models: {house: {input_per_m: 1}}\n", r"bad\.yaml: models\.house: unknown model; give `api`"),
    ],
)
def test_serve_with_a_bad_scenario_exits_2_naming_file_and_field(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], text: str | None, expected: str
) -> None:
    path = tmp_path / ("missing.yaml" if text is None else "bad.yaml")
    if text is not None:
        path.write_text(text)
    assert main(["serve", "--port", "0", "--latency", "none", "--scenario", str(path)]) == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    assert re.search(r"^rehearse serve: .*" + expected, captured.err)
    assert str(path) in captured.err


@pytest.mark.parametrize("where", ["missing-dir/calls.jsonl", "."])
def test_serve_with_an_unwritable_ledger_exits_2(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], where: str
) -> None:
    path = tmp_path / where
    assert main(["serve", "--port", "0", "--latency", "none", "--ledger", str(path)]) == 2
    err = capsys.readouterr().err
    assert err.startswith("rehearse serve: cannot open ledger file")
    assert str(path) in err


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        (None, r"no such cassette directory"),
        (
            '{"rehearsal_cassette": 1, "api": "openai.chat", "model": null, "stream": "yes"}',
            r"stream: expected",
        ),
        ("{not json", r"not JSON"),
    ],
)
def test_serve_with_a_bad_cassette_exits_2_naming_file_and_field(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], content: str | None, expected: str
) -> None:
    directory = tmp_path / ("missing" if content is None else "cassette")
    if content is not None:
        directory.mkdir()
        (directory / "000001-openai.chat-x-00000000.json").write_text(content)
    assert main(["serve", "--port", "0", "--latency", "none", "--replay", str(directory)]) == 2
    err = capsys.readouterr().err
    assert re.search(r"^rehearse serve: .*" + expected, err)
    assert str(directory) in err


@pytest.mark.parametrize("speed", ["0", "-1", "fast", "inf"])
def test_serve_with_a_bad_replay_speed_is_a_usage_error(
    capsys: pytest.CaptureFixture[str], speed: str
) -> None:
    with pytest.raises(SystemExit) as info:
        main(["serve", "--replay", ".", "--replay-speed", speed])
    assert info.value.code == 2
    assert "--replay-speed" in capsys.readouterr().err


def test_serve_with_a_bad_port_is_a_usage_error(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as info:
        main(["serve", "--port", "70000"])
    assert info.value.code == 2
    assert "port must be 0-65535" in capsys.readouterr().err


def test_help_lists_the_subcommands(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as info:
        main(["--help"])
    assert info.value.code == 0
    out = " ".join(capsys.readouterr().out.split())
    assert "serve" in out
    assert "demo" in out
    # It says what the tool is for and what its exit statuses mean, not how it is built.
    assert "fake model provider that fails on purpose" in out
    assert "0 every check held, 1 a check failed, 2 bad input" in out


def test_demo_runs_and_prints_the_ledger_summary() -> None:
    proc = subprocess.run(
        _rehearse("demo", "--latency", "none"),
        capture_output=True,
        text=True,
        timeout=60,
        env={**os.environ, "COLUMNS": "120"},
    )
    assert proc.returncode == 0, proc.stderr
    out = proc.stdout
    assert "ledger summary by route" in out
    for route in ("summarize", "chat", "extract", "embed", "total"):
        assert re.search(rf"\b{route}\b", out), route
    assert "Traceback" not in proc.stderr


@pytest.mark.parametrize(
    ("flag", "env", "message"),
    [
        (["--time-scale", "0"], None, "--time-scale must be > 0, got 0"),
        ([], "fast", "REHEARSE_TIME_SCALE must be a number > 0, got 'fast'"),
        ([], "-1", "REHEARSE_TIME_SCALE must be > 0, got -1"),
    ],
)
def test_run_refuses_a_bad_time_scale_before_anything_starts(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    flag: list[str],
    env: str | None,
    message: str,
) -> None:
    if env is not None:
        monkeypatch.setenv("REHEARSE_TIME_SCALE", env)
    assert main(["run", str(tmp_path / "missing.yaml"), *flag]) == 2
    assert message in capsys.readouterr().err


def test_run_refuses_an_unknown_sample_flaw(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["run", str(tmp_path / "missing.yaml"), "--sample-flaw", "typo"]) == 2
    err = capsys.readouterr().err
    assert "unknown --sample-flaw 'typo'; known: " in err
    assert "silent_fallback" in err

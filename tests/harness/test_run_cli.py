"""`rehearse run` as a user runs it: a real process, its exit status, its messages and files;
an embedded provider started as a child; Ctrl-C and a crashed child mid-run.

The target is `target_app` in this process; the provider is either a `FakeProviderThread` here
(`--provider-url`) or the run's own child (`provider: {port: N}`, N picked here so that the target
knows it in advance). Every process and port opened here is closed again.
"""

from __future__ import annotations

import json
import queue
import random
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.request
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from contextlib import closing, contextmanager
from pathlib import Path
from typing import Any

import psutil
import pytest
import yaml

from fakeprovider import FakeProviderThread
from tests.harness.target_app import serve_target

OUTAGE = {"fault": {"kind": "http_error", "status": 503}, "match": {"model": "gpt-4o"}}
RUN_TIMEOUT_S = 30


def rehearse(*args: str | Path) -> list[str]:
    return [sys.executable, "-m", "harness.cli", *map(str, args)]


def free_port() -> int:
    with closing(socket.socket()) as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
    return port


def experiment(
    path: str = "/good",
    phases: list[dict[str, Any]] | None = None,
    contract: list[dict[str, Any]] | None = None,
    provider: dict[str, Any] | None = None,
    target_url: str = "http://127.0.0.1:9",
) -> dict[str, Any]:
    exp: dict[str, Any] = {
        "title": f"cli {path}",
        "target": {
            "url": target_url,
            "request": {"path": path, "json": {"text": "{{ faker.sentence() }} {{ seq }}"}},
            "timeout_s": 10,
        },
        "load": {"mode": "open", "rate": 20},
        "phases": phases or [{"name": "steady", "duration_s": 0.5}],
        "contract": contract or [{"error_rate": {"max": 0}}, {"retries": {"max_attempts_per_request": 3}}],
    }
    if provider is not None:
        exp["provider"] = provider
    return exp


def write(path: Path, exp: dict[str, Any]) -> Path:
    path.write_text(yaml.safe_dump(exp, sort_keys=False))
    return path


def faults_on(provider_url: str) -> list[dict[str, Any]]:
    with urllib.request.urlopen(provider_url + "/control/faults", timeout=5) as resp:
        faults: list[dict[str, Any]] = json.load(resp)["faults"]
    return faults


def journal(path: Path) -> dict[str, Any]:
    data: dict[str, Any] = json.loads(path.read_text())
    return data


def unique_seed() -> int:
    """A provider seed that tells this test's `rehearse serve` children from any other's (another
    pytest session may be running these tests at the same time)."""
    return random.SystemRandom().randrange(10**6, 10**12)


def serve_processes(seed: int) -> list[psutil.Process]:
    """Live `rehearse serve` processes started with this provider seed (`unique_seed`)."""
    found = []
    for proc in psutil.process_iter(["cmdline"]):
        cmd = proc.info["cmdline"] or []
        if "serve" in cmd and "--seed" in cmd and cmd[cmd.index("--seed") + 1 :][:1] == [str(seed)]:
            found.append(proc)
    return found


@pytest.fixture(scope="module")
def stack() -> Iterator[tuple[str, str]]:
    """An external provider and the target app in front of it: (provider URL, target URL)."""
    with FakeProviderThread(latency="none", seed=0) as provider, serve_target(provider.url) as target:
        yield provider.url, target


class Running:
    """`rehearse run` in the background, its stderr collected line by line."""

    def __init__(self, args: list[str]) -> None:
        self.proc = subprocess.Popen(args, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        self.lines: queue.Queue[str] = queue.Queue()
        self.err: list[str] = []
        self.out = ""
        stderr = self.proc.stderr
        assert stderr is not None
        self._reader = threading.Thread(target=lambda: [self.lines.put(line) for line in stderr], daemon=True)
        self._reader.start()

    def wait_for(self, text: str, timeout_s: float = RUN_TIMEOUT_S) -> None:
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            try:
                line = self.lines.get(timeout=0.1)
            except queue.Empty:
                if self.proc.poll() is not None and self.lines.empty():
                    break
                continue
            self.err.append(line)
            if text in line:
                return
        raise AssertionError(f"no {text!r} on stderr; got:\n{''.join(self.err)}")

    def finish(self, timeout_s: float = RUN_TIMEOUT_S) -> int:
        assert self.proc.stdout is not None
        self.out = self.proc.stdout.read() if self.proc.wait(timeout_s) is not None else ""
        self._reader.join(5)
        while not self.lines.empty():
            self.err.append(self.lines.get())
        return self.proc.returncode

    @property
    def stderr(self) -> str:
        return "".join(self.err)

    def close(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
        self.proc.wait(10)
        for stream in (self.proc.stdout, self.proc.stderr):
            if stream is not None:
                stream.close()


@contextmanager
def running(args: list[str]) -> Iterator[Running]:
    run = Running(args)
    try:
        yield run
    finally:
        run.close()


# Started first and checked last: the run waits 15 s for a target that never comes up, and that
# wait overlaps the other tests of this module instead of adding to them.
DOWN_SEED = unique_seed()


@pytest.fixture(scope="module", autouse=True)
def target_down_run(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Running, int, Path]]:
    tmp = tmp_path_factory.mktemp("down")
    # Bound but not listening: the port is ours, and every connection to it is refused.
    with closing(socket.socket()) as held:
        held.bind(("127.0.0.1", 0))
        port = held.getsockname()[1]
        exp = experiment(
            provider={"latency": "none", "seed": DOWN_SEED}, target_url=f"http://127.0.0.1:{port}"
        )
        source = write(tmp / "down.yaml", exp)
        with running(rehearse("run", source, "--json", tmp / "down.json")) as run:
            yield run, port, tmp / "down.json"


def test_exit_0_when_every_clause_holds(tmp_path: Path, stack: tuple[str, str]) -> None:
    provider, target = stack
    source = write(tmp_path / "ok.yaml", experiment("/good"))
    result = subprocess.run(
        rehearse("run", source, "--provider-url", provider, "--target-url", target),
        capture_output=True,
        text=True,
        timeout=RUN_TIMEOUT_S,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "PASS" in result.stdout
    assert "FAIL" not in result.stdout
    assert "running cli /good" in result.stderr  # the progress lines
    assert faults_on(provider) == []


def test_exit_1_when_a_clause_fails_with_every_report_written(tmp_path: Path, stack: tuple[str, str]) -> None:
    provider, target = stack
    folder = tmp_path / "experiments"
    folder.mkdir()
    write(folder / "a_holds.yaml", experiment("/good"))
    write(
        folder / "b_breaks.yaml",
        experiment(
            "/unbounded_retries",
            phases=[{"name": "outage", "duration_s": 0.5, "faults": [OUTAGE]}],
            contract=[{"retries": {"max_attempts_per_request": 3}}, {"error_rate": {"max": 1}}],
        ),
    )
    out = tmp_path / "out"
    result = subprocess.run(
        rehearse(
            "run",
            folder,
            "--provider-url",
            provider,
            "--target-url",
            target,
            "--json",
            out / "run.json",
            "--junit",
            out / "junit.xml",
            "--html",
            out / "report.html",
        ),
        capture_output=True,
        text=True,
        timeout=RUN_TIMEOUT_S,
    )
    assert result.returncode == 1, result.stdout + result.stderr
    assert faults_on(provider) == []

    first, second = journal(out / "run.json"), journal(out / "run.2.json")
    assert first["source"].endswith("a_holds.yaml")
    assert second["source"].endswith("b_breaks.yaml")
    assert first["status"] == second["status"] == "completed"
    assert [r["verdict"] for r in first["results"]] == ["pass", "pass"]
    assert [r["verdict"] for r in second["results"]] == ["fail", "pass"]
    assert second["requests"]
    assert second["ledger"]
    assert second["metric_definitions"]
    assert all(r["id"] for r in second["requests"])

    suites = ET.parse(out / "junit.xml").getroot().findall("testsuite")
    assert [len(s.findall("testcase")) for s in suites] == [2, 2]
    failed = [c.get("name") for s in suites for c in s.findall("testcase") if c.find("failure") is not None]
    assert len(failed) == 1
    assert "retries" in str(failed[0])

    html = (out / "report.html").read_text()
    assert html.lstrip().lower().startswith("<!doctype html")
    assert "<svg" in html
    assert "<script src" not in html
    assert 'href="http' not in html

    for path in ("run.json", "junit.xml", "report.html"):
        assert f"wrote {out / path}" in result.stderr


def test_an_invalid_file_exits_2_before_anything_starts(tmp_path: Path) -> None:
    folder = tmp_path / "experiments"
    folder.mkdir()
    seed = unique_seed()
    write(folder / "a_valid.yaml", experiment(provider={"latency": "none", "seed": seed}))
    bad = experiment(provider={"latency": "none", "seed": seed})
    bad["load"]["rate"] = -5
    write(folder / "b_invalid.yaml", bad)
    result = subprocess.run(
        rehearse("run", folder, "--json", tmp_path / "j.json"), capture_output=True, text=True, timeout=60
    )
    line = (folder / "b_invalid.yaml").read_text().splitlines().index("  rate: -5") + 1
    assert result.returncode == 2
    assert result.stderr.splitlines()[0] == (
        f"{folder / 'b_invalid.yaml'}: load.rate (line {line}): Input should be greater than 0 (got -5)"
    )
    assert "running" not in result.stderr
    assert result.stdout == ""
    assert not (tmp_path / "j.json").exists()  # no run, no journal


def test_a_remote_target_is_refused_without_allow_remote_target(tmp_path: Path) -> None:
    seed = unique_seed()
    source = write(tmp_path / "remote.yaml", experiment(provider={"latency": "none", "seed": seed}))
    # TEST-NET-1 (RFC 5737): refused before any connection, and never routed anyway.
    result = subprocess.run(
        rehearse("run", source, "--target-url", "http://192.0.2.1:80", "--json", tmp_path / "j.json"),
        capture_output=True,
        text=True,
        timeout=RUN_TIMEOUT_S,
    )
    assert result.returncode == 2
    assert (
        f"rehearse run: {source}: target http://192.0.2.1:80 is not a loopback address; "
        "pass --allow-remote-target to send load to it"
    ) in result.stderr
    partial = journal(tmp_path / "j.json")
    assert partial["status"] == "error"
    assert partial["requests"] == []
    assert serve_processes(seed) == []


def test_a_provider_port_in_use_exits_2_naming_the_port(tmp_path: Path, stack: tuple[str, str]) -> None:
    _, target = stack
    seed = unique_seed()
    with closing(socket.socket()) as held:
        held.bind(("127.0.0.1", 0))
        held.listen()
        port = held.getsockname()[1]
        source = write(
            tmp_path / "busy.yaml", experiment(provider={"port": port, "latency": "none", "seed": seed})
        )
        result = subprocess.run(
            rehearse("run", source, "--target-url", target, "--json", tmp_path / "j.json"),
            capture_output=True,
            text=True,
            timeout=RUN_TIMEOUT_S,
        )
    assert result.returncode == 2, result.stderr
    assert "fake provider failed to start" in result.stderr
    assert f"127.0.0.1:{port}: the port is in use" in result.stderr
    partial = journal(tmp_path / "j.json")
    assert partial["status"] == "error"
    assert "port is in use" in partial["error"]
    assert serve_processes(seed) == []


def test_ctrl_c_mid_run_stops_the_embedded_provider_and_exits_2(tmp_path: Path) -> None:
    port, seed = free_port(), unique_seed()
    source = write(
        tmp_path / "long.yaml",
        experiment(
            phases=[
                {"name": "steady", "duration_s": 0.3},
                {"name": "outage", "duration_s": 20, "faults": [OUTAGE]},
            ],
            provider={"port": port, "latency": "none", "seed": seed},
        ),
    )
    with (
        serve_target(f"http://127.0.0.1:{port}") as target,
        running(rehearse("run", source, "--target-url", target, "--json", tmp_path / "j.json")) as run,
    ):
        run.wait_for("phase outage")
        time.sleep(0.3)  # some requests into the outage
        children = psutil.Process(run.proc.pid).children(recursive=True)
        assert [c.pid for c in children] == [p.pid for p in serve_processes(seed)]
        assert faults_on(f"http://127.0.0.1:{port}") != []  # the phase fault is in force
        sent = time.monotonic()
        run.proc.send_signal(signal.SIGINT)
        status = run.finish(timeout_s=10)
        took = time.monotonic() - sent
    assert status == 2, run.stderr
    assert took < 5, took
    _, alive = psutil.wait_procs(children, timeout=2)
    assert alive == []
    assert serve_processes(seed) == []
    partial = journal(tmp_path / "j.json")
    assert partial["status"] == "aborted"
    assert partial["requests"]  # what was sent before Ctrl-C is kept
    assert {r["phase"] for r in partial["requests"]} == {"steady", "outage"}


def test_ctrl_c_mid_run_removes_its_faults_from_an_external_provider(
    tmp_path: Path, stack: tuple[str, str]
) -> None:
    provider, target = stack
    source = write(
        tmp_path / "long.yaml",
        experiment(
            phases=[
                {"name": "steady", "duration_s": 0.3},
                {"name": "outage", "duration_s": 20, "faults": [OUTAGE]},
            ]
        ),
    )
    args = rehearse("run", source, "--provider-url", provider, "--target-url", target)
    with running(args) as run:
        run.wait_for("phase outage")
        assert [f["name"] for f in faults_on(provider)] == ["outage/http_error-1"]
        run.proc.send_signal(signal.SIGINT)
        status = run.finish(timeout_s=10)
    assert status == 2, run.stderr
    assert faults_on(provider) == []
    assert "aborted" in run.out


def test_a_second_ctrl_c_stops_at_once_and_still_cleans_up(tmp_path: Path, stack: tuple[str, str]) -> None:
    provider, target = stack
    source = write(
        tmp_path / "long.yaml",
        experiment(
            phases=[
                {"name": "steady", "duration_s": 0.3},
                {"name": "outage", "duration_s": 20, "faults": [OUTAGE]},
            ]
        ),
    )
    args = rehearse(
        "run", source, "--provider-url", provider, "--target-url", target, "--json", tmp_path / "j.json"
    )
    with running(args) as run:
        run.wait_for("phase outage")
        run.proc.send_signal(signal.SIGINT)
        time.sleep(0.02)
        run.proc.send_signal(signal.SIGINT)
        status = run.finish(timeout_s=10)
    assert status == 2, run.stderr
    assert "Traceback" not in run.stderr
    assert faults_on(provider) == []
    partial = journal(tmp_path / "j.json")
    assert partial["status"] == "aborted"
    assert partial["phases"][-1]["end_s"] < 5  # the phases as they ran, not as planned


def test_ctrl_c_while_starting_up_stops_the_provider_being_started(tmp_path: Path) -> None:
    seed = unique_seed()
    with closing(socket.socket()) as held:
        held.bind(("127.0.0.1", 0))  # a target that never answers: the run waits for it
        target = f"http://127.0.0.1:{held.getsockname()[1]}"
        source = write(tmp_path / "wait.yaml", experiment(provider={"latency": "none", "seed": seed}))
        with running(rehearse("run", source, "--target-url", target, "--json", tmp_path / "j.json")) as run:
            deadline = time.monotonic() + RUN_TIMEOUT_S
            while not serve_processes(seed) and time.monotonic() < deadline:
                time.sleep(0.05)
            (child,) = serve_processes(seed)
            run.proc.send_signal(signal.SIGINT)
            status = run.finish(timeout_s=10)
    assert status == 2, run.stderr
    assert "Traceback" not in run.stderr
    assert not child.is_running() or child.status() == psutil.STATUS_ZOMBIE
    partial = journal(tmp_path / "j.json")
    assert partial["status"] == "aborted"
    assert partial["error"] == "interrupted before the load started"


def test_a_provider_crash_mid_run_exits_2_naming_it_and_the_next_experiment_still_runs(
    tmp_path: Path,
) -> None:
    port, seed = free_port(), unique_seed()
    folder = tmp_path / "experiments"
    folder.mkdir()
    provider_spec = {"port": port, "latency": "none", "seed": seed}
    crashing = write(
        folder / "a_crash.yaml",
        experiment(phases=[{"name": "steady", "duration_s": 20}], provider=provider_spec),
    )
    write(folder / "b_next.yaml", experiment(contract=[{"error_rate": {"max": 1}}], provider=provider_spec))
    with (
        serve_target(f"http://127.0.0.1:{port}") as target,
        running(rehearse("run", folder, "--target-url", target, "--json", tmp_path / "j.json")) as run,
    ):
        run.wait_for("phase steady")
        time.sleep(0.5)
        (provider,) = serve_processes(seed)
        assert provider.ppid() == run.proc.pid
        provider.kill()
        status = run.finish(timeout_s=RUN_TIMEOUT_S)
    assert status == 2, run.stderr
    assert f"rehearse run: {crashing}: fake provider exited with status -9 during the run" in run.stderr
    partial = journal(tmp_path / "j.json")
    assert partial["status"] == "error"
    assert "fake provider exited" in partial["error"]
    assert partial["requests"]
    assert partial["results"] == []
    assert partial["phases"][-1]["end_s"] < 10  # cut short where the load stopped
    after = journal(tmp_path / "j.2.json")  # a crash is not a Ctrl-C: the next experiment runs
    assert after["status"] == "completed"
    assert [r["verdict"] for r in after["results"]] == ["pass"]
    assert serve_processes(seed) == []


def test_a_target_that_is_down_exits_2_with_a_clear_message(
    target_down_run: tuple[Running, int, Path],
) -> None:
    run, port, journal_path = target_down_run
    status = run.finish(timeout_s=RUN_TIMEOUT_S)
    assert status == 2, run.stderr
    assert f"target http://127.0.0.1:{port} is not reachable after 15 s" in run.stderr
    partial = journal(journal_path)
    assert partial["status"] == "error"
    assert partial["requests"] == []
    assert serve_processes(DOWN_SEED) == []  # its provider was stopped

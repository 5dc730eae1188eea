"""A runner killed with SIGKILL takes its children with it: the fake provider, the sampleapp and
locust's processes stop, and locust's work folder is removed (`harness.lifeline`)."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import psutil
import pytest

from harness.lifeline import child_env

STOP_S = 15.0  # a child's SIGTERM handling, then GRACE_S before SIGKILL, on a busy machine

LONG_RUN = """\
title: a long run to kill
target:
  app: sample
  request: {method: POST, path: /summarize, json: {text: "hello there"}}
provider: {latency: none}
load: {LOAD}
phases: [{name: steady, duration_s: 120}]
contract:
  - error_rate: {max: 1}
"""


def _wait_for(what: str, check: object, timeout_s: float = 60.0) -> None:
    assert callable(check)
    deadline = time.monotonic() + timeout_s
    while not check():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.1)


def _gone(pids: list[int]) -> bool:
    return not [
        p for p in pids if psutil.pid_exists(p) and psutil.Process(p).status() != psutil.STATUS_ZOMBIE
    ]


def test_a_watching_child_stops_and_cleans_up_when_its_parent_end_closes(tmp_path: Path) -> None:
    work = tmp_path / "work"
    work.mkdir()
    (work / "records.jsonl").write_text("{}\n")
    code = "from harness.lifeline import watch_parent; watch_parent(); import time; time.sleep(60)"
    child = subprocess.Popen(
        [sys.executable, "-c", code],
        stdin=subprocess.PIPE,
        env={**os.environ, **child_env(cleanup=work)},
        start_new_session=True,
    )
    try:
        time.sleep(0.5)
        assert child.poll() is None
        assert child.stdin is not None
        child.stdin.close()  # as the kernel does when the parent dies
        assert child.wait(timeout=STOP_S) == -signal.SIGTERM
        assert not work.exists()
    finally:
        if child.poll() is None:
            child.kill()
            child.wait()


def test_a_child_without_the_lifeline_ignores_its_stdin() -> None:
    code = "from harness.lifeline import watch_parent; watch_parent(); import time; time.sleep(1)"
    proc = subprocess.run([sys.executable, "-c", code], stdin=subprocess.DEVNULL, timeout=30, check=False)
    assert proc.returncode == 0


@pytest.mark.timeout(120)
@pytest.mark.parametrize(
    ("load", "children"),
    [
        ("{mode: closed, concurrency: 2}", {"harness.cli serve", "harness.cli sample-app"}),
        (
            "{engine: locust, users: 2, processes: 2}",
            {"harness.cli serve", "harness.cli sample-app", "locust"},
        ),
    ],
    ids=["asyncio", "locust"],
)
def test_sigkill_of_the_runner_stops_every_child_it_started(
    tmp_path: Path, load: str, children: set[str]
) -> None:
    path = tmp_path / "long.yaml"
    path.write_text(LONG_RUN.replace("{LOAD}", load))
    runner = subprocess.Popen(
        [sys.executable, "-m", "harness.cli", "run", str(path)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        stdin=subprocess.DEVNULL,
    )
    pids: list[int] = []
    try:
        me = psutil.Process(runner.pid)

        def started() -> bool:
            cmds = [" ".join(c.cmdline()) for c in me.children(recursive=True)]
            return all(any(name in cmd for cmd in cmds) for name in children)

        _wait_for("the runner's children", started)
        time.sleep(1.0)  # the load is on
        pids += [c.pid for c in me.children(recursive=True)]
        work = [Path(a) for c in me.children(recursive=True) for a in c.cmdline() if "rehearse-locust-" in a]
        runner.send_signal(signal.SIGKILL)
        runner.wait(timeout=10)
        _wait_for("the orphans to stop", lambda: _gone(pids), STOP_S)
        for arg in work:
            folder = next(p for p in [arg, *arg.parents] if p.name.startswith("rehearse-locust-"))
            assert not folder.exists()
    finally:
        if runner.poll() is None:
            runner.kill()
            runner.wait()
        for pid in pids:  # whatever the lifeline failed to stop
            with contextlib.suppress(psutil.Error):
                psutil.Process(pid).kill()

"""The experiment `network` section end to end: the runner puts a Toxiproxy proxy between the
target and the provider, applies run-wide and per-phase toxics, and deletes the proxy at the end
whatever happens.

The Toxiproxy is the project's own, in this process (`TOXIPROXY_URL`), so that the test can see
what is left on it; the target is `target_app`, configured with the port the proxy takes over.
"""

from __future__ import annotations

import json
import socket
import threading
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from rich.console import Console

from fakeprovider import FakeProviderThread
from harness.errors import InvalidExperiment
from harness.experiment.load import load_experiment
from harness.network.server import ToxiproxyServerThread
from harness.report.journal import read_journal
from harness.run.main import main
from harness.run.runner import RunOptions
from tests.harness.target_app import serve_target

BODY = {"text": "{{ faker.sentence() }} #{{ seq }}"}


@pytest.fixture
def toxiproxy_url(monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    with ToxiproxyServerThread("127.0.0.1", 0) as server:
        monkeypatch.setenv("TOXIPROXY_URL", server.url)
        yield server.url


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def proxies(url: str) -> dict[str, Any]:
    with urllib.request.urlopen(url + "/proxies", timeout=5) as resp:
        found: dict[str, Any] = json.load(resp)
    return found


def experiment(
    port: int, phases: list[dict[str, Any]], network: dict[str, Any] | None = None
) -> dict[str, Any]:
    return {
        "title": "network",
        "target": {
            "url": "http://127.0.0.1:9",  # replaced by --target-url
            "request": {"method": "POST", "path": "/good", "json": BODY},
            "timeout_s": 10,
        },
        "provider": {"port": port, "latency": "none"},
        "network": network or {},
        "load": {"mode": "open", "rate": 20},
        "phases": phases,
        "contract": [{"error_rate": {"max": 0}}],
    }


def run(tmp_path: Path, exp: dict[str, Any], target_url: str) -> tuple[int, Any]:
    source = tmp_path / "experiment.yaml"
    source.write_text(yaml.safe_dump(exp, sort_keys=False))
    journal = tmp_path / "journal.json"
    status = main([source], RunOptions(target_url=target_url), json=journal, console=Console(width=200))
    return status, read_journal(journal)[0]


def median_latency_ms(run_: Any, phase: str) -> float:
    values = sorted(r.latency_s for r in run_.requests if r.phase == phase and r.latency_s is not None)
    return values[len(values) // 2] * 1000


@pytest.mark.timeout(60)
def test_a_phase_toxic_slows_only_its_phase_and_the_proxy_is_gone_after(
    tmp_path: Path, toxiproxy_url: str
) -> None:
    port = free_port()  # the target is configured with it; the proxy takes it over
    phases = [
        {"name": "steady", "duration_s": 0.6},
        {"name": "slow", "duration_s": 0.6, "toxics": [{"type": "latency", "attributes": {"latency": 400}}]},
        {"name": "after", "duration_s": 0.6},
    ]
    with serve_target(f"http://127.0.0.1:{port}") as target:
        status, run_ = run(tmp_path, experiment(port, phases), target)
    assert run_.status == "completed", run_.error
    assert status == 0
    assert median_latency_ms(run_, "slow") > median_latency_ms(run_, "steady") + 300
    assert median_latency_ms(run_, "after") < median_latency_ms(run_, "slow") - 300
    assert proxies(toxiproxy_url) == {}


@pytest.mark.timeout(60)
def test_run_wide_toxics_apply_from_the_start(tmp_path: Path, toxiproxy_url: str) -> None:
    port = free_port()
    network = {"toxics": [{"type": "latency", "attributes": {"latency": 300}}]}
    with serve_target(f"http://127.0.0.1:{port}") as target:
        status, run_ = run(tmp_path, experiment(port, [{"name": "run", "duration_s": 0.6}], network), target)
    assert status == 0, run_.error
    assert median_latency_ms(run_, "run") >= 300
    assert proxies(toxiproxy_url) == {}


@pytest.mark.timeout(60)
def test_the_proxy_is_deleted_when_the_run_fails(tmp_path: Path, toxiproxy_url: str) -> None:
    port = free_port()
    exp = experiment(port, [{"name": "run", "duration_s": 0.5}])
    status, run_ = run(tmp_path, exp, f"http://127.0.0.1:{free_port()}")  # nothing listens there
    assert status == 2
    assert run_.status == "error"
    assert "not reachable" in (run_.error or "")
    assert proxies(toxiproxy_url) == {}


def test_the_proxy_takes_the_providers_port_and_the_provider_moves(
    tmp_path: Path, toxiproxy_url: str
) -> None:
    port = free_port()
    with FakeProviderThread(latency="none") as provider, serve_target(f"http://127.0.0.1:{port}") as target:
        exp = experiment(port, [{"name": "run", "duration_s": 0.3}])
        exp["provider"] = {"url": provider.url}
        exp["network"] = {"listen_port": port}
        status, run_ = run(tmp_path, exp, target)
    assert status == 0, run_.error
    assert run_.ledger  # the calls went through the proxy to the provider


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (
            lambda e: e["provider"].pop("port"),
            "network.listen_port",
        ),
        (
            lambda e: e["phases"][0].update(toxics=[{"type": "latency"}, {"type": "latency"}]),
            "a toxic named 'latency_downstream' is already on the proxy",
        ),
        (
            lambda e: e["phases"][0].update(toxics=[{"type": "latency", "attributes": {"latncy": 5}}]),
            "not an attribute of latency",
        ),
        (
            lambda e: e["phases"][0].update(toxics=[{"type": "earthquake"}]),
            "unknown toxic type 'earthquake'",
        ),
        (
            lambda e: (
                e["phases"][0].update(toxics=[{"type": "noop"}]),
                e["load"].update(engine="locust", users=2),
            ),
            "phase toxics need the asyncio engine",
        ),
    ],
)
def test_a_network_section_that_cannot_work_is_refused_before_anything_runs(
    tmp_path: Path, change: Any, message: str
) -> None:
    exp = experiment(8080, [{"name": "run", "duration_s": 1}])
    change(exp)
    path = tmp_path / "experiment.yaml"
    path.write_text(yaml.safe_dump(exp, sort_keys=False))
    with pytest.raises(InvalidExperiment, match=message.replace("(", r"\(")):
        load_experiment(path)


@pytest.mark.timeout(60)
def test_a_toxiproxy_that_dies_mid_run_is_named_in_the_run_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    port = free_port()
    phases = [
        {"name": "steady", "duration_s": 0.8},
        {"name": "slow", "duration_s": 0.5, "toxics": [{"type": "latency", "attributes": {"latency": 100}}]},
    ]
    server = ToxiproxyServerThread("127.0.0.1", 0).start()
    monkeypatch.setenv("TOXIPROXY_URL", server.url)

    def stop_once_the_proxy_is_up() -> None:  # the run is on; the `slow` phase's toxic is yet to come
        while not proxies(server.url):
            time.sleep(0.02)
        server.stop()

    stopper = threading.Thread(target=stop_once_the_proxy_is_up)
    stopper.start()
    try:
        with serve_target(f"http://127.0.0.1:{port}") as target:
            status, run_ = run(tmp_path, experiment(port, phases), target)
    finally:
        stopper.join()
        server.stop()
    assert status == 2
    assert run_.status == "error"
    assert (
        run_.error
        == f"network: the Toxiproxy server at {server.url} stopped answering (crashed or was stopped)"
    )

"""Starting and stopping the provider in-process: async context manager and thread handle."""

from __future__ import annotations

import json
import socket
import time
import urllib.request
from pathlib import Path

import aiohttp
import pytest

from fakeprovider import FakeProvider, FakeProviderThread, ServerError


def _port_is_free(port: int) -> bool:
    """Nothing listens on `port` (TIME_WAIT leftovers of closed connections do not count)."""
    with socket.socket() as s:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            s.bind(("127.0.0.1", port))
            s.listen()
        except OSError:
            return False
    return True


def _health(url: str) -> dict[str, object]:
    with urllib.request.urlopen(url + "/control/health", timeout=5) as resp:
        data: dict[str, object] = json.load(resp)
    return data


async def test_async_context_manager_exposes_url_and_frees_its_port() -> None:
    async with FakeProvider(latency="none") as provider:
        assert provider.url.startswith("http://127.0.0.1:")
        assert provider.port != 0
        async with aiohttp.ClientSession() as session, session.get(provider.url + "/v1/models") as resp:
            assert resp.status == 200
            body = await resp.json()
        assert any(m["id"] == "gpt-4o" for m in body["data"])
        port = provider.port
    assert _port_is_free(port)


def test_thread_handle_exposes_url_and_frees_its_port() -> None:
    with FakeProviderThread(latency="none") as provider:
        assert provider.url == f"http://127.0.0.1:{provider.provider.port}"
        assert _health(provider.url)["status"] == "ok"
        port = provider.provider.port
    assert _port_is_free(port)


def test_two_providers_get_distinct_free_ports() -> None:
    with FakeProviderThread(latency="none") as a, FakeProviderThread(latency="none") as b:
        assert a.url != b.url
        assert _health(a.url)["status"] == _health(b.url)["status"] == "ok"


def test_thread_handle_stops_with_a_stream_in_flight() -> None:
    scenario = {"models": {"glacial": {"like": "gpt-4o", "ttft_ms": 0, "tokens_per_s": 1, "jitter_ms": 0}}}
    provider = FakeProviderThread(latency="realistic", scenario=scenario).start()
    try:
        req = urllib.request.Request(
            provider.url + "/v1/chat/completions",
            data=json.dumps(
                {"model": "glacial", "stream": True, "messages": [{"role": "user", "content": "hi"}]}
            ).encode(),
            headers={"Content-Type": "application/json"},
        )
        resp = urllib.request.urlopen(req, timeout=5)
        resp.readline()  # the stream has begun
    finally:
        t0 = time.monotonic()
        provider.stop()
        elapsed = time.monotonic() - t0
    resp.close()
    # A slow stream does not hold the stop for long (aiohttp would wait 60 s by default).
    assert elapsed < 3
    assert _port_is_free(provider.provider.port)
    # The stream was cut by the stop, not by its caller, and the ledger says so.
    (record,) = provider.state.ledger.records()
    assert (record.status, record.outcome) == (200, "server_stopped")
    assert record.error == "the provider stopped while answering"


def test_port_in_use_raises_server_error_naming_the_port() -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        with pytest.raises(ServerError, match=rf"cannot listen on 127\.0\.0\.1:{port}: the port is in use"):
            FakeProviderThread(latency="none", port=port).start()


async def test_async_start_on_a_used_port_raises_and_closes_the_ledger(tmp_path: Path) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        provider = FakeProvider(port=taken.getsockname()[1], latency="none", ledger=tmp_path / "l.jsonl")
        with pytest.raises(ServerError, match="the port is in use"):
            await provider.start()
    assert provider.state.ledger._sink is None


def test_bad_scenario_raises_server_error_with_the_field_path() -> None:
    with pytest.raises(ServerError, match=r"scenario: bogus: unknown field"):
        FakeProvider(scenario={"bogus": 1})
    with pytest.raises(ServerError, match=r"scenario: responses\.0\.reply: Field required"):
        FakeProvider(scenario="responses: [{}]")
    with pytest.raises(ServerError, match=r"models\.house: unknown model; give `api`"):
        FakeProvider(scenario={"models": {"house": {"input_per_m": 1}}})


def test_missing_scenario_file_raises_server_error_naming_the_file(tmp_path: Path) -> None:
    path = tmp_path / "nope.yaml"
    with pytest.raises(ServerError, match=r"nope\.yaml: cannot read scenario"):
        FakeProvider(scenario=path)


def test_scenario_file_is_loaded(tmp_path: Path) -> None:
    path = tmp_path / "s.yaml"
    path.write_text("seed: 21\n")
    with FakeProviderThread(latency="none", scenario=path) as provider:
        assert _health(provider.url)["seed"] == 21


def test_unwritable_ledger_path_raises_server_error(tmp_path: Path) -> None:
    with pytest.raises(ServerError, match=r"cannot open ledger file .*missing-dir"):
        FakeProvider(ledger=tmp_path / "missing-dir" / "calls.jsonl")
    with pytest.raises(ServerError, match="cannot open ledger file"):
        FakeProvider(ledger=tmp_path)


def test_realistic_provider_is_warm_before_the_first_call() -> None:
    with FakeProviderThread(latency="realistic") as provider:
        pools = provider.state.pools
        # Both content pools exist before any call, so the first call's TTFT is the model's.
        assert set(pools._pools) == {"o200k_base", "cl100k_base"}


def test_scenario_file_name_given_as_text_is_loaded(tmp_path: Path) -> None:
    path = tmp_path / "s.yml"
    path.write_text("seed: 22\n")
    with FakeProviderThread(latency="none", scenario=str(path)) as provider:
        assert _health(provider.url)["seed"] == 22


def test_scenario_yaml_text_is_parsed() -> None:
    with FakeProviderThread(latency="none", scenario="seed: 23") as provider:
        assert _health(provider.url)["seed"] == 23


@pytest.mark.parametrize(("latency", "warm", "warmed"), [("none", None, False), ("none", True, True)])
def test_warm_builds_the_content_pools_before_listening(
    latency: str, warm: bool | None, warmed: bool
) -> None:
    with FakeProviderThread(latency=latency, warm=warm) as p:
        built = set(p.state.pools._pools)
    assert (built == {"o200k_base", "cl100k_base"}) is warmed

"""Starting and stopping the sampleapp in-process: async and thread handles, bad start-up input."""

from __future__ import annotations

import json
import socket
import urllib.request

import pytest

from fakeprovider import FakeProviderThread
from sampleapp import SampleApp, SampleAppError, SampleAppThread, UnknownFlaw
from sampleapp.config import api_base
from tests.sampleapp.conftest import Rig


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


async def test_starting_warms_up_without_calling_the_provider(
    rig: Rig, caplog: pytest.LogCaptureFixture
) -> None:
    async with rig.app():
        pass
    assert rig.calls() == []
    assert not [r for r in caplog.records if r.name == "sampleapp"]  # the SDK warm-up worked


async def test_health_answers_ok_and_the_port_is_freed_on_stop(rig: Rig) -> None:
    async with rig.app() as app:
        async with rig.http.get(app.url + "/health") as resp:
            assert resp.status == 200
            assert await resp.json() == {"status": "ok"}
            assert resp.headers["x-request-id"]
        port = app.port
        assert port > 0
    assert _port_is_free(port)


def test_the_thread_handle_serves_synchronous_callers(provider: FakeProviderThread) -> None:
    with SampleAppThread(provider.url, config={"default_tenant": "acme"}) as app:
        req = urllib.request.Request(
            app.url + "/summarize",
            data=json.dumps({"text": "hello"}).encode(),
            headers={"Content-Type": "application/json"},
        )
        with urllib.request.urlopen(req, timeout=10) as resp:
            assert json.load(resp)["model"] == "gpt-4o"
        port = app.app.port
    assert _port_is_free(port)
    assert provider.state.ledger.records()[0].tags["tenant"] == "acme"


async def test_a_used_port_is_refused_naming_it(provider: FakeProviderThread) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        with pytest.raises(SampleAppError, match=f"cannot listen on 127.0.0.1:{port}: the port is in use"):
            async with SampleApp(provider.url, port=port):
                pass


def test_bad_start_up_input_fails_before_anything_listens() -> None:
    with pytest.raises(UnknownFlaw, match="known: unbounded_retries"):
        SampleApp("http://127.0.0.1:9", flaws=["nope"])
    with pytest.raises(SampleAppError, match="must start with http"):
        SampleApp("127.0.0.1:9")
    with pytest.raises(SampleAppError, match=r"retry\.backoff_s"):
        SampleApp("http://127.0.0.1:9", config={"retry": {"backoff_s": -1}})


def test_the_provider_url_may_be_given_with_or_without_v1() -> None:
    assert api_base("http://127.0.0.1:8000") == "http://127.0.0.1:8000/v1"
    assert api_base("http://127.0.0.1:8000/v1/") == "http://127.0.0.1:8000/v1"


async def test_an_unreachable_provider_is_a_503_after_the_attempts(rig: Rig) -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        dead = f"http://127.0.0.1:{s.getsockname()[1]}"  # bound, not listening: refused
        async with SampleApp(dead, config={"retry": {"backoff_s": 0.01}}) as app:
            reply = await rig.post(app, "/summarize", {"text": "hi"})
    assert reply.status == 503
    assert "APIConnectionError" in reply.json()["error"]["message"]

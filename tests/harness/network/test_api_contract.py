"""toxiproxy-python (the PyPI client) through every call it has, checked over the HTTP API."""

from __future__ import annotations

import json
import re
import socket
from typing import Any

import pytest
from toxiproxy.exceptions import NotFound, ProxyExists

from harness.network import ToxiproxyServerThread
from harness.network.api import TOXIPROXY_VERSION
from tests.harness.network.conftest import Upstream, dial, http


def _state(server: ToxiproxyServerThread, path: str = "/proxies") -> Any:
    status, body = http("GET", server.url + path)
    assert status == 200, body
    return body


def _refused(listen: str) -> bool:
    try:
        dial(listen).close()
    except ConnectionRefusedError:
        return True
    return False


def _echoes(listen: str) -> bool:
    with dial(listen) as conn:
        conn.sendall(b"ping")
        return conn.recv(16) == b"ping"


def test_client_running_version_create_and_lookups(
    server: ToxiproxyServerThread, client: Any, echo_upstream: Upstream
) -> None:
    assert client.running() is True
    assert json.loads(client.version()) == {"version": TOXIPROXY_VERSION}

    proxy = client.create(upstream=echo_upstream.address, name="echo")
    assert re.fullmatch(r"127\.0\.0\.1:\d+", proxy.listen)
    assert proxy.listen != "127.0.0.1:0"  # rewritten to the bound address
    assert proxy.enabled is True
    assert _state(server, "/proxies/echo") == {
        "name": "echo",
        "listen": proxy.listen,
        "upstream": echo_upstream.address,
        "enabled": True,
        "toxics": [],
    }
    assert _echoes(proxy.listen)

    assert set(client.proxies()) == {"echo"}
    assert client.get_proxy("echo").listen == proxy.listen
    assert client.get_proxy("missing") is None
    with pytest.raises(ProxyExists):
        client.create(upstream=echo_upstream.address, name="echo")
    assert set(_state(server)) == {"echo"}


def test_client_toxics_add_list_get_destroy(
    server: ToxiproxyServerThread, client: Any, echo_upstream: Upstream
) -> None:
    proxy = client.create(upstream=echo_upstream.address, name="echo")
    proxy.add_toxic(type="latency", attributes={"latency": 5, "jitter": 1})
    proxy.add_toxic(type="limit_data", stream="upstream", name="cap", toxicity=0.5, attributes={"bytes": 10})

    toxics = proxy.toxics()
    assert set(toxics) == {"latency_downstream", "cap"}
    cap = proxy.get_toxic("cap")
    assert (cap.type, cap.stream, cap.toxicity, cap.attributes) == (
        "limit_data",
        "upstream",
        0.5,
        {"bytes": 10},
    )
    assert proxy.get_toxic("missing") is None
    # Upstream toxics first, then downstream, each in the order added: Toxiproxy's order.
    assert _state(server, "/proxies/echo/toxics") == [
        {
            "attributes": {"bytes": 10},
            "name": "cap",
            "type": "limit_data",
            "stream": "upstream",
            "toxicity": 0.5,
        },
        {
            "attributes": {"latency": 5, "jitter": 1},
            "name": "latency_downstream",
            "type": "latency",
            "stream": "downstream",
            "toxicity": 1.0,
        },
    ]
    assert [t["name"] for t in _state(server, "/proxies/echo")["toxics"]] == ["cap", "latency_downstream"]

    assert proxy.destroy_toxic("cap") is True
    assert [t["name"] for t in _state(server, "/proxies/echo/toxics")] == ["latency_downstream"]
    with pytest.raises(NotFound):
        proxy.destroy_toxic("cap")


def test_client_disable_enable_and_down_close_and_reopen_the_listener(
    server: ToxiproxyServerThread, client: Any, echo_upstream: Upstream
) -> None:
    proxy = client.create(upstream=echo_upstream.address, name="echo")
    listen = proxy.listen
    proxy.disable()
    assert _state(server, "/proxies/echo")["enabled"] is False
    assert _refused(listen)
    proxy.enable()
    assert _state(server, "/proxies/echo") | {"toxics": []} == {
        "name": "echo",
        "listen": listen,  # same port again
        "upstream": echo_upstream.address,
        "enabled": True,
        "toxics": [],
    }
    assert _echoes(listen)
    with proxy.down():
        assert _state(server, "/proxies/echo")["enabled"] is False
        assert _refused(listen)
    assert _state(server, "/proxies/echo")["enabled"] is True
    assert _echoes(listen)


def test_client_reset_enables_every_proxy_and_removes_every_toxic(
    server: ToxiproxyServerThread, client: Any, echo_upstream: Upstream
) -> None:
    a = client.create(upstream=echo_upstream.address, name="a")
    b = client.create(upstream=echo_upstream.address, name="b")
    a.add_toxic(type="latency", attributes={"latency": 1000})
    b.add_toxic(type="timeout", stream="upstream")
    b.disable()
    assert client.reset() is True
    state = _state(server)
    assert {n: (p["enabled"], p["toxics"]) for n, p in state.items()} == {"a": (True, []), "b": (True, [])}
    assert _echoes(a.listen)
    assert _echoes(b.listen)


def test_client_populate_creates_missing_and_keeps_identical_proxies(
    server: ToxiproxyServerThread, client: Any, echo_upstream: Upstream
) -> None:
    kept = client.create(upstream=echo_upstream.address, name="kept")
    kept.add_toxic(type="latency", attributes={"latency": 1})
    created = client.populate(
        [
            {"name": "new", "upstream": echo_upstream.address, "listen": "127.0.0.1:0"},
            {"name": "kept", "upstream": echo_upstream.address, "listen": kept.listen},
        ]
    )
    assert [p.name for p in created] == ["new"]
    state = _state(server)
    assert set(state) == {"new", "kept"}
    assert state["kept"]["listen"] == kept.listen
    assert [t["name"] for t in state["kept"]["toxics"]] == ["latency_downstream"]
    assert _echoes(state["new"]["listen"])


def test_client_destroy_and_destroy_all(
    server: ToxiproxyServerThread, client: Any, echo_upstream: Upstream
) -> None:
    for name in ("a", "b", "c"):
        client.create(upstream=echo_upstream.address, name=name)
    a = client.get_proxy("a")
    assert client.destroy(a) is True
    assert http("GET", server.url + "/proxies/a") == (404, {"error": "proxy not found", "status": 404})
    assert _refused(a.listen)
    assert client.destroy("not a Proxy object") is False
    client.destroy_all()
    assert _state(server) == {}


def test_populate_endpoint_creates_replaces_and_reports_partial_failure(
    server: ToxiproxyServerThread, echo_upstream: Upstream
) -> None:
    url = server.url + "/populate"
    status, body = http(
        "POST", url, [{"name": "one", "upstream": echo_upstream.address, "listen": "127.0.0.1:0"}]
    )
    assert status == 201
    assert [(p["name"], p["enabled"], p["toxics"]) for p in body["proxies"]] == [("one", True, [])]
    listen = body["proxies"][0]["listen"]

    # Same listen and upstream: kept. A different upstream: replaced (stopped, started again).
    status, body = http("POST", url, [{"name": "one", "upstream": echo_upstream.address, "listen": listen}])
    assert (status, body["proxies"][0]["listen"]) == (201, listen)
    status, body = http("POST", url, [{"name": "one", "upstream": "127.0.0.1:1", "listen": listen}])
    assert (status, body["proxies"][0]["upstream"]) == (201, "127.0.0.1:1")

    with socket.create_server(("127.0.0.1", 0)) as taken:
        busy = f"127.0.0.1:{taken.getsockname()[1]}"
        status, body = http(
            "POST",
            url,
            [
                {"name": "two", "upstream": echo_upstream.address, "listen": "127.0.0.1:0", "enabled": False},
                {"name": "three", "upstream": echo_upstream.address, "listen": busy},
            ],
        )
    assert status == 500
    assert body["status"] == 500
    assert body["error"] == f"listen tcp {busy}: bind: address already in use"
    assert [(p["name"], p["enabled"]) for p in body["proxies"]] == [("two", False)]
    assert set(_state(server)) == {"one", "two"}


def test_patch_and_post_update_a_proxy_keeping_fields_left_out(
    server: ToxiproxyServerThread, echo_upstream: Upstream
) -> None:
    status, created = http("POST", server.url + "/proxies", {"name": "p", "upstream": echo_upstream.address})
    assert status == 201
    assert re.fullmatch(r"127\.0\.0\.1:[1-9]\d*", created["listen"])  # no listen: loopback, port 0
    status, body = http("PATCH", server.url + "/proxies/p", {"enabled": False})
    assert (status, body["enabled"], body["listen"], body["upstream"]) == (
        200,
        False,
        created["listen"],
        echo_upstream.address,
    )
    status, body = http("POST", server.url + "/proxies/p", {"listen": "127.0.0.1:0", "enabled": True})
    assert status == 200
    assert body["enabled"] is True
    assert body["listen"] != created["listen"]
    assert _echoes(body["listen"])


def test_toxic_update_merges_attributes_and_keeps_name_type_and_stream(
    server: ToxiproxyServerThread, echo_upstream: Upstream
) -> None:
    http("POST", server.url + "/proxies", {"name": "p", "upstream": echo_upstream.address})
    status, toxic = http(
        "POST",
        server.url + "/proxies/p/toxics",
        {"type": "latency", "attributes": {"latency": 100, "jitter": 10}},
    )
    assert status == 200
    assert toxic == {
        "attributes": {"latency": 100, "jitter": 10},
        "name": "latency_downstream",
        "type": "latency",
        "stream": "downstream",
        "toxicity": 1.0,
    }
    for method in ("PATCH", "POST"):
        status, toxic = http(
            method,
            server.url + "/proxies/p/toxics/latency_downstream",
            {"attributes": {"jitter": 3}, "toxicity": 0.25, "stream": "upstream", "type": "timeout"},
        )
        assert status == 200
        assert toxic == {
            "attributes": {"latency": 100, "jitter": 3},
            "name": "latency_downstream",
            "type": "latency",
            "stream": "downstream",
            "toxicity": 0.25,
        }
    assert http("GET", server.url + "/proxies/p/toxics/latency_downstream") == (200, toxic)
    assert http("DELETE", server.url + "/proxies/p/toxics/latency_downstream") == (204, None)


def test_version_is_json_with_a_charset(server: ToxiproxyServerThread) -> None:
    import urllib.request

    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    with opener.open(server.url + "/version", timeout=5) as resp:
        assert resp.headers["Content-Type"] == "application/json;charset=utf-8"
        assert json.loads(resp.read()) == {"version": TOXIPROXY_VERSION}

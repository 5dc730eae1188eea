"""Bad input gets Toxiproxy's status codes and messages, and changes nothing."""

from __future__ import annotations

import socket
from typing import Any

import pytest

from harness.network import ToxiproxyServerThread
from tests.harness.network.conftest import Upstream, http


@pytest.fixture
def proxy_url(server: ToxiproxyServerThread, echo_upstream: Upstream) -> str:
    status, _ = http("POST", server.url + "/proxies", {"name": "p", "upstream": echo_upstream.address})
    assert status == 201
    return server.url + "/proxies/p"


def _error(status: int, message: str) -> tuple[int, dict[str, Any]]:
    return status, {"error": message, "status": status}


def test_unknown_toxic_type_is_400_invalid_toxic_type(proxy_url: str) -> None:
    assert http("POST", proxy_url + "/toxics", {"type": "latancy"}) == _error(400, "invalid toxic type")
    assert http("POST", proxy_url + "/toxics", {"attributes": {}}) == _error(400, "invalid toxic type")


def test_bad_stream_is_400_and_checked_before_the_type(proxy_url: str) -> None:
    message = "stream was invalid, can be either upstream or downstream"
    assert http("POST", proxy_url + "/toxics", {"type": "latency", "stream": "sideways"}) == _error(
        400, message
    )
    assert http("POST", proxy_url + "/toxics", {"type": "nope", "stream": "sideways"}) == _error(400, message)


@pytest.mark.parametrize(
    ("kind", "attributes", "field"),
    [
        ("latency", {"latency": -1}, "attributes.latency"),
        ("latency", {"jitter": -5}, "attributes.jitter"),
        ("bandwidth", {"rate": -100}, "attributes.rate"),
        ("slow_close", {"delay": -1}, "attributes.delay"),
        ("timeout", {"timeout": -1}, "attributes.timeout"),
        ("reset_peer", {"timeout": -1}, "attributes.timeout"),
        ("limit_data", {"bytes": -1}, "attributes.bytes"),
        ("slicer", {"average_size": 10, "size_variation": 1, "delay": -1}, "attributes.delay"),
        ("latency", {"latency": "100"}, "attributes.latency"),
        ("latency", {"latency": 1.5}, "attributes.latency"),
    ],
)
def test_negative_or_mistyped_attributes_are_400_bad_request_body_naming_the_field(
    proxy_url: str, kind: str, attributes: dict[str, Any], field: str
) -> None:
    status, body = http("POST", proxy_url + "/toxics", {"type": kind, "attributes": attributes})
    assert status == 400
    assert body["status"] == 400
    assert body["error"].startswith(f"bad request body: {field}: "), body
    assert http("GET", proxy_url + "/toxics") == (200, [])


def test_slicer_sizes_that_toxiproxy_would_loop_on_are_refused(proxy_url: str) -> None:
    status, body = http("POST", proxy_url + "/toxics", {"type": "slicer", "attributes": {"average_size": 0}})
    assert status == 400
    assert "average_size must be at least 1" in body["error"]
    status, body = http(
        "POST",
        proxy_url + "/toxics",
        {"type": "slicer", "attributes": {"average_size": 5, "size_variation": 5}},
    )
    assert status == 400
    assert "size_variation must be less than average_size" in body["error"]


def test_toxicity_outside_zero_to_one_is_400(proxy_url: str) -> None:
    status, body = http("POST", proxy_url + "/toxics", {"type": "latency", "toxicity": 1.5})
    assert status == 400
    assert body["error"].startswith("bad request body: toxicity: ")


def test_negative_values_in_an_update_are_refused_and_the_toxic_unchanged(proxy_url: str) -> None:
    http("POST", proxy_url + "/toxics", {"type": "latency", "attributes": {"latency": 10}})
    status, body = http("PATCH", proxy_url + "/toxics/latency_downstream", {"attributes": {"latency": -10}})
    assert status == 400
    assert body["error"].startswith("bad request body: attributes.latency: ")
    assert http("GET", proxy_url + "/toxics/latency_downstream")[1]["attributes"] == {
        "latency": 10,
        "jitter": 0,
    }


def test_duplicate_names_are_409(
    server: ToxiproxyServerThread, proxy_url: str, echo_upstream: Upstream
) -> None:
    body = {"name": "p", "upstream": echo_upstream.address}
    assert http("POST", server.url + "/proxies", body) == _error(409, "proxy already exists")
    assert http("POST", proxy_url + "/toxics", {"type": "latency"})[0] == 200
    # Same default name `latency_downstream`, and a name taken in the other stream.
    assert http("POST", proxy_url + "/toxics", {"type": "latency"}) == _error(409, "toxic already exists")
    duplicate = {"type": "timeout", "name": "latency_downstream", "stream": "upstream"}
    assert http("POST", proxy_url + "/toxics", duplicate) == _error(409, "toxic already exists")


def test_missing_proxy_or_toxic_is_404(server: ToxiproxyServerThread, proxy_url: str) -> None:
    missing = server.url + "/proxies/missing"
    for method, url, body in [
        ("GET", missing, None),
        ("PATCH", missing, {"enabled": False}),
        ("POST", missing, {"enabled": False}),
        ("DELETE", missing, None),
        ("GET", missing + "/toxics", None),
        ("POST", missing + "/toxics", {"type": "latency"}),
        ("GET", missing + "/toxics/t", None),
        ("DELETE", missing + "/toxics/t", None),
    ]:
        assert http(method, url, body) == _error(404, "proxy not found"), (method, url)
    for method, body in [("GET", None), ("PATCH", {"toxicity": 0.5}), ("DELETE", None)]:
        assert http(method, proxy_url + "/toxics/missing", body) == _error(404, "toxic not found"), method


def test_missing_fields_and_malformed_bodies_are_400(server: ToxiproxyServerThread, proxy_url: str) -> None:
    proxies = server.url + "/proxies"
    assert http("POST", proxies, {"upstream": "127.0.0.1:1"}) == _error(400, "missing required field: name")
    assert http("POST", proxies, {"name": "x"}) == _error(400, "missing required field: upstream")
    assert http("POST", proxies, raw=b"") == _error(400, "bad request body: EOF")
    status, body = http("POST", proxies, raw=b"{not json")
    assert (status, body["error"].startswith("bad request body: ")) == (400, True)
    status, body = http("POST", proxies, {"name": 5, "upstream": "127.0.0.1:1"})
    assert (status, body["error"]) == (400, "bad request body: name: Input should be a valid string")
    status, body = http("POST", proxies, ["not", "an", "object"])
    assert (status, body["error"]) == (400, "bad request body: expected a JSON object, got array")
    status, body = http("POST", proxy_url + "/toxics", {"type": "latency", "attributes": [1]})
    assert (status, body["error"].startswith("bad request body: attributes: ")) == (400, True)
    assert http("POST", server.url + "/populate", [{"upstream": "127.0.0.1:1"}]) == (
        400,
        {"error": "missing required field: name at proxy 1", "status": 400, "proxies": None},
    )
    assert set(http("GET", proxies)[1]) == {"p"}


def test_a_listen_address_in_use_is_500_and_the_proxy_is_not_created(
    server: ToxiproxyServerThread, echo_upstream: Upstream
) -> None:
    with socket.create_server(("127.0.0.1", 0)) as taken:
        busy = f"127.0.0.1:{taken.getsockname()[1]}"
        body = {"name": "p", "upstream": echo_upstream.address, "listen": busy}
        assert http("POST", server.url + "/proxies", body) == _error(
            500, f"listen tcp {busy}: bind: address already in use"
        )
    assert http("GET", server.url + "/proxies") == (200, {})
    status, body = http("POST", server.url + "/proxies", {"name": "p", "upstream": "x", "listen": "nohost"})
    assert (status, body["error"]) == (500, "listen tcp nohost: address nohost: missing port in address")


def test_browsers_are_refused(server: ToxiproxyServerThread) -> None:
    import urllib.error
    import urllib.request

    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    req = urllib.request.Request(server.url + "/proxies", headers={"User-Agent": "Mozilla/5.0"})
    with pytest.raises(urllib.error.HTTPError) as e:
        opener.open(req, timeout=5)
    assert e.value.code == 403
    assert e.value.read() == b"User agent not allowed\n"

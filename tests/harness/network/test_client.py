"""Finding or starting Toxiproxy: TOXIPROXY_URL, then toxiproxy-server on PATH, then embedded."""

from __future__ import annotations

import os
import stat
import sys
from pathlib import Path

import pytest

from harness.network import NetworkError, ToxiproxyServerThread
from harness.network.client import (
    ToxiproxyService,
    add_toxics,
    answers,
    create_proxy,
    remove_toxics,
    split_url,
)
from harness.network.spec import ToxicSpec
from tests.harness.network.conftest import Upstream, dial, http, round_trip


def test_without_url_or_binary_the_embedded_server_runs_on_a_free_loopback_port(
    echo_upstream: Upstream,
) -> None:
    with ToxiproxyService(environ={}, binary=None) as service:
        assert service.source == "embedded"
        host, port = split_url(service.url)
        assert (host, port > 0) == ("127.0.0.1", True)
        proxy = create_proxy(service.client(), "echo", echo_upstream.address)
        with dial(proxy.listen) as conn:
            round_trip(conn)
    assert not answers(service.url, 0.5)


def test_the_embedded_server_can_run_in_its_own_process(echo_upstream: Upstream) -> None:
    with ToxiproxyService(environ={}, binary=None, embedded="process", start_timeout_s=30) as service:
        assert service.source == "embedded"
        proxy = create_proxy(service.client(), "echo", echo_upstream.address)
        with dial(proxy.listen) as conn:
            round_trip(conn)
        assert http("GET", service.url + "/proxies")[1]["echo"]["listen"] == proxy.listen
    assert not answers(service.url, 0.5)


def test_toxiproxy_url_is_used_as_is_and_left_running(echo_upstream: Upstream) -> None:
    with ToxiproxyServerThread() as external:
        with ToxiproxyService(environ={"TOXIPROXY_URL": external.url + "/"}, binary=None) as service:
            assert (service.source, service.url) == ("env", external.url)
            service.client().create(upstream=echo_upstream.address, name="via-env")
        assert answers(external.url)
        assert set(http("GET", external.url + "/proxies")[1]) == {"via-env"}


def test_toxiproxy_url_with_nothing_there_is_a_clear_error() -> None:
    with ToxiproxyServerThread() as gone:
        url = gone.url
    with pytest.raises(
        NetworkError, match=r"TOXIPROXY_URL=http://127\.0\.0\.1:\d+: no Toxiproxy answers there"
    ):
        ToxiproxyService(environ={"TOXIPROXY_URL": url}, start_timeout_s=0.5).start()


@pytest.mark.parametrize("url", ["https://127.0.0.1:8474", "http://", "http://127.0.0.1:port"])
def test_bad_toxiproxy_urls_are_refused(url: str) -> None:
    with pytest.raises(NetworkError, match="Toxiproxy URL"):
        split_url(url)


def _fake_binary(tmp_path: Path, body: str) -> Path:
    """An executable named toxiproxy-server taking the real one's `-host H -port P` flags."""
    path = tmp_path / "toxiproxy-server"
    path.write_text(f"#!{sys.executable}\n{body}")
    path.chmod(path.stat().st_mode | stat.S_IXUSR)
    return path


def test_a_toxiproxy_server_on_path_is_started_with_its_flags_and_stopped(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, echo_upstream: Upstream
) -> None:
    # A real server process behind the real binary's command line: our own CLI.
    _fake_binary(
        tmp_path,
        "import sys\n"
        "from harness.cli import main\n"
        "args = dict(zip(sys.argv[1::2], sys.argv[2::2]))\n"
        "sys.exit(main(['toxiproxy', '--host', args['-host'], '--port', args['-port']]))\n",
    )
    monkeypatch.setenv("PATH", f"{tmp_path}{os.pathsep}{os.environ['PATH']}")
    with ToxiproxyService(environ={}) as service:
        assert service.source == "binary"
        proxy = create_proxy(service.client(), "echo", echo_upstream.address)
        with dial(proxy.listen) as conn:
            round_trip(conn)
    assert not answers(service.url, 0.5)


def test_a_toxiproxy_server_that_does_not_come_up_is_a_clear_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _fake_binary(tmp_path, "import sys\nsys.exit(1)\n")
    monkeypatch.setenv("PATH", f"{tmp_path}{os.pathsep}{os.environ['PATH']}")
    with pytest.raises(NetworkError, match=r"toxiproxy-server -port \d+: did not answer"):
        ToxiproxyService(environ={}, start_timeout_s=5).start()


def test_toxic_specs_are_added_in_order_and_removed(echo_upstream: Upstream) -> None:
    specs = [
        ToxicSpec(type="latency", attributes={"latency": 5}),
        ToxicSpec(type="limit_data", stream="upstream", toxicity=0.5, attributes={"bytes": 100}, name="cap"),
    ]
    with ToxiproxyService(environ={}, binary=None) as service:
        proxy = create_proxy(service.client(), "p", echo_upstream.address)
        add_toxics(proxy, specs)
        status, toxics = http("GET", service.url + "/proxies/p/toxics")
        assert status == 200
        assert [(t["name"], t["stream"], t["toxicity"], t["attributes"]) for t in toxics] == [
            ("cap", "upstream", 0.5, {"bytes": 100}),
            ("latency_downstream", "downstream", 1.0, {"latency": 5, "jitter": 0}),
        ]
        remove_toxics(proxy)
        assert http("GET", service.url + "/proxies/p/toxics") == (200, [])


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        ({"type": "latancy"}, "unknown toxic type 'latancy'; known: bandwidth, latency, limit_data"),
        ({"type": "latency", "attributes": {"latncy": 5}}, "attributes.latncy: not an attribute of latency"),
        (
            {"type": "latency", "attributes": {"latency": -5}},
            "attributes.latency: Input should be greater than",
        ),
        ({"type": "latency", "stream": "sideways"}, "stream"),
        ({"type": "latency", "toxicity": 2}, "toxicity"),
    ],
)
def test_bad_toxic_specs_are_refused_before_anything_runs(spec: dict[str, object], message: str) -> None:
    with pytest.raises(ValueError, match=message.replace("(", r"\(")):
        ToxicSpec.model_validate(spec)

"""The control API and /metrics over raw HTTP: scenario, reset, ledger, summary, access rules."""

from __future__ import annotations

import json
import time
import urllib.error
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from typing import Any
from unittest import mock

import openai
import pytest
from aiohttp import web
from aiohttp.test_utils import make_mocked_request
from prometheus_client.parser import text_string_to_metric_families

from fakeprovider import FakeProviderThread
from fakeprovider.control import guarded, is_loopback
from fakeprovider.state import ProviderConfig, ProviderState

HI = [{"role": "user", "content": "hi"}]
LONG_SYSTEM = " ".join(f"Rule {i}: answer politely and cite the handbook section {i}." for i in range(150))


def _http(
    method: str,
    url: str,
    body: bytes | None = None,
    headers: dict[str, str] | None = None,
) -> tuple[int, bytes, dict[str, str]]:
    req = urllib.request.Request(url, data=body, method=method, headers=headers or {})
    try:
        with urllib.request.urlopen(req, timeout=10) as resp:
            return resp.status, resp.read(), dict(resp.headers)
    except urllib.error.HTTPError as e:
        with e:
            return e.code, e.read(), dict(e.headers)


def _json(method: str, url: str, body: bytes | None = None, **kw: Any) -> tuple[int, Any]:
    status, data, _ = _http(method, url, body, **kw)
    return status, json.loads(data)


def test_health_answers_ok(provider: FakeProviderThread) -> None:
    status, body = _json("GET", provider.url + "/control/health")
    assert status == 200
    assert body["status"] == "ok"
    assert body["seed"] == 0
    assert body["latency"] == "none"


def test_get_scenario_returns_the_scenario_in_force() -> None:
    with FakeProviderThread(latency="none", scenario={"seed": 5}) as p:
        status, body = _json("GET", p.url + "/control/scenario")
    assert status == 200
    assert body == {"seed": 5}


def test_the_scenario_read_back_can_be_put_back() -> None:
    scenario = {
        "seed": 5,
        "limits": [{"scope": "tenant", "tpm": 1000}],
        "faults": [
            {"name": "outage", "match": {"model": "gpt-4o"}, "fault": {"kind": "http_error"}},
            {"fault": {"kind": "rate_limit", "retry_after_ms": 250}, "probability": 0.5},
        ],
    }
    with FakeProviderThread(latency="none", scenario=scenario) as p:
        _, shown = _json("GET", p.url + "/control/scenario")
        assert shown["faults"][0]["fault"]["kind"] == "http_error"
        status, body = _json("PUT", p.url + "/control/scenario", json.dumps(shown).encode())
        assert status == 200, body
        assert _json("GET", p.url + "/control/scenario")[1] == shown


def test_put_scenario_as_yaml_puts_it_in_force(
    provider: FakeProviderThread, openai_client: openai.OpenAI
) -> None:
    yaml_text = b"seed: 11\nresponses:\n  - match: {model: gpt-4o}\n    reply: {content: from yaml}\n"
    status, body = _json(
        "PUT", provider.url + "/control/scenario", yaml_text, headers={"Content-Type": "application/yaml"}
    )
    assert status == 200
    assert body["seed"] == 11
    reply = openai_client.chat.completions.create(model="gpt-4o", messages=HI)
    assert reply.choices[0].message.content == "from yaml"
    assert _json("GET", provider.url + "/control/scenario")[1]["seed"] == 11


def test_put_scenario_as_json_puts_it_in_force(
    provider: FakeProviderThread, openai_client: openai.OpenAI
) -> None:
    scenario = {"responses": [{"match": {"model": "gpt-4o"}, "reply": {"content": "from json"}}]}
    status, _ = _json(
        "PUT",
        provider.url + "/control/scenario",
        json.dumps(scenario).encode(),
        headers={"Content-Type": "application/json"},
    )
    assert status == 200
    reply = openai_client.chat.completions.create(model="gpt-4o", messages=HI)
    assert reply.choices[0].message.content == "from json"


@pytest.mark.parametrize(
    ("body", "names"),
    [
        (b"seed: 1\nbogus: true\n", "bogus: unknown field"),
        (b'{"responses": [{"reply": {"content": "x"}, "last_message": "("}]}', "responses.0.last_message"),
        (b"models: {house: {input_per_m: 1}}", "models.house: unknown model"),
        (b"seed: [1\n", "invalid YAML (line 2"),
    ],
)
def test_invalid_scenario_is_refused_and_the_previous_stays_in_force(
    provider: FakeProviderThread, openai_client: openai.OpenAI, body: bytes, names: str
) -> None:
    good = b"responses: [{match: {model: gpt-4o}, reply: {content: still here}}]"
    assert _http("PUT", provider.url + "/control/scenario", good)[0] == 200
    status, problem = _json("PUT", provider.url + "/control/scenario", body)
    assert status == 400
    assert names in problem["error"]["message"]
    reply = openai_client.chat.completions.create(model="gpt-4o", messages=HI)
    assert reply.choices[0].message.content == "still here"
    _, scenario = _json("GET", provider.url + "/control/scenario")
    assert scenario["responses"][0]["reply"] == {"content": "still here"}


def test_reset_clears_ledger_attempts_and_prefix_cache(
    provider: FakeProviderThread, openai_client: openai.OpenAI
) -> None:
    messages = [{"role": "system", "content": LONG_SYSTEM}, {"role": "user", "content": "q"}]
    for _ in range(2):  # one request sent twice (its id says so)
        openai_client.chat.completions.create(
            model="gpt-4o", messages=messages, max_tokens=5, extra_headers={"X-Request-Id": "req-1"}
        )
    before = provider.state.ledger.records()
    assert [r.attempt for r in before] == [1, 2]
    assert before[-1].cached_tokens > 0

    status, body = _json("POST", provider.url + "/control/reset")
    assert status == 200
    assert body == {"status": "reset"}
    assert provider.state.ledger.records() == []
    assert _json("GET", provider.url + "/control/summary")[1]["totals"]["calls"] == 0

    openai_client.chat.completions.create(
        model="gpt-4o", messages=messages, max_tokens=5, extra_headers={"X-Request-Id": "req-1"}
    )
    (after,) = provider.state.ledger.records()
    assert after.attempt == 1
    assert after.cached_tokens == 0
    assert after.seq > before[-1].seq


def test_ledger_endpoint_pages_with_since_and_next(
    provider: FakeProviderThread, openai_client: openai.OpenAI
) -> None:
    for i in range(3):
        openai_client.chat.completions.create(
            model="gpt-4o-mini", messages=[{"role": "user", "content": f"m{i}"}], max_tokens=3
        )
    status, page = _json("GET", provider.url + "/control/ledger")
    assert status == 200
    assert [r["seq"] for r in page["records"]] == [1, 2, 3]
    assert page["next"] == 3
    assert page["records"][0]["api"] == "openai.chat"
    assert page["records"][0]["model"] == "gpt-4o-mini"

    _, page = _json("GET", provider.url + "/control/ledger?since=1")
    assert [r["seq"] for r in page["records"]] == [2, 3]
    _, page = _json("GET", provider.url + "/control/ledger?since=3")
    assert page == {"records": [], "next": 3}
    _, page = _json("GET", provider.url + "/control/ledger?since=0&limit=2")
    assert [r["seq"] for r in page["records"]] == [1, 2]
    assert page["next"] == 2


def test_ledger_endpoint_refuses_a_non_integer_since(provider: FakeProviderThread) -> None:
    status, problem = _json("GET", provider.url + "/control/ledger?since=abc")
    assert status == 400
    assert "since" in problem["error"]["message"]


def test_summary_endpoint_totals_calls_per_tag(
    provider: FakeProviderThread, openai_client: openai.OpenAI
) -> None:
    for route in ("search", "search", "chat"):
        openai_client.chat.completions.create(
            model="gpt-4o-mini",
            messages=[{"role": "user", "content": route}],
            max_tokens=3,
            extra_headers={"X-Route": route, "X-Tenant": "acme"},
        )
    status, summary = _json("GET", provider.url + "/control/summary")
    assert status == 200
    assert summary["totals"]["calls"] == 3
    assert summary["by"]["route"]["search"]["calls"] == 2
    assert summary["by"]["route"]["chat"]["calls"] == 1
    assert summary["by"]["tenant"]["acme"]["calls"] == 3
    records = provider.state.ledger.records()
    assert summary["totals"]["cost_usd"] == pytest.approx(sum(r.cost_usd for r in records))
    assert summary["totals"]["output_tokens"] == sum(r.output_tokens for r in records)


def _samples(text: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    out = {}
    for family in text_string_to_metric_families(text):
        for s in family.samples:
            out[(s.name, tuple(sorted(s.labels.items())))] = s.value
    return out


def test_metrics_show_request_token_and_cost_counters(
    provider: FakeProviderThread, openai_client: openai.OpenAI
) -> None:
    for _ in range(2):
        openai_client.chat.completions.create(
            model="gpt-4o", messages=HI, max_tokens=5, extra_headers={"X-Route": "r1", "X-Tenant": "t1"}
        )
    status, body, headers = _http("GET", provider.url + "/metrics")
    assert status == 200
    assert headers["Content-Type"].startswith("text/plain")
    samples = _samples(body.decode())
    records = provider.state.ledger.records()
    requests = (
        "rehearsal_provider_requests_total",
        (("api", "openai.chat"), ("model", "gpt-4o"), ("outcome", "ok"), ("status", "200")),
    )
    assert samples[requests] == 2
    tin = (
        "rehearsal_provider_tokens_total",
        (("api", "openai.chat"), ("kind", "input"), ("model", "gpt-4o")),
    )
    tout = (
        "rehearsal_provider_tokens_total",
        (("api", "openai.chat"), ("kind", "output"), ("model", "gpt-4o")),
    )
    assert samples[tin] == sum(r.input_tokens for r in records)
    assert samples[tout] == sum(r.output_tokens for r in records)
    cost = ("rehearsal_provider_cost_usd_total", (("model", "gpt-4o"), ("route", "r1"), ("tenant", "t1")))
    assert samples[cost] == pytest.approx(sum(r.cost_usd for r in records))
    count = ("rehearsal_provider_request_duration_seconds_count", (("api", "openai.chat"),))
    assert samples[count] == 2


def test_metrics_of_two_servers_do_not_mix(
    provider: FakeProviderThread, openai_client: openai.OpenAI
) -> None:
    openai_client.chat.completions.create(model="gpt-4o", messages=HI, max_tokens=2)
    with FakeProviderThread(latency="none") as other:
        _, body, _ = _http("GET", other.url + "/metrics")
    assert "rehearsal_provider_requests_total{" not in body.decode()


@pytest.fixture
def guarded_provider() -> Any:
    with FakeProviderThread(latency="none", control_token="s3cret") as p:
        yield p


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("GET", "/control/health"),
        ("GET", "/control/scenario"),
        ("PUT", "/control/scenario"),
        ("POST", "/control/reset"),
        ("GET", "/control/ledger"),
        ("GET", "/control/summary"),
        ("GET", "/metrics"),
    ],
)
@pytest.mark.parametrize(
    ("auth", "expected"),
    [(None, 401), ("Bearer wrong", 401), ("s3cret", 401), ("Bearer s3cret", 200)],
)
def test_control_token_is_required_when_set(
    guarded_provider: FakeProviderThread, method: str, path: str, auth: str | None, expected: int
) -> None:
    headers = {"Authorization": auth} if auth else {}
    body = b"{}" if method == "PUT" else None
    status, data, _ = _http(method, guarded_provider.url + path, body, headers=headers)
    assert status == expected
    if expected == 401:
        assert "bearer token" in json.loads(data)["error"]["message"]


def test_control_token_does_not_guard_the_model_api(guarded_provider: FakeProviderThread) -> None:
    client = openai.OpenAI(base_url=guarded_provider.url + "/v1", api_key="sk-test", max_retries=0)
    try:
        assert client.chat.completions.create(model="gpt-4o", messages=HI, max_tokens=2).choices
    finally:
        client.close()


@pytest.mark.parametrize(
    ("peer", "loopback"),
    [
        ("127.0.0.1", True),
        ("127.8.9.10", True),
        ("::1", True),
        ("::ffff:127.0.0.1", True),
        ("localhost", True),
        ("10.0.0.5", False),
        ("192.168.1.20", False),
        ("::ffff:10.0.0.5", False),
        ("fe80::1%eth0", False),
        ("2001:db8::1", False),
        ("", False),
        (None, False),
    ],
)
def test_is_loopback(peer: str | None, loopback: bool) -> None:
    assert is_loopback(peer) is loopback


def _request_from(peer: str, headers: dict[str, str] | None = None) -> web.Request:
    transport = mock.Mock()
    transport.get_extra_info.side_effect = lambda name, default=None: (
        (peer, 50000) if name == "peername" else default
    )
    return make_mocked_request("GET", "/control/health", headers=headers or {}, transport=transport)


async def _ok(request: web.Request) -> web.StreamResponse:
    return web.Response(text="ok")


@pytest.mark.parametrize(("peer", "status"), [("127.0.0.1", 200), ("::1", 200), ("203.0.113.7", 403)])
async def test_guard_admits_loopback_callers_only_without_a_token(peer: str, status: int) -> None:
    handler = guarded(ProviderState(ProviderConfig(latency="none")), _ok)
    resp = await handler(_request_from(peer))
    assert resp.status == status


@pytest.mark.parametrize(
    ("peer", "auth", "status"),
    [("203.0.113.7", "Bearer t0k", 200), ("203.0.113.7", None, 401), ("127.0.0.1", None, 401)],
)
async def test_guard_with_a_token_admits_any_caller_that_carries_it(
    peer: str, auth: str | None, status: int
) -> None:
    handler = guarded(ProviderState(ProviderConfig(latency="none", control_token="t0k")), _ok)
    resp = await handler(_request_from(peer, {"Authorization": auth} if auth else None))
    assert resp.status == status


def test_a_call_in_flight_across_a_scenario_change_is_priced_as_when_it_was_read() -> None:
    def scenario(input_per_m: float, slow: bool) -> dict[str, object]:
        faults = [{"fault": {"kind": "slow", "ttft_ms": 400}}] if slow else []
        return {"models": {"gpt-4o": {"input_per_m": input_per_m, "output_per_m": 0.0}}, "faults": faults}

    with FakeProviderThread(latency="none", scenario=scenario(1.0, slow=True)) as p:
        client = openai.OpenAI(base_url=p.url + "/v1", api_key="k", max_retries=0, timeout=10)
        with ThreadPoolExecutor(1) as pool:
            answer = pool.submit(client.chat.completions.create, model="gpt-4o", messages=HI, max_tokens=5)
            time.sleep(0.15)  # the call has been read and waits out its 400 ms
            status, _ = _json(
                "PUT", p.url + "/control/scenario", json.dumps(scenario(1000.0, slow=False)).encode()
            )
            assert status == 200
            usage = answer.result(timeout=10).usage
        assert usage is not None
        (record,) = [r for r in p.state.ledger.records() if r.model == "gpt-4o"]
        assert record.cost_usd == pytest.approx(usage.prompt_tokens * 1.0 / 1_000_000)

"""Fault rules end to end: matching, windows, attempts, probability, hits, and the control API
changing them under live traffic."""

from __future__ import annotations

from typing import Any

import anthropic
import openai
import pytest
import yaml

from fakeprovider.clock import VirtualTime
from tests.fakeprovider.e2e import GPT, HELLO, Served, chat, faults, message, serve

pytestmark = pytest.mark.usefixtures("quiet_server")

OUTAGE = {"kind": "http_error", "status": 503}


def _ok(client: openai.OpenAI, **kwargs: Any) -> bool:
    """Whether one chat call succeeds (False: the 503 of a rule)."""
    try:
        chat(client, **kwargs)
    except openai.InternalServerError:
        return False
    return True


def _raw_chat(s: Served, request_id: str, **headers: str) -> int:
    body = {"model": GPT, "messages": HELLO, "max_tokens": 5}
    resp = s.http().post("/v1/chat/completions", json=body, headers={"X-Request-Id": request_id, **headers})
    return resp.status_code


# --- first_attempts ---------------------------------------------------------------------------


@pytest.mark.usefixtures("fast_retries")
def test_first_attempts_lets_an_sdk_with_two_retries_succeed_on_its_third_attempt() -> None:
    with serve(faults({"name": "flaky", "first_attempts": 2, "fault": OUTAGE})) as s:
        reply = chat(s.openai(max_retries=2))
        assert reply.choices[0].message.content
        answer = message(s.anthropic(max_retries=2))
        assert answer.content
        recs = s.records(6)
        assert [(r.api, r.attempt, r.sdk_retry_count, r.status, r.outcome) for r in recs] == [
            ("openai.chat", 1, 0, 503, "error"),
            ("openai.chat", 2, 1, 503, "error"),
            ("openai.chat", 3, 2, 200, "ok"),
            ("anthropic.messages", 1, 0, 503, "error"),
            ("anthropic.messages", 2, 1, 503, "error"),
            ("anthropic.messages", 3, 2, 200, "ok"),
        ]
        assert [r.fault for r in recs] == [
            {"rule": "flaky", "kind": "http_error"},
            {"rule": "flaky", "kind": "http_error"},
            None,
        ] * 2


@pytest.mark.usefixtures("fast_retries")
def test_first_attempts_counts_attempts_per_request_id() -> None:
    with serve(faults({"name": "flaky", "first_attempts": 2, "fault": OUTAGE})) as s:
        client = s.openai(max_retries=2)
        for request_id in ("req-a", "req-b"):
            chat(client, extra_headers={"X-Request-Id": request_id})
        recs = s.records(6)
        assert [(r.request_id, r.attempt, r.status) for r in recs] == [
            ("req-a", 1, 503),
            ("req-a", 2, 503),
            ("req-a", 3, 200),
            ("req-b", 1, 503),
            ("req-b", 2, 503),
            ("req-b", 3, 200),
        ]
        # Same body, two request ids: the fingerprint alone would have merged them.
        assert len({r.fingerprint for r in recs}) == 1


def test_first_attempts_without_retries_surfaces_the_error() -> None:
    with serve(faults({"first_attempts": 1, "fault": OUTAGE})) as s:
        client = s.openai(max_retries=0)
        assert not _ok(client, extra_headers={"X-Request-Id": "r1"})
        assert _ok(client, extra_headers={"X-Request-Id": "r1"})  # the caller's own retry


# --- match ------------------------------------------------------------------------------------


def test_match_on_route_and_tenant_headers() -> None:
    rule = {"name": "acme-summaries", "match": {"route": "summarize", "tenant": "acme"}, "fault": OUTAGE}
    with serve(faults(rule)) as s:
        client = s.openai()
        assert not _ok(client, extra_headers={"X-Route": "summarize", "X-Tenant": "acme"})
        assert _ok(client, extra_headers={"X-Route": "summarize", "X-Tenant": "globex"})
        assert _ok(client, extra_headers={"X-Route": "search", "X-Tenant": "acme"})
        assert _ok(client, extra_headers={"X-Tenant": "acme"})
        # Tags from the body's metadata match as headers do.
        assert not _ok(client, metadata={"route": "summarize", "tenant": "acme"}, store=True)
        recs = s.records(5)
        assert [r.fault is not None for r in recs] == [True, False, False, False, True]
        assert recs[0].tags == {"route": "summarize", "feature": None, "tenant": "acme"}


def test_match_on_api_model_and_stream() -> None:
    scenario = faults(
        {
            "name": "anthropic-only",
            "match": {"api": "anthropic"},
            "fault": {"kind": "http_error", "status": 529},
        },
        {"name": "mini-streams", "match": {"model": "gpt-4o-mini", "stream": True}, "fault": OUTAGE},
    )
    with serve(scenario) as s:
        with pytest.raises(
            anthropic.OverloadedError
            if hasattr(anthropic, "OverloadedError")
            else anthropic.InternalServerError
        ):
            message(s.anthropic())
        client = s.openai()
        assert _ok(client, model="gpt-4o-mini")
        assert _ok(client, model="gpt-4o", stream=True)
        assert not _ok(client, model="gpt-4o-mini", stream=True)
        assert [r.fault and r.fault["rule"] for r in s.records(4)] == [
            "anthropic-only",
            None,
            None,
            "mini-streams",
        ]


# --- window -----------------------------------------------------------------------------------


def test_window_follows_the_scenario_clock_and_clock_start_restarts_it() -> None:
    vt = VirtualTime()
    rule = {"name": "later", "window": {"start_s": 10, "duration_s": 20}, "fault": OUTAGE}
    with serve(faults(rule), clock=vt) as s:
        client = s.openai()
        assert s.control("GET", "/clock").json() == {"now_s": 0.0}
        assert _ok(client)
        vt.advance(9.999)
        assert _ok(client)
        vt.advance(0.001)
        assert not _ok(client)  # t = 10: the window opens
        vt.advance(19.9)
        assert not _ok(client)
        vt.advance(0.1)
        assert _ok(client)  # t = 30: closed (the end is exclusive)
        assert s.control("GET", "/clock").json() == {"now_s": 30.0}
        assert s.control("POST", "/clock/start").json() == {"now_s": 0.0}
        assert s.control("GET", "/clock").json() == {"now_s": 0.0}
        assert _ok(client)
        vt.advance(15)
        assert not _ok(client)


def test_window_without_duration_lasts_to_the_end() -> None:
    vt = VirtualTime()
    with serve(faults({"window": {"start_s": 5}, "fault": OUTAGE}), clock=vt) as s:
        client = s.openai()
        assert _ok(client)
        vt.advance(5)
        assert not _ok(client)
        vt.advance(100_000)
        assert not _ok(client)


def test_reset_restarts_the_window_clock() -> None:
    vt = VirtualTime()
    with serve(faults({"window": {"start_s": 0, "duration_s": 10}, "fault": OUTAGE}), clock=vt) as s:
        client = s.openai()
        vt.advance(11)
        assert _ok(client)
        s.control("POST", "/reset").raise_for_status()
        assert not _ok(client)


# --- probability ------------------------------------------------------------------------------


def _decisions(seed: int, n: int = 200) -> list[bool]:
    rule = {"name": "coin", "probability": 0.3, "fault": OUTAGE}
    with serve(faults(rule, seed=seed)) as s:
        return [_raw_chat(s, f"req-{i}") == 503 for i in range(n)]


def test_probability_is_the_same_on_two_servers_with_the_same_seed() -> None:
    first = _decisions(seed=7)
    assert first == _decisions(seed=7)
    assert 0.2 <= sum(first) / len(first) <= 0.4


def test_probability_differs_with_another_seed() -> None:
    assert _decisions(seed=7) != _decisions(seed=8)


def test_probability_rolls_again_on_each_attempt() -> None:
    # One request id retried: each attempt has its own roll, fixed by the seed.
    rule = {"name": "coin", "probability": 0.5, "fault": OUTAGE}
    outcomes = []
    for _ in range(2):
        with serve(faults(rule, seed=1)) as s:
            outcomes.append([_raw_chat(s, "same-request") for _ in range(40)])
    assert outcomes[0] == outcomes[1]
    assert set(outcomes[0]) == {200, 503}


def test_probability_zero_and_one() -> None:
    scenario = faults(
        {"probability": 0, "fault": OUTAGE}, {"probability": 1, "fault": {"kind": "context_length"}}
    )
    with serve(scenario) as s:
        assert {_raw_chat(s, f"r{i}") for i in range(20)} == {400}


# --- max_hits ---------------------------------------------------------------------------------


def test_max_hits_stops_the_rule_after_n_firings() -> None:
    with serve(faults({"name": "twice", "max_hits": 2, "fault": OUTAGE})) as s:
        client = s.openai()
        assert [_ok(client) for _ in range(4)] == [False, False, True, True]
        (rule,) = s.control("GET", "/faults").json()["faults"]
        assert (rule["name"], rule["hits"], rule["max_hits"]) == ("twice", 2, 2)


# --- control API under live traffic -----------------------------------------------------------


def test_post_and_delete_faults_change_live_traffic() -> None:
    with serve() as s:
        client = s.openai()
        assert _ok(client)
        resp = s.control("POST", "/faults", json={"name": "live", "fault": OUTAGE})
        assert resp.status_code == 201
        assert resp.json()["name"] == "live"
        assert not _ok(client)
        # YAML works too; rules are tried in order, so the first still wins.
        resp = s.control(
            "POST", "/faults", content=yaml.safe_dump({"fault": {"kind": "context_length"}}).encode()
        )
        assert resp.status_code == 201
        assert resp.json()["name"] == "context_length-2"
        assert not _ok(client)
        assert s.last().fault == {"rule": "live", "kind": "http_error"}
        assert s.control("DELETE", "/faults/live").status_code == 200
        with pytest.raises(openai.BadRequestError):
            chat(client)
        assert s.control("DELETE", "/faults/live").status_code == 404
        assert s.control("DELETE", "/faults").status_code == 200
        assert s.control("GET", "/faults").json() == {"faults": []}
        assert _ok(client)


def test_get_faults_lists_rules_with_hits() -> None:
    with serve(faults({"name": "base", "match": {"route": "x"}, "fault": OUTAGE})) as s:
        s.control("POST", "/faults", json={"name": "added", "fault": {"kind": "content_filter"}})
        chat(s.openai())
        listed = s.control("GET", "/faults").json()["faults"]
        assert [(r["name"], r["hits"], r["added"]) for r in listed] == [
            ("base", 0, False),
            ("added", 1, True),
        ]
        assert listed[0]["match"] == {"route": "x"}
        assert listed[0]["fault"] == {"kind": "http_error", "status": 503}


@pytest.mark.parametrize(
    ("rule", "field"),
    [
        ({"fault": {"kind": "http_error", "status": 418}}, "fault.http_error.status"),
        ({"fault": {"kind": "partial", "after_tokens": -1}}, "fault.partial.after_tokens"),
        ({"fault": {"kind": "no_such_kind"}}, "fault"),
        ({"probability": 2, "fault": OUTAGE}, "probability"),
        ({"match": {"colour": "red"}, "fault": OUTAGE}, "match.colour"),
        ({"window": {"start_s": -1}, "fault": OUTAGE}, "window.start_s"),
        ({"name": "x"}, "fault"),
    ],
)
def test_invalid_rule_is_refused_with_400_naming_the_field(rule: dict[str, Any], field: str) -> None:
    with serve() as s:
        resp = s.control("POST", "/faults", json=rule)
        assert resp.status_code == 400
        assert field in resp.json()["error"]["message"]
        assert s.control("GET", "/faults").json() == {"faults": []}


def test_rule_that_is_not_a_mapping_is_refused() -> None:
    with serve() as s:
        assert s.control("POST", "/faults", content=b"[1, 2]").status_code == 400
        assert s.control("POST", "/faults", content=b"{not yaml: [").status_code == 400
        assert s.control("POST", "/faults", content=b"").status_code == 400


def test_duplicate_rule_name_is_refused_with_409() -> None:
    with serve(faults({"name": "outage", "fault": OUTAGE})) as s:
        resp = s.control("POST", "/faults", json={"name": "outage", "fault": {"kind": "context_length"}})
        assert resp.status_code == 409
        assert "outage" in resp.json()["error"]["message"]
        assert len(s.control("GET", "/faults").json()["faults"]) == 1


def test_reset_drops_added_rules_and_zeroes_hits() -> None:
    with serve(faults({"name": "base", "max_hits": 1, "fault": OUTAGE})) as s:
        s.control("POST", "/faults", json={"name": "added", "fault": {"kind": "context_length"}})
        client = s.openai()
        assert not _ok(client)  # base
        with pytest.raises(openai.BadRequestError):
            chat(client)  # base used up: added
        assert s.control("POST", "/reset").status_code == 200
        assert [(r["name"], r["hits"]) for r in s.control("GET", "/faults").json()["faults"]] == [("base", 0)]
        assert s.records() == []
        assert not _ok(client)  # base fires again
        assert _ok(client)  # and nothing after it


def test_reset_restores_rules_deleted_since_the_scenario_loaded() -> None:
    with serve(faults({"name": "base", "fault": OUTAGE})) as s:
        assert s.control("DELETE", "/faults").status_code == 200
        assert _ok(s.openai())
        s.control("POST", "/reset").raise_for_status()
        assert [r["name"] for r in s.control("GET", "/faults").json()["faults"]] == ["base"]
        assert not _ok(s.openai())


def test_put_of_an_invalid_scenario_keeps_the_old_rules_in_force() -> None:
    with serve(faults({"name": "base", "fault": OUTAGE})) as s:
        bad = {"faults": [{"name": "new", "fault": {"kind": "http_error", "status": 404}}]}
        resp = s.control("PUT", "/scenario", json=bad)
        assert resp.status_code == 400
        assert "faults.0.fault.http_error.status" in resp.json()["error"]["message"]
        assert [r["name"] for r in s.control("GET", "/faults").json()["faults"]] == ["base"]
        assert not _ok(s.openai())
        assert s.last().fault == {"rule": "base", "kind": "http_error"}


def test_put_of_a_valid_scenario_replaces_the_rules() -> None:
    with serve(faults({"name": "base", "fault": OUTAGE})) as s:
        new = yaml.safe_dump({"faults": [{"name": "new", "fault": {"kind": "context_length"}}]})
        assert s.control("PUT", "/scenario", content=new.encode()).status_code == 200
        with pytest.raises(openai.BadRequestError):
            chat(s.openai())
        assert s.last().fault == {"rule": "new", "kind": "context_length"}


# --- embeddings -------------------------------------------------------------------------------


def test_http_error_on_embeddings() -> None:
    rule = {"name": "embed-down", "match": {"api": "openai.embeddings"}, "fault": OUTAGE}
    with serve(faults(rule)) as s:
        client = s.openai()
        with pytest.raises(openai.InternalServerError):
            client.embeddings.create(model="text-embedding-3-small", input="hello")
        assert _ok(client)  # chat is not matched
        r = s.records(2)[0]
        assert (r.api, r.status, r.outcome) == ("openai.embeddings", 503, "error")
        assert r.fault == {"rule": "embed-down", "kind": "http_error"}


def test_connection_reset_on_embeddings() -> None:
    with serve(faults({"name": "rst", "fault": {"kind": "connection_reset"}})) as s:
        with pytest.raises(openai.APIConnectionError):
            s.openai().embeddings.create(model="text-embedding-3-small", input=["a", "b"])
        r = s.last()
        assert (r.api, r.status, r.outcome) == ("openai.embeddings", 0, "reset")
        assert r.fault == {"rule": "rst", "kind": "connection_reset"}


@pytest.mark.parametrize(
    "kind", ["partial", "slow", "malformed_output", "malformed_tool_call", "content_filter"]
)
def test_chat_only_kinds_do_not_fire_on_embeddings(kind: str) -> None:
    with serve(faults({"fault": {"kind": kind}})) as s:
        reply = s.openai().embeddings.create(model="text-embedding-3-small", input="hello")
        assert len(reply.data) == 1
        assert s.last().fault is None


@pytest.mark.parametrize("kind", ["rate_limit", "context_length"])
def test_answering_kinds_work_on_embeddings(kind: str) -> None:
    with serve(faults({"fault": {"kind": kind}})) as s:
        with pytest.raises(openai.APIStatusError) as info:
            s.openai().embeddings.create(model="text-embedding-3-small", input="hello")
        assert info.value.status_code == (429 if kind == "rate_limit" else 400)
        assert s.last().fault == {"rule": f"{kind}-1", "kind": kind}

"""Replaying over real sockets: a cassette taped from one provider (seed 1) served by another
(seed 2) answers byte for byte as the first did; timing, misses, faults, quotas and the ledger
on top of replayed answers. Clients are the official SDKs, and raw HTTP where bytes matter."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import anthropic
import httpx2
import openai
import orjson
import pytest

from fakeprovider import FakeProviderThread
from fakeprovider.clock import VirtualTime
from fakeprovider.replay.cassette import CassetteWriter, Exchange, RecordedRequest, RecordedResponse
from fakeprovider.server import ServerError
from tests.conftest import wait_for_record
from tests.fakeprovider.replay.taping import tape

HI = [{"role": "user", "content": "Say something, please."}]
WEATHER_TOOL = {
    "type": "function",
    "function": {
        "name": "get_weather",
        "parameters": {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]},
    },
}
AZURE = "?api-version=2024-10-21"
# (name, surface, path, body): each taped once, then replayed.
CASES: list[tuple[str, str, str, dict[str, Any]]] = [
    ("chat", "openai.chat", "/v1/chat/completions", {"model": "gpt-4o", "messages": HI}),
    (
        "chat-stream-tools",
        "openai.chat",
        "/v1/chat/completions",
        {
            "model": "gpt-4o",
            "messages": HI,
            "tools": [WEATHER_TOOL],
            "stream": True,
            "stream_options": {"include_usage": True},
        },
    ),
    (
        "chat-stream",
        "openai.chat",
        "/v1/chat/completions",
        {"model": "gpt-4o-mini", "messages": HI, "stream": True},
    ),
    ("responses", "openai.responses", "/v1/responses", {"model": "gpt-4o", "input": "Say something."}),
    (
        "responses-stream",
        "openai.responses",
        "/v1/responses",
        {"model": "gpt-4o", "input": "Say something.", "stream": True},
    ),
    (
        "responses-tools",
        "openai.responses",
        "/v1/responses",
        {
            "model": "gpt-4o",
            "input": "Weather?",
            "stream": True,
            "tools": [
                {
                    "type": "function",
                    "name": "get_weather",
                    "parameters": WEATHER_TOOL["function"]["parameters"],
                }
            ],
        },
    ),
    ("azure-chat", "azure.chat", "/openai/deployments/gpt-4o/chat/completions" + AZURE, {"messages": HI}),
    (
        "azure-chat-stream",
        "azure.chat",
        "/openai/deployments/gpt-4o/chat/completions" + AZURE,
        {"messages": HI, "stream": True},
    ),
    (
        "azure-responses-stream",
        "azure.responses",
        "/openai/v1/responses",
        {"model": "gpt-4o", "input": "Say something.", "stream": True},
    ),
    (
        "azure-embeddings",
        "azure.embeddings",
        "/openai/v1/embeddings",
        {"model": "text-embedding-3-small", "input": "hi"},
    ),
    ("embeddings", "openai.embeddings", "/v1/embeddings", {"model": "text-embedding-3-small", "input": "hi"}),
]


@pytest.fixture(scope="module")
def cassette(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, bytes]]:
    """The cases taped from a seed-1 provider; their raw answers by case name."""
    directory = tmp_path_factory.mktemp("cassette")
    writer = CassetteWriter(directory)
    raws: dict[str, bytes] = {}
    with FakeProviderThread(latency="none", seed=1) as p, httpx2.Client(base_url=p.url, timeout=10) as http:
        for name, api, path, body in CASES:
            model = "gpt-4o" if api == "azure.chat" else None  # the deployment, from the path
            headers = {"api-key": "secret"} if api.startswith("azure") else None
            raws[name] = tape(http, writer, api, path, body, model=model, headers=headers)[0]
    return directory, raws


def replaying(directory: Path, **kwargs: Any) -> FakeProviderThread:
    kwargs.setdefault("latency", "none")
    kwargs.setdefault("seed", 2)
    return FakeProviderThread(replay=directory, **kwargs)


@pytest.fixture
def replayed(cassette: tuple[Path, dict[str, bytes]]) -> Iterator[FakeProviderThread]:
    with replaying(cassette[0], replay_miss="error") as p:
        yield p


def _post(url: str, path: str, body: dict[str, Any]) -> httpx2.Response:
    with httpx2.Client(base_url=url, timeout=10) as http:
        return http.post(path, content=orjson.dumps(body), headers={"api-key": "k"})


@pytest.mark.parametrize("case", [c[0] for c in CASES])
def test_a_replayed_answer_is_byte_identical_to_the_recorded_one(
    case: str, cassette: tuple[Path, dict[str, bytes]], replayed: FakeProviderThread
) -> None:
    _, api, path, body = next(c for c in CASES if c[0] == case)
    before = len(replayed.state.ledger.records())
    resp = _post(replayed.url, path, body)
    assert resp.status_code == 200
    assert resp.content == cassette[1][case]
    # Another seed generates another answer: the bytes came from the cassette.
    with FakeProviderThread(latency="none", seed=2) as fresh:
        assert _post(fresh.url, path, body).content != cassette[1][case]
    record = wait_for_record(replayed, before + 1)  # a stream's record lands after its last byte
    assert record.api == api
    assert record.outcome == "ok"


def test_the_sdks_read_replayed_answers_and_the_ledger_bills_the_recorded_usage(
    cassette: tuple[Path, dict[str, bytes]], replayed: FakeProviderThread
) -> None:
    client = openai.OpenAI(base_url=replayed.url + "/v1", api_key="sk-test", max_retries=0)
    before = len(replayed.state.ledger.records())
    with client:
        completion = client.chat.completions.create(model="gpt-4o", messages=HI)  # type: ignore[arg-type]
        recorded = orjson.loads(cassette[1]["chat"])
        assert completion.id == recorded["id"]
        assert completion.choices[0].message.content == recorded["choices"][0]["message"]["content"]
        chunks = list(
            client.chat.completions.create(
                model="gpt-4o",
                messages=HI,  # type: ignore[arg-type]
                tools=[WEATHER_TOOL],  # type: ignore[list-item]
                stream=True,
                stream_options={"include_usage": True},
            )
        )
        calls = [tc for c in chunks if c.choices for tc in (c.choices[0].delta.tool_calls or [])]
        assert calls
        assert calls[0].function is not None
        assert calls[0].function.name == "get_weather"
        usage = chunks[-1].usage
        assert usage is not None
    wait_for_record(replayed, before + 2)  # the stream's record lands after its last byte
    plain, streamed = replayed.state.ledger.records()[-2:]
    assert (plain.input_tokens, plain.output_tokens) == (
        recorded["usage"]["prompt_tokens"],
        recorded["usage"]["completion_tokens"],
    )
    assert (streamed.input_tokens, streamed.output_tokens) == (usage.prompt_tokens, usage.completion_tokens)
    assert streamed.cost_usd == pytest.approx(
        (usage.prompt_tokens * 2.5 + usage.completion_tokens * 10) / 1e6
    )  # gpt-4o's catalogue prices times the recorded tokens
    with httpx2.Client(base_url=replayed.url) as http:
        replay = http.get("/control/replay").json()["replay"]
    assert replay["hits"] == 2
    assert replay["misses"] == 0
    assert replay["recordings"] == len(CASES)


def test_a_miss_is_refused_in_the_surfaces_error_shape_naming_the_nearest(
    replayed: FakeProviderThread,
) -> None:
    client = openai.OpenAI(base_url=replayed.url + "/v1", api_key="sk-test", max_retries=0)
    with client, pytest.raises(openai.BadRequestError) as caught:
        client.chat.completions.create(model="gpt-4o", messages=[{"role": "user", "content": "Other."}])
    message = caught.value.message
    assert "No recorded openai.chat request matches" in message
    assert "-openai.chat-gpt-4o-" in message
    assert "messages.0.content differs" in message
    assert caught.value.code == "replay_miss"
    claude = anthropic.Anthropic(base_url=replayed.url, api_key="sk-ant", max_retries=0)
    with claude, pytest.raises(anthropic.BadRequestError) as refused:
        claude.messages.create(model="claude-sonnet-4", max_tokens=50, messages=HI)  # type: ignore[arg-type]
    assert refused.value.body["error"]["type"] == "invalid_request_error"  # type: ignore[index]
    assert "nearest recording is" in refused.value.message
    assert "surface openai." in refused.value.message
    record = replayed.state.ledger.records()[-1]
    assert record.status == 400
    assert record.outcome == "error"


def test_a_miss_is_generated_by_default(cassette: tuple[Path, dict[str, bytes]]) -> None:
    with replaying(cassette[0]) as p:
        client = openai.OpenAI(base_url=p.url + "/v1", api_key="sk-test", max_retries=0)
        with client:
            other = client.chat.completions.create(
                model="gpt-4o", messages=[{"role": "user", "content": "Hm."}]
            )
        assert other.choices[0].message.content
        assert p.state.replay is not None
        assert p.state.replay.stats()["misses"] == 1


def test_faults_act_on_replayed_answers(cassette: tuple[Path, dict[str, bytes]]) -> None:
    scenario = {"faults": [{"fault": {"kind": "partial", "after_tokens": 2, "mode": "length"}}]}
    with replaying(cassette[0], scenario=scenario) as p:
        resp = _post(p.url, "/v1/chat/completions", CASES[0][3])
        recorded = orjson.loads(cassette[1]["chat"])
        answer = resp.json()
        assert answer["id"] == recorded["id"]
        assert answer["choices"][0]["finish_reason"] == "length"
        assert answer["usage"]["completion_tokens"] == 2
        full = recorded["choices"][0]["message"]["content"]
        assert full.startswith(answer["choices"][0]["message"]["content"])
        assert answer != recorded
        record = p.state.ledger.records()[-1]
        assert record.outcome == "partial"
        assert record.output_tokens == 2
        assert record.input_tokens == recorded["usage"]["prompt_tokens"]


def test_quotas_admit_replayed_calls_with_their_recorded_tokens(
    cassette: tuple[Path, dict[str, bytes]],
) -> None:
    recorded = orjson.loads(cassette[1]["chat"])["usage"]["total_tokens"]
    scenario = {"limits": [{"scope": "key", "tpm": recorded * 2}]}
    with replaying(cassette[0], scenario=scenario) as p:
        statuses = [_post(p.url, "/v1/chat/completions", CASES[0][3]).status_code for _ in range(3)]
    assert statuses == [200, 200, 429]


def test_recorded_timing_plays_at_the_replay_speed(cassette: tuple[Path, dict[str, bytes]]) -> None:
    clock = VirtualTime()
    with replaying(cassette[0], latency="realistic", warm=False, clock=clock, replay_speed=2.0) as p:
        body = CASES[2][3]
        resp = _post(p.url, "/v1/chat/completions", body)
        assert resp.status_code == 200
        # Taped events arrive at 100 + 10 i ms; the first content chunk is the second event.
        assert clock.slept[0] == pytest.approx(0.110 / 2)
        assert all(s == pytest.approx(0.010 / 2) for s in clock.slept[1:-1])
        clock.slept.clear()
        _post(p.url, "/v1/chat/completions", CASES[0][3])  # whole: everything at its end (250 ms)
        assert sum(clock.slept) == pytest.approx(0.250 / 2)


def test_a_scripted_reply_wins_over_the_recording(cassette: tuple[Path, dict[str, bytes]]) -> None:
    scenario = {"responses": [{"reply": {"content": "Scripted."}}]}
    with replaying(cassette[0], scenario=scenario) as p:
        answer = _post(p.url, "/v1/chat/completions", CASES[0][3]).json()
    assert answer["choices"][0]["message"]["content"] == "Scripted."


def test_a_bad_cassette_is_refused_naming_the_file_and_field(tmp_path: Path) -> None:
    with pytest.raises(ServerError, match="no such cassette directory"):
        FakeProviderThread(replay=tmp_path / "missing")
    (tmp_path / "000001-x.json").write_text('{"rehearsal_cassette": 1, "api": 3}')
    with pytest.raises(ServerError, match=r"000001-x.json: api: expected a string"):
        FakeProviderThread(replay=tmp_path)
    with pytest.raises(ServerError, match="replay speed"):
        FakeProviderThread(replay=tmp_path, replay_speed=-1)


def test_a_recorded_error_is_replayed_as_it_came(tmp_path: Path) -> None:
    body = {"model": "gpt-4o", "messages": HI}
    error = {
        "error": {
            "message": "Rate limit reached (recorded).",
            "type": "requests",
            "code": "rate_limit_exceeded",
        }
    }
    CassetteWriter(tmp_path).write(
        Exchange(
            "openai.chat",
            "gpt-4o",
            False,
            RecordedRequest("POST", "/v1/chat/completions", {}, {}, body),
            RecordedResponse(429, {"retry-after": "7", "x-secret": "<redacted>"}, error, None, None, 40.0),
        )
    )
    with replaying(tmp_path) as p:
        resp = _post(p.url, "/v1/chat/completions", body)
        assert resp.status_code == 429
        assert resp.json() == error
        assert resp.headers["retry-after"] == "7"
        assert "x-secret" not in resp.headers
        record = p.state.ledger.records()[-1]
        assert (record.status, record.outcome) == (429, "error")
        assert record.error == "Rate limit reached (recorded)."


# (surface, path, body, how its error body names the miss): one request per surface that no
# recording matches, refused in that surface's own error shape.
MISSES: list[tuple[str, str, dict[str, Any], Any]] = [
    (
        "openai.responses",
        "/v1/responses",
        {"model": "gpt-4o", "input": "Something else."},
        lambda b: b["error"]["message"],
    ),
    (
        "azure.chat",
        "/openai/deployments/gpt-4o/chat/completions" + AZURE,
        {"messages": [{"role": "user", "content": "Other."}]},
        lambda b: b["error"]["message"],
    ),
    (
        "gemini.generate",
        "/v1beta/models/gemini-2.5-flash:generateContent",
        {"contents": [{"role": "user", "parts": [{"text": "Other."}]}]},
        lambda b: b["error"]["status"] == "INVALID_ARGUMENT" and b["error"]["message"],
    ),
    (
        "bedrock.converse",
        "/model/amazon.nova-lite-v1:0/converse",
        {"messages": [{"role": "user", "content": [{"text": "Other."}]}]},
        lambda b: b["message"],
    ),
]


@pytest.mark.parametrize(("api", "path", "body", "message_of"), MISSES, ids=[m[0] for m in MISSES])
def test_a_miss_is_refused_in_each_surfaces_own_error_shape(
    replayed: FakeProviderThread, api: str, path: str, body: dict[str, Any], message_of: Any
) -> None:
    answer = _post(replayed.url, path, body)
    assert answer.status_code == 400, answer.text
    message = message_of(answer.json())
    assert f"No recorded {api} request matches" in message
    assert "nearest recording is" in message
    if api == "bedrock.converse":
        assert answer.headers["x-amzn-errortype"].startswith("ValidationException")
    assert replayed.state.ledger.records()[-1].status == 400

"""`rehearse record` end to end: the official SDKs call a real fake provider through the recording
proxy on real sockets; each test checks the SDK's answer against a direct call, the cassette's
file, and that the credential never reached the disk."""

from __future__ import annotations

import array
import base64
import io
import json
import socket
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import anthropic
import boto3
import openai
import pytest
from botocore.config import Config
from google import genai
from google.genai import types

from fakeprovider.replay import cassette
from fakeprovider.replay.cassette import REDACTED, Exchange, iter_exchanges
from fakeprovider.replay.exchange import PASSTHROUGH
from fakeprovider.replay.recorder import RecorderError, RecorderThread
from fakeprovider.server import FakeProviderThread

KEY = "sk-rehearsal-secret-4f1c9d"
CLAUDE = "claude-sonnet-5-5"
FLASH = "gemini-2.5-flash"
NOVA = "us.amazon.nova-pro-v1:0"
HI = [{"role": "user", "content": "Say hello, please."}]
WEATHER: dict[str, Any] = {
    "type": "function",
    "function": {
        "name": "weather",
        "description": "The weather in a city.",
        "parameters": {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]},
    },
}


_OPEN: list[Any] = []  # the SDK clients of the running test, closed after it


@pytest.fixture(autouse=True)
def _close_clients() -> Iterator[None]:
    yield
    while _OPEN:
        _OPEN.pop().close()


def opened(client: Any) -> Any:
    _OPEN.append(client)
    return client


@pytest.fixture(scope="module")
def upstream() -> Iterator[FakeProviderThread]:
    with FakeProviderThread(latency="none", warm=False) as provider:
        yield provider


class Recording:
    """A recorder in front of `upstream`, writing into `directory`."""

    def __init__(self, thread: RecorderThread, directory: Path, log: io.StringIO) -> None:
        self.thread = thread
        self.directory = directory
        self.log = log

    @property
    def url(self) -> str:
        return self.thread.url

    def exchanges(self) -> list[Exchange]:
        """Every exchange written, read back by the cassette reader (which checks the format);
        and not one file holds the credential."""
        self.thread.flush()
        for path in self.directory.iterdir():
            assert KEY not in path.read_text(), path
        return list(iter_exchanges(self.directory))


@contextmanager
def recording(upstream_url: str, tmp_path: Path) -> Iterator[Recording]:
    log = io.StringIO()
    directory = tmp_path / "cassette"
    with RecorderThread(upstream_url, directory, log=log) as thread:
        yield Recording(thread, directory, log)


@pytest.fixture
def rec(upstream: FakeProviderThread, tmp_path: Path) -> Iterator[Recording]:
    with recording(upstream.url, tmp_path) as r:
        yield r


def oai(url: str) -> openai.OpenAI:
    return opened(openai.OpenAI(base_url=url + "/v1", api_key=KEY, max_retries=0, timeout=10))  # type: ignore[no-any-return]


def assert_stream_timed(x: Exchange) -> None:
    events = x.response.events
    assert events
    times = [e.t_ms for e in events]
    assert times == sorted(times)
    assert times[0] > 0
    assert x.response.end_ms >= times[-1]


def test_openai_chat_is_passed_through_and_recorded_with_the_key_redacted(
    upstream: FakeProviderThread, rec: Recording
) -> None:
    direct = oai(upstream.url).chat.completions.create(model="gpt-4o-mini", messages=HI)  # type: ignore[arg-type]
    via = oai(rec.url).chat.completions.create(model="gpt-4o-mini", messages=HI)  # type: ignore[arg-type]
    assert via.choices[0].message.content == direct.choices[0].message.content
    [x] = rec.exchanges()
    assert (x.api, x.model, x.stream, x.response.status) == ("openai.chat", "gpt-4o-mini", False, 200)
    assert x.request.path == "/v1/chat/completions"
    assert x.request.headers["authorization"] == REDACTED
    assert x.request.body["messages"] == HI
    assert x.response.body == via.model_dump(exclude_unset=True)
    assert x.response.headers["x-request-id"] == via._request_id  # type: ignore[attr-defined]


def test_openai_chat_stream_is_recorded_event_by_event(upstream: FakeProviderThread, rec: Recording) -> None:
    def text(url: str) -> str:
        stream = oai(url).chat.completions.create(model="gpt-4o-mini", messages=HI, stream=True)  # type: ignore[arg-type]
        return "".join(c.choices[0].delta.content or "" for c in stream if c.choices)

    assert text(rec.url) == text(upstream.url)
    [x] = rec.exchanges()
    assert (x.api, x.stream) == ("openai.chat", True)
    assert_stream_timed(x)
    events = x.response.events or ()
    assert events[-1].data == "[DONE]"
    recorded = "".join(
        e.data["choices"][0]["delta"].get("content") or ""
        for e in events
        if isinstance(e.data, dict) and e.data["choices"]
    )
    assert recorded == text(upstream.url)


def test_openai_tool_call_arguments_arrive_unchanged(upstream: FakeProviderThread, rec: Recording) -> None:
    def call(url: str) -> Any:
        answer = oai(url).chat.completions.create(
            model="gpt-4o-mini",
            messages=HI,  # type: ignore[arg-type]
            tools=[WEATHER],  # type: ignore[list-item]
            tool_choice="required",
        )
        return answer.choices[0].message.tool_calls[0].function  # type: ignore[index,union-attr]

    direct, via = call(upstream.url), call(rec.url)
    assert (via.name, via.arguments) == (direct.name, direct.arguments)
    [x] = rec.exchanges()
    assert x.request.body["tools"] == [WEATHER]
    assert x.response.body["choices"][0]["message"]["tool_calls"][0]["function"]["arguments"] == via.arguments


def test_openai_responses_stream_and_embeddings(upstream: FakeProviderThread, rec: Recording) -> None:
    def text(url: str) -> str:
        events = oai(url).responses.create(model="gpt-4o-mini", input="Say hello.", stream=True)
        return "".join(e.delta for e in events if e.type == "response.output_text.delta")

    def vector(url: str) -> list[float]:
        return oai(url).embeddings.create(model="text-embedding-3-small", input="hello").data[0].embedding

    assert text(rec.url) == text(upstream.url)
    assert vector(rec.url) == vector(upstream.url)
    responses, embeddings = rec.exchanges()
    assert (responses.api, responses.stream) == ("openai.responses", True)
    assert_stream_timed(responses)
    names = [e.event for e in responses.response.events or ()]
    assert names[0] == "response.created"
    assert names[-1] == "response.completed"
    assert (embeddings.api, embeddings.model, embeddings.stream) == (
        "openai.embeddings",
        "text-embedding-3-small",
        False,
    )
    recorded = embeddings.response.body["data"][0]["embedding"]  # the SDK asks for base64
    assert array.array("f", base64.b64decode(recorded)).tolist() == pytest.approx(vector(upstream.url))


def test_anthropic_messages_plain_and_streamed(upstream: FakeProviderThread, rec: Recording) -> None:
    def client(url: str) -> anthropic.Anthropic:
        return opened(anthropic.Anthropic(base_url=url, api_key=KEY, max_retries=0, timeout=10))  # type: ignore[no-any-return]

    def plain(url: str) -> str:
        answer = client(url).messages.create(model=CLAUDE, max_tokens=50, messages=HI)  # type: ignore[arg-type]
        return answer.content[0].text  # type: ignore[union-attr]

    def streamed(url: str) -> str:
        with client(url).messages.stream(model=CLAUDE, max_tokens=50, messages=HI) as stream:  # type: ignore[arg-type]
            return "".join(stream.text_stream)

    assert plain(rec.url) == plain(upstream.url)
    assert streamed(rec.url) == streamed(upstream.url)
    whole, stream = rec.exchanges()
    assert (whole.api, whole.model, whole.stream) == ("anthropic.messages", CLAUDE, False)
    assert REDACTED in (whole.request.headers.get("x-api-key"), whole.request.headers.get("authorization"))
    assert (stream.api, stream.stream) == ("anthropic.messages", True)
    assert_stream_timed(stream)
    names = [e.event for e in stream.response.events or ()]
    assert names[0] == "message_start"
    assert names[-1] == "message_stop"


def test_gemini_generate_and_stream_name_the_model_of_the_path(
    upstream: FakeProviderThread, rec: Recording
) -> None:
    # Held for the test: a client that is collected closes its connections under a running call.
    clients = {
        url: opened(genai.Client(api_key=KEY, http_options=types.HttpOptions(base_url=url, timeout=10_000)))
        for url in (rec.url, upstream.url)
    }

    def plain(url: str) -> str | None:
        return clients[url].models.generate_content(model=FLASH, contents="Say hello.").text

    def streamed(url: str) -> str:
        chunks = clients[url].models.generate_content_stream(model=FLASH, contents="Hi")
        return "".join(c.text or "" for c in chunks)

    assert plain(rec.url) == plain(upstream.url)
    assert streamed(rec.url) == streamed(upstream.url)
    whole, stream = rec.exchanges()
    assert (whole.api, whole.model, whole.stream) == ("gemini.generate", FLASH, False)
    assert whole.request.headers["x-goog-api-key"] == REDACTED
    assert (stream.api, stream.model, stream.stream) == ("gemini.generate", FLASH, True)
    assert stream.request.path.endswith(":streamGenerateContent")
    assert_stream_timed(stream)


def test_bedrock_converse_stream_is_decoded_into_its_events(
    upstream: FakeProviderThread, rec: Recording
) -> None:
    def client(url: str) -> Any:
        return opened(
            boto3.client(
                "bedrock-runtime",
                endpoint_url=url,
                region_name="us-east-1",
                aws_access_key_id="AKIDREHEARSAL",
                aws_secret_access_key=KEY,
                config=Config(retries={"total_max_attempts": 1}, read_timeout=10, connect_timeout=5),
            )
        )

    def streamed(url: str) -> str:
        events = client(url).converse_stream(
            modelId=NOVA, messages=[{"role": "user", "content": [{"text": "Hi"}]}]
        )
        return "".join(
            e["contentBlockDelta"]["delta"]["text"] for e in events["stream"] if "contentBlockDelta" in e
        )

    assert streamed(rec.url) == streamed(upstream.url)
    [x] = rec.exchanges()
    assert (x.api, x.model, x.stream) == ("bedrock.converse", NOVA, True)
    assert x.request.headers["authorization"] == REDACTED
    assert_stream_timed(x)
    events = x.response.events or ()
    assert events[0].event == "messageStart"
    assert events[-1].event == "metadata"
    assert "".join(e.data["delta"]["text"] for e in events if e.event == "contentBlockDelta") == streamed(
        upstream.url
    )


def test_model_listing_and_unknown_paths_are_passed_through_and_recorded(rec: Recording) -> None:
    listed = oai(rec.url).models.list()
    assert any(m.id == "gpt-4o-mini" for m in listed)
    with pytest.raises(urllib.error.HTTPError) as e:
        urllib.request.urlopen(rec.url + "/v2/nowhere?key=" + KEY, timeout=10)
    assert e.value.code == 404
    e.value.close()
    models, unknown = rec.exchanges()
    assert (models.api, models.request.method) == ("models.list", "GET")
    assert unknown.api == PASSTHROUGH
    assert unknown.response.status == 404
    assert unknown.request.query == {"key": REDACTED}


def test_an_unreachable_upstream_is_a_502_naming_it(tmp_path: Path) -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]  # closed again: nothing listens there
    with recording(f"http://127.0.0.1:{port}", tmp_path) as r:
        with pytest.raises(urllib.error.HTTPError) as e:
            urllib.request.urlopen(r.url + "/v1/models", timeout=10)
        assert e.value.code == 502
        error = json.loads(e.value.read())["error"]
        e.value.close()
        assert error["type"] == "upstream_unreachable"
        assert f"127.0.0.1:{port}" in error["message"]
        assert r.exchanges() == []
        assert "cannot reach the upstream" in r.log.getvalue()


def test_the_exchange_cap_stops_recording_once_and_keeps_proxying(
    upstream: FakeProviderThread, rec: Recording, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(cassette, "MAX_EXCHANGES", 2)
    for _ in range(4):
        assert oai(rec.url).embeddings.create(model="text-embedding-3-small", input="x").data
    assert len(rec.exchanges()) == 2
    assert rec.log.getvalue().count("recording stopped") == 1


@pytest.mark.parametrize(
    ("upstream_url", "message"),
    [("ftp://example.com", "expected an http:// or https:// URL"), ("http://h/?a=1", "no query")],
)
def test_a_bad_upstream_is_refused_at_start(tmp_path: Path, upstream_url: str, message: str) -> None:
    with pytest.raises(RecorderError, match=message):
        RecorderThread(upstream_url, tmp_path / "c")


def test_a_cassette_that_cannot_be_made_is_refused_at_start(tmp_path: Path) -> None:
    (tmp_path / "file").write_text("")
    with pytest.raises(RecorderError, match="cannot create"):
        RecorderThread("http://127.0.0.1:1", tmp_path / "file" / "cassette")


CUT_SCENARIO = {
    "answer_length": {"default": {"median_tokens": 100, "per_prompt_token": 0, "spread": 0}},
    "faults": [
        {"match": {"model": "gpt-4o"}, "fault": {"kind": "partial", "after_tokens": 5, "mode": "drop"}}
    ],
}


def test_an_answer_the_upstream_cuts_is_cut_for_the_caller_and_recorded_as_far_as_it_came(
    tmp_path: Path,
) -> None:
    with (
        FakeProviderThread(latency="none", warm=False, scenario=CUT_SCENARIO) as cutting,
        recording(cutting.url, tmp_path) as r,
    ):
        stream = oai(r.url).chat.completions.create(model="gpt-4o", messages=HI, stream=True)  # type: ignore[arg-type]
        with pytest.raises(openai.APIError):
            for _ in stream:
                pass
        [x] = r.exchanges()
        events = x.response.events or ()
        assert events
        assert all(e.data != "[DONE]" for e in events)
        assert "the upstream cut the answer" in r.log.getvalue()


def test_azure_deployments_and_stored_responses_are_recorded_under_their_surfaces(
    upstream: FakeProviderThread, rec: Recording
) -> None:
    azure = opened(
        openai.AzureOpenAI(azure_endpoint=rec.url, api_version="2024-10-21", api_key=KEY, max_retries=0)
    )
    answer = azure.chat.completions.create(model="gpt-4o-mini", messages=HI)  # type: ignore[arg-type]
    assert answer.choices[0].message.content
    client = oai(rec.url)
    created = client.responses.create(model="gpt-4o-mini", input="Say hello.")
    assert client.responses.retrieve(created.id).id == created.id
    client.responses.delete(created.id)
    chat, post, get, delete = rec.exchanges()
    assert (chat.api, chat.model) == ("azure.chat", "gpt-4o-mini")
    assert chat.request.path == "/openai/deployments/gpt-4o-mini/chat/completions"
    assert chat.request.query == {"api-version": "2024-10-21"}
    assert chat.request.headers["api-key"] == REDACTED
    assert [x.api for x in (post, get, delete)] == [
        "openai.responses",
        "openai.responses.get",
        "openai.responses.delete",
    ]
    assert get.request.method == "GET"
    assert get.response.body["id"] == created.id

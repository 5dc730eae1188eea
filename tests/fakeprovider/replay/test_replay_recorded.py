"""Record with `rehearse record`'s proxy, replay with `--replay`: every surface, through its
official SDK. A provider (seed 1) answers through the recorder; another (seed 2) replaying the
cassette gives each SDK the same answer, text, tool calls, ids and usage, where generating
would give other words."""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import anthropic
import boto3
import openai
import pytest
from botocore.config import Config
from google import genai
from google.genai import types

from fakeprovider import FakeProviderThread
from fakeprovider.replay.recorder import RecorderThread

HI = [{"role": "user", "content": "Say something, please."}]
KEY = "sk-test"


def _openai(url: str) -> Any:
    client = openai.OpenAI(base_url=url + "/v1", api_key=KEY, max_retries=0)
    with client:
        whole = client.chat.completions.create(model="gpt-4o", messages=HI)  # type: ignore[arg-type]
        chunks = client.chat.completions.create(model="gpt-4o", messages=HI, stream=True)  # type: ignore[arg-type]
        return whole.model_dump(), [c.model_dump() for c in chunks]


def _azure(url: str) -> Any:
    client = openai.AzureOpenAI(azure_endpoint=url, api_version="2024-10-21", api_key=KEY, max_retries=0)
    with client:
        whole = client.chat.completions.create(model="gpt-4o", messages=HI)  # type: ignore[arg-type]
        chunks = client.chat.completions.create(model="gpt-4o", messages=HI, stream=True)  # type: ignore[arg-type]
        return whole.model_dump(), [c.model_dump() for c in chunks]


def _anthropic(url: str) -> Any:
    client = anthropic.Anthropic(base_url=url, api_key=KEY, max_retries=0)
    with client:
        whole = client.messages.create(model="claude-sonnet-4", max_tokens=60, messages=HI)  # type: ignore[arg-type]
        events = client.messages.create(model="claude-sonnet-4", max_tokens=60, messages=HI, stream=True)  # type: ignore[arg-type]
        return whole.model_dump(), [e.model_dump() for e in events]


def _gemini(url: str) -> Any:
    client = genai.Client(api_key=KEY, http_options=types.HttpOptions(base_url=url, timeout=10_000))
    with client:
        whole = client.models.generate_content(model="gemini-2.5-flash", contents="Say hello.")
        chunks = client.models.generate_content_stream(model="gemini-2.5-flash", contents="Say hello.")
        return whole.model_dump(exclude={"sdk_http_response"}), [
            c.model_dump(exclude={"sdk_http_response"}) for c in chunks
        ]


def _bedrock(url: str) -> Any:
    client = boto3.client(
        "bedrock-runtime",
        endpoint_url=url,
        region_name="us-east-1",
        aws_access_key_id="AKIDREHEARSAL",
        aws_secret_access_key=KEY,
        config=Config(retries={"total_max_attempts": 1}, read_timeout=10, connect_timeout=5),
    )
    messages = [{"role": "user", "content": [{"text": "Say hello."}]}]
    model = "anthropic.claude-3-haiku-20240307-v1:0"
    try:
        whole = client.converse(modelId=model, messages=messages)
        stream = client.converse_stream(modelId=model, messages=messages)
        events = list(stream["stream"])
    finally:
        client.close()
    for answer in (whole, stream):
        answer.pop("ResponseMetadata", None)  # the request id and headers: the server's own
    return whole, events


SURFACES: dict[str, Callable[[str], Any]] = {
    "openai": _openai,
    "azure": _azure,
    "anthropic": _anthropic,
    "gemini": _gemini,
    "bedrock": _bedrock,
}


@pytest.fixture(scope="module")
def recorded(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, Any]]:
    """Each surface's calls recorded through the proxy from a seed-1 provider, and what the
    SDKs made of them."""
    directory = tmp_path_factory.mktemp("cassette")
    with (
        FakeProviderThread(latency="none", seed=1) as upstream,
        RecorderThread(upstream.url, directory) as rec,
    ):
        seen = {name: call(rec.url) for name, call in SURFACES.items()}
        rec.flush()
    return directory, seen


@pytest.mark.parametrize("surface", list(SURFACES))
def test_a_replayed_surface_gives_its_sdk_the_recorded_answers(
    surface: str, recorded: tuple[Path, dict[str, Any]]
) -> None:
    directory, seen = recorded
    with FakeProviderThread(latency="none", seed=2, replay=directory, replay_miss="error") as p:
        assert SURFACES[surface](p.url) == seen[surface]
        stats = p.state.replay.stats() if p.state.replay else {}
        assert (stats["hits"], stats["misses"]) == (2, 0)
        # A stream's ledger record lands just after its last byte, which the SDK may not wait for.
        deadline = time.monotonic() + 3.0
        while len(p.state.ledger.records()) < 2 and time.monotonic() < deadline:
            time.sleep(0.01)
        whole, stream = p.state.ledger.records()
        assert whole.outcome == stream.outcome == "ok"
    with FakeProviderThread(latency="none", seed=2) as fresh:
        assert SURFACES[surface](fresh.url) != seen[surface]  # generating: other words


def test_a_fault_cuts_a_replayed_anthropic_message(recorded: tuple[Path, dict[str, Any]]) -> None:
    directory, seen = recorded
    scenario = {"faults": [{"fault": {"kind": "partial", "after_tokens": 2, "mode": "length"}}]}
    with FakeProviderThread(latency="none", seed=2, replay=directory, scenario=scenario) as p:
        whole, _ = _anthropic(p.url)
        recorded_whole = seen["anthropic"][0]
        assert whole["id"] == recorded_whole["id"]
        assert whole["stop_reason"] == "max_tokens"
        assert whole["usage"]["output_tokens"] == 2
        assert recorded_whole["content"][0]["text"].startswith(whole["content"][0]["text"])
        record = p.state.ledger.records()[0]
        assert (record.outcome, record.output_tokens) == ("partial", 2)
        assert record.input_tokens == recorded_whole["usage"]["input_tokens"]

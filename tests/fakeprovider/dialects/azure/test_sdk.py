"""Azure OpenAI end to end: the official `openai.AzureOpenAI` client against a real provider."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import openai
import pytest
from pydantic import BaseModel

from tests.fakeprovider.e2e import HELLO, Served, faults, serve

API_VERSION = "2024-10-21"
WEATHER: Any = {
    "type": "function",
    "function": {
        "name": "weather",
        "parameters": {
            "type": "object",
            "properties": {"city": {"type": "string"}, "days": {"type": "integer", "minimum": 1}},
            "required": ["city", "days"],
            "additionalProperties": False,
        },
    },
}


class Forecast(BaseModel):
    city: str
    celsius: int


def azure(served: Served, **kwargs: Any) -> openai.AzureOpenAI:
    kwargs.setdefault("max_retries", 0)
    kwargs.setdefault("api_key", "azure-key")
    client = openai.AzureOpenAI(
        azure_endpoint=served.url,
        api_version=API_VERSION,
        timeout=10.0,
        http_client=openai.DefaultHttpxClient(verify=False),
        **kwargs,
    )
    served._closers.append(client)
    return client


def test_chat_through_a_deployment_is_recorded_as_azure_chat_of_its_model() -> None:
    with serve() as served:
        raw = azure(served).chat.completions.with_raw_response.create(model="gpt-4o", messages=HELLO)
        completion = raw.parse()
        assert completion.choices[0].message.content
        assert raw.headers["apim-request-id"] == raw.headers["x-request-id"]
        assert completion.model_extra is not None
        assert completion.model_extra["prompt_filter_results"][0]["prompt_index"] == 0
        record = served.last()
        assert (record.api, record.model, record.deployment) == ("azure.chat", "gpt-4o", "gpt-4o")
        assert record.request_id == raw.headers["x-request-id"]
        assert completion.usage is not None
        assert record.output_tokens == completion.usage.completion_tokens


def test_a_streamed_chat_opens_with_the_prompt_filter_results_and_reports_usage() -> None:
    with serve() as served:
        chunks = list(
            azure(served).chat.completions.create(
                model="gpt-4o-mini", messages=HELLO, stream=True, stream_options={"include_usage": True}
            )
        )
        assert chunks[0].choices == []
        assert chunks[0].model_extra is not None
        assert "prompt_filter_results" in chunks[0].model_extra
        text = "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
        assert text
        assert chunks[-1].usage is not None
        record = served.last()
        assert (record.stream, record.output_tokens) == (True, chunks[-1].usage.completion_tokens)


def test_tools_and_structured_output_work_through_a_deployment() -> None:
    with serve() as served:
        client = azure(served)
        called = client.chat.completions.create(
            model="gpt-4o", messages=HELLO, tools=[WEATHER], tool_choice="required"
        )
        calls = called.choices[0].message.tool_calls
        assert calls is not None
        assert isinstance(calls[0], openai.types.chat.ChatCompletionMessageFunctionToolCall)
        assert calls[0].function.name == "weather"
        assert set(json.loads(calls[0].function.arguments)) >= {"city", "days"}
        parsed = client.chat.completions.parse(model="gpt-4o", messages=HELLO, response_format=Forecast)
        assert isinstance(parsed.choices[0].message.parsed, Forecast)


def test_embeddings_through_a_deployment() -> None:
    with serve() as served:
        result = azure(served).embeddings.create(
            model="text-embedding-3-small", input=["a", "b"], dimensions=8
        )
        assert [len(d.embedding) for d in result.data] == [8, 8]
        record = served.last()
        assert (record.api, record.model) == ("azure.embeddings", "text-embedding-3-small")


def test_a_scenario_deployment_serves_its_model_and_is_recorded() -> None:
    scenario = {"deployments": {"prod-chat": "gpt-4.1-mini"}}
    with serve(scenario) as served:
        completion = azure(served).chat.completions.create(model="prod-chat", messages=HELLO)
        assert completion.model == "gpt-4.1-mini"
        record = served.last()
        assert (record.model, record.deployment) == ("gpt-4.1-mini", "prod-chat")


def test_an_unknown_deployment_is_not_found_with_deployment_not_found() -> None:
    with serve() as served:
        with pytest.raises(openai.NotFoundError) as info:
            azure(served).chat.completions.create(model="no-such-deployment", messages=HELLO)
        assert info.value.code == "DeploymentNotFound"
        assert served.last().status == 404


def test_a_deployment_path_without_api_version_is_a_400() -> None:
    with serve() as served:
        resp = served.http().post(
            "/openai/deployments/gpt-4o/chat/completions", json={"messages": HELLO}, headers={"api-key": "k"}
        )
        assert resp.status_code == 400
        assert resp.json()["error"]["code"] == "MissingApiVersionParameter"
        assert resp.headers["apim-request-id"]


def test_the_v1_path_takes_the_deployment_from_the_body() -> None:
    with serve() as served:
        client = openai.OpenAI(base_url=served.url + "/openai/v1/", api_key="k", max_retries=0)
        served._closers.append(client)
        assert client.chat.completions.create(model="gpt-4o", messages=HELLO).choices[0].message.content
        assert client.embeddings.create(model="text-embedding-3-small", input="x").data
        assert [r.api for r in served.records(2)] == ["azure.chat", "azure.embeddings"]


def test_a_content_filter_fault_marks_the_choice_filtered() -> None:
    with serve(faults({"match": {"api": "azure.chat"}, "fault": {"kind": "content_filter"}})) as served:
        completion = azure(served).chat.completions.create(model="gpt-4o", messages=HELLO)
        choice = completion.choices[0]
        assert choice.finish_reason == "content_filter"
        assert choice.model_extra is not None
        results = choice.model_extra["content_filter_results"]
        assert [name for name, r in results.items() if r["filtered"]] == ["violence"]
        record = served.last()
        assert (record.finish_reason, record.fault and record.fault["kind"]) == (
            "content_filter",
            "content_filter",
        )


def test_a_429_is_retried_by_the_sdk_no_sooner_than_retry_after_ms() -> None:
    rule = {"first_attempts": 1, "fault": {"kind": "rate_limit", "retry_after_ms": 400}}
    with serve(faults(rule)) as served:
        completion = azure(served, max_retries=2).chat.completions.create(model="gpt-4o", messages=HELLO)
        assert completion.choices[0].message.content
        first, retry = served.records(2)
        assert (first.status, retry.status) == (429, 200)
        assert retry.sdk_retry_count == 1
        assert retry.ts_start - first.ts_end >= 0.4


def test_a_429_is_the_sdks_rate_limit_error_with_azures_body_and_headers() -> None:
    with serve(faults({"kind": "rate_limit", "retry_after_s": 3})) as served:
        with pytest.raises(openai.RateLimitError) as info:
            azure(served).chat.completions.create(model="gpt-4o", messages=HELLO)
        assert info.value.code == "429"
        headers = info.value.response.headers
        assert (headers["retry-after"], headers["retry-after-ms"]) == ("3", "3000")
        assert "ChatCompletions_Create" in info.value.message


def test_the_docs_azure_example_runs_as_written() -> None:
    text = (Path(__file__).parents[4] / "docs" / "provider.md").read_text()
    example = text.split("### Azure OpenAI", 1)[1].split("```python", 1)[1].split("```", 1)[0]
    with serve() as served:
        exec(example.replace("PORT", served.url.rsplit(":", 1)[1]), {})
        assert [r.api for r in served.records(2)] == ["azure.chat", "azure.embeddings"]


def test_a_path_azure_does_not_serve_is_resource_not_found_for_an_azure_key() -> None:
    with serve() as served:
        resp = served.http().post(
            "/openai/deployments/gpt-4o/completions?api-version=2024-10-21", json={}, headers={"api-key": "k"}
        )
        assert resp.status_code == 404
        assert resp.json() == {"error": {"code": "404", "message": "Resource not found"}}


def test_the_responses_api_through_azure_is_recorded_as_azure_responses_and_kept() -> None:
    with serve() as served:
        client = azure(served)
        reply = client.responses.create(model="gpt-4o", input="Say something, please.")
        assert reply.status == "completed"
        assert reply.output_text
        # Stored on the Azure surface, read back and forgotten there.
        assert client.responses.retrieve(reply.id).id == reply.id
        client.responses.delete(reply.id)
        with pytest.raises(openai.NotFoundError):
            client.responses.retrieve(reply.id)
        (record,) = served.records(1)
        assert (record.api, record.model, record.deployment, record.status) == (
            "azure.responses",
            "gpt-4o",
            "gpt-4o",
            200,
        )


def test_a_streamed_azure_response_and_its_unknown_deployment() -> None:
    with serve() as served:
        client = azure(served)
        with client.responses.stream(model="gpt-4o", input="Say something, please.") as stream:
            final = stream.get_final_response()
        assert final.status == "completed"
        with pytest.raises(openai.NotFoundError) as info:
            client.responses.create(model="no-such-deployment", input="hi")
        assert info.value.code == "DeploymentNotFound"
        resp = served.http().post(
            "/openai/responses", json={"model": "gpt-4o", "input": "hi"}, headers={"api-key": "k"}
        )
        assert resp.status_code == 400
        assert resp.json()["error"]["code"] == "MissingApiVersionParameter"
        v1 = openai.OpenAI(base_url=served.url + "/openai/v1/", api_key="k", max_retries=0)
        served._closers.append(v1)
        assert v1.responses.create(model="gpt-4o", input="hi").output_text
        assert [r.api for r in served.records(4)][-1] == "azure.responses"

"""Bedrock Converse end to end: boto3's `bedrock-runtime` client (and pydantic-ai's
`BedrockConverseModel` on it) against a real provider on a real socket."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import boto3
import pytest
from botocore.client import BaseClient
from botocore.config import Config
from pydantic_ai import Agent
from pydantic_ai.models.bedrock import BedrockConverseModel
from pydantic_ai.providers.bedrock import BedrockProvider

from tests.fakeprovider.e2e import Served, serve

SONNET = "anthropic.claude-3-5-sonnet-20240620-v1:0"
NOVA = "us.amazon.nova-pro-v1:0"
HELLO: list[Any] = [{"role": "user", "content": [{"text": "Say something, please."}]}]
WEATHER: dict[str, Any] = {
    "tools": [
        {
            "toolSpec": {
                "name": "weather",
                "description": "The weather in a city.",
                "inputSchema": {
                    "json": {
                        "type": "object",
                        "properties": {"city": {"type": "string"}},
                        "required": ["city"],
                    }
                },
            }
        }
    ]
}


def bedrock(served: Served, attempts: int = 1, mode: str = "standard") -> BaseClient:
    """boto3's bedrock-runtime client on the provider (`attempts`: botocore's retry budget)."""
    client = boto3.client(
        "bedrock-runtime",
        endpoint_url=served.url,
        region_name="us-east-1",
        aws_access_key_id="AKIDTEST",
        aws_secret_access_key="secret",
        config=Config(
            retries={"mode": mode, "total_max_attempts": attempts}, read_timeout=10, connect_timeout=5
        ),
    )
    served._closers.append(client)
    return client


def test_converse_answers_text_and_is_recorded_as_bedrock_converse_of_its_model() -> None:
    with serve() as served:
        answer = bedrock(served).converse(modelId=SONNET, messages=HELLO, inferenceConfig={"maxTokens": 50})
        assert answer["output"]["message"]["content"][0]["text"]
        assert answer["stopReason"] in ("end_turn", "max_tokens")
        assert answer["metrics"]["latencyMs"] >= 0
        record = served.last()
        assert (record.api, record.model, record.stream, record.status) == (
            "bedrock.converse",
            SONNET,
            False,
            200,
        )
        assert record.output_tokens == answer["usage"]["outputTokens"]
        assert record.input_tokens == answer["usage"]["inputTokens"]
        assert record.request_id == answer["ResponseMetadata"]["RequestId"]


def test_converse_is_billed_at_the_catalogue_models_price() -> None:
    with serve() as served:
        answer = bedrock(served).converse(modelId=NOVA, messages=HELLO)
        usage = answer["usage"]
        record = served.last()
        assert record.cost_usd == pytest.approx(
            (usage["inputTokens"] * 0.80 + usage["outputTokens"] * 3.20) / 1e6
        )


def test_converse_stream_sends_the_event_sequence_and_is_recorded_as_a_stream() -> None:
    with serve() as served:
        response = bedrock(served).converse_stream(modelId=NOVA, messages=HELLO)
        events = list(response["stream"])
        names = [next(iter(e)) for e in events]
        assert names[0] == "messageStart"
        assert set(names[1:-3]) == {"contentBlockDelta"}
        assert names[-3:] == ["contentBlockStop", "messageStop", "metadata"]
        text = "".join(e["contentBlockDelta"]["delta"]["text"] for e in events if "contentBlockDelta" in e)
        assert text
        usage = events[-1]["metadata"]["usage"]
        record = served.last()
        assert (record.api, record.model, record.stream) == ("bedrock.converse", NOVA, True)
        assert record.output_tokens == usage["outputTokens"]
        assert (
            response["ResponseMetadata"]["HTTPHeaders"]["content-type"]
            == "application/vnd.amazon.eventstream"
        )


def test_a_tool_is_called_with_input_its_schema_allows_then_its_result_is_answered() -> None:
    with serve() as served:
        client = bedrock(served)
        first = client.converse(modelId=SONNET, messages=HELLO, toolConfig=WEATHER)
        assert first["stopReason"] == "tool_use"
        use = first["output"]["message"]["content"][-1]["toolUse"]
        assert use["name"] == "weather"
        assert isinstance(use["input"]["city"], str)
        assert use["toolUseId"].startswith("tooluse_")
        result = {"toolResult": {"toolUseId": use["toolUseId"], "content": [{"json": {"celsius": 21}}]}}
        messages = [*HELLO, first["output"]["message"], {"role": "user", "content": [result]}]
        second = client.converse(modelId=SONNET, messages=messages, toolConfig=WEATHER)
        assert second["stopReason"] == "end_turn"
        assert [r.finish_reason for r in served.records(2)] == ["tool_calls", "stop"]


def test_a_streamed_tool_call_arrives_as_start_and_input_deltas() -> None:
    with serve() as served:
        response = bedrock(served).converse_stream(
            modelId=SONNET, messages=HELLO, toolConfig={**WEATHER, "toolChoice": {"any": {}}}
        )
        events = list(response["stream"])
        [start] = [e["contentBlockStart"]["start"]["toolUse"] for e in events if "contentBlockStart" in e]
        assert start["name"] == "weather"
        args = "".join(
            e["contentBlockDelta"]["delta"]["toolUse"]["input"] for e in events if "contentBlockDelta" in e
        )
        assert '"city"' in args
        assert events[-2] == {"messageStop": {"stopReason": "tool_use"}}


def test_tags_come_from_headers_or_request_metadata() -> None:
    with serve() as served:
        client = bedrock(served)
        client.converse(
            modelId=NOVA, messages=HELLO, requestMetadata={"route": "summarise", "tenant": "acme"}
        )
        assert served.last().tags == {"route": "summarise", "feature": None, "tenant": "acme"}


def test_an_unknown_model_id_is_a_validation_exception() -> None:
    with serve() as served:
        client = bedrock(served)
        with pytest.raises(client.exceptions.ValidationException, match="model identifier is invalid"):
            client.converse(modelId="mistral.mistral-large-2402-v1:0", messages=HELLO)
        assert served.last().status == 400


def test_a_scripted_reply_is_sent_on_bedrock() -> None:
    scenario = {
        "responses": [{"match": {"api": "bedrock.converse"}, "reply": {"content": "Scripted hello."}}]
    }
    with serve(scenario) as served:
        answer = bedrock(served).converse(modelId=NOVA, messages=HELLO)
        assert answer["output"]["message"]["content"] == [{"text": "Scripted hello."}]
        events = list(bedrock(served).converse_stream(modelId=NOVA, messages=HELLO)["stream"])
        text = "".join(e["contentBlockDelta"]["delta"]["text"] for e in events if "contentBlockDelta" in e)
        assert text == "Scripted hello."


async def test_pydantic_ai_bedrock_converse_model_completes_a_tool_call() -> None:
    with serve() as served:
        model = BedrockConverseModel(NOVA, provider=BedrockProvider(bedrock_client=bedrock(served)))
        agent = Agent(model, instructions="Use the tool.")
        asked: list[str] = []

        @agent.tool_plain
        def weather(city: str) -> str:
            """The weather in a city."""
            asked.append(city)
            return f"21 C in {city}"

        result = await agent.run("What is the weather in Paris?")
        assert isinstance(result.output, str)
        assert result.output
        assert len(asked) == 1
        records = served.records(2)
        assert [(r.api, r.finish_reason) for r in records] == [
            ("bedrock.converse", "tool_calls"),
            ("bedrock.converse", "stop"),
        ]


async def test_pydantic_ai_streams_through_converse_stream() -> None:
    with serve() as served:
        model = BedrockConverseModel(SONNET, provider=BedrockProvider(bedrock_client=bedrock(served)))
        async with Agent(model).run_stream("Say something, please.") as run:
            text = await run.get_output()
        assert text
        record = served.last()
        assert (record.api, record.stream, record.finish_reason) == ("bedrock.converse", True, "stop")


def test_the_docs_bedrock_example_runs_as_written(capsys: pytest.CaptureFixture[str]) -> None:
    text = (Path(__file__).parents[4] / "docs" / "provider.md").read_text()
    example = text.split("### AWS Bedrock Converse", 1)[1].split("```python", 1)[1].split("```", 1)[0]
    with serve() as served:
        scope: dict[str, Any] = {}
        exec(example.replace("PORT", served.url.rsplit(":", 1)[1]), scope)
        scope["client"].close()
        records = served.records(2)
        assert [(r.api, r.stream) for r in records] == [
            ("bedrock.converse", False),
            ("bedrock.converse", True),
        ]
        assert records[0].tags["route"] == "summarize"
        assert "metadata" in capsys.readouterr().out


def test_an_operation_not_served_is_resource_not_found_in_bedrocks_shape() -> None:
    with serve() as served:
        client = bedrock(served)
        with pytest.raises(client.exceptions.ResourceNotFoundException, match="Invalid URL"):
            client.invoke_model(modelId=SONNET, body=b"{}")

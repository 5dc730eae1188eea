"""Agent frameworks on the Responses API, end to end against a running fake provider: the
OpenAI Agents SDK in its default (Responses) mode, and pydantic-ai's `OpenAIResponsesModel`.
Each runs a whole tool loop: a function call, the tool's output sent back, a final answer."""

from __future__ import annotations

import openai
import pytest
from agents import Agent, OpenAIProvider, RunConfig, Runner, function_tool
from pydantic import BaseModel
from pydantic_ai import Agent as PydanticAgent
from pydantic_ai import NativeOutput
from pydantic_ai.models.openai import OpenAIResponsesModel
from pydantic_ai.providers.openai import OpenAIProvider as PydanticOpenAIProvider

from tests.fakeprovider.e2e import GPT, serve

pytestmark = pytest.mark.usefixtures("quiet_server")


class Forecast(BaseModel):
    city: str
    celsius: int


def _client(url: str) -> openai.AsyncOpenAI:
    return openai.AsyncOpenAI(
        base_url=url + "/v1",
        api_key="sk-test",
        max_retries=0,
        http_client=openai.DefaultAsyncHttpxClient(verify=False),
    )


async def test_openai_agents_runs_a_function_tool_loop_to_a_final_answer() -> None:
    asked: list[str] = []

    @function_tool
    def get_weather(city: str) -> str:
        """The weather in a city."""
        asked.append(city)
        return f"sunny in {city}"

    with serve() as s:
        client = _client(s.url)
        agent = Agent(name="forecaster", instructions="Use the tool.", tools=[get_weather], model=GPT)
        # Tracing off: it would export to OpenAI's servers; this test talks to loopback only.
        config = RunConfig(model_provider=OpenAIProvider(openai_client=client), tracing_disabled=True)
        async with client:
            result = await Runner.run(agent, "What is the weather in Paris?", run_config=config)
        assert isinstance(result.final_output, str)
        assert result.final_output
        assert len(asked) == 1
        records = s.records(2)
        assert [r.api for r in records] == ["openai.responses", "openai.responses"]
        assert [r.finish_reason for r in records] == ["tool_calls", "stop"]


async def test_pydantic_ai_responses_model_runs_a_tool_then_returns_its_output_type() -> None:
    with serve() as s:
        client = _client(s.url)
        model = OpenAIResponsesModel(GPT, provider=PydanticOpenAIProvider(openai_client=client))
        agent = PydanticAgent(model, output_type=NativeOutput(Forecast))
        asked: list[str] = []

        @agent.tool_plain
        def get_weather(city: str) -> str:
            """The weather in a city."""
            asked.append(city)
            return f"21 C in {city}"

        async with client:
            result = await agent.run("What is the weather in Paris?")
        assert isinstance(result.output, Forecast)
        assert len(asked) == 1
        assert [r.api for r in s.records(2)] == ["openai.responses", "openai.responses"]

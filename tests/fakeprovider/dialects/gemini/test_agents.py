"""pydantic-ai's `GoogleModel` on the Gemini surface, end to end: a whole tool loop (a function
call, the tool's result sent back as a `functionResponse`, a final answer), and native JSON output.

pydantic-ai-slim's `google` extra asks for google-genai < 3; its `GoogleModel` runs unchanged on
the google-genai 3 pinned here, and is tested on it (the extra itself is not installed)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import httpx2
import pytest
from pydantic import BaseModel
from pydantic_ai import Agent, NativeOutput
from pydantic_ai.models.google import GoogleModel
from pydantic_ai.providers.google import GoogleProvider

from tests.fakeprovider.e2e import serve

pytestmark = pytest.mark.usefixtures("quiet_server")

# A model id pydantic-ai does not flag as deprecated (its warning would fail the test); the
# catalogue resolves it by family (to gemini-2.5-flash-lite's prices and limits).
MODEL = "gemini-3.5-flash-lite"


class Forecast(BaseModel):
    city: str
    celsius: int


@asynccontextmanager
async def _model(url: str) -> AsyncIterator[GoogleModel]:
    """A `GoogleModel` on the provider at `url`, its HTTP client closed on exit."""
    async with httpx2.AsyncClient(timeout=30.0) as http:
        yield GoogleModel(
            MODEL, provider=GoogleProvider(api_key="gemini-key", base_url=url, http_client=http)
        )


async def test_pydantic_ai_google_model_runs_a_tool_to_a_final_answer() -> None:
    asked: list[str] = []
    with serve() as s:
        async with _model(s.url) as model:
            agent = Agent(model)

            @agent.tool_plain
            def get_weather(city: str) -> str:
                """The weather in a city."""
                asked.append(city)
                return f"sunny in {city}"

            result = await agent.run("What is the weather in Paris?")
        assert isinstance(result.output, str)
        assert result.output
        assert len(asked) == 1
        records = s.records(2)
        assert [(r.api, r.model) for r in records] == [("gemini.generate", MODEL)] * 2
        assert [r.finish_reason for r in records] == ["tool_calls", "stop"]


async def test_pydantic_ai_google_model_returns_native_json_output() -> None:
    with serve() as s:
        async with _model(s.url) as model:
            result = await Agent(model, output_type=NativeOutput(Forecast)).run("Forecast for Oslo?")
        assert isinstance(result.output, Forecast)
        assert s.last().api == "gemini.generate"

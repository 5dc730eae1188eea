"""Gemini end to end: the official `google-genai` client against a real provider on a socket."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import jsonschema
import pytest
from google import genai
from google.genai import types
from pydantic import BaseModel

from fakeprovider.catalogue.families import DEFAULT_CATALOGUE
from tests.fakeprovider.e2e import Served, serve

FLASH = "gemini-2.5-flash"
WEATHER_SCHEMA: dict[str, Any] = {
    "type": "object",
    "properties": {
        "city": {"type": "string", "minLength": 2},
        "days": {"type": "integer", "minimum": 1, "maximum": 14},
    },
    "required": ["city", "days"],
    "additionalProperties": False,
}
WEATHER = types.Tool(
    function_declarations=[types.FunctionDeclaration(name="weather", parameters_json_schema=WEATHER_SCHEMA)]
)


class Forecast(BaseModel):
    city: str
    celsius: int


def gemini(served: Served, **options: Any) -> genai.Client:
    """A Gemini client on the provider; `options` go to its `HttpOptions`."""
    options.setdefault("timeout", 10_000)  # ms
    client = genai.Client(
        api_key="gemini-key", http_options=types.HttpOptions(base_url=served.url, **options)
    )
    served._closers.append(client)
    return client


def _calling(mode: types.FunctionCallingConfigMode, **kwargs: Any) -> types.GenerateContentConfig:
    return types.GenerateContentConfig(
        tools=[WEATHER],
        tool_config=types.ToolConfig(
            function_calling_config=types.FunctionCallingConfig(mode=mode, **kwargs)
        ),
    )


def test_generate_answers_text_and_is_recorded_as_gemini_generate() -> None:
    with serve() as served:
        response = gemini(served).models.generate_content(model=FLASH, contents="Say something, please.")
        assert response.text
        candidate = response.candidates[0] if response.candidates else None
        assert candidate is not None
        assert candidate.finish_reason == types.FinishReason.STOP
        usage = response.usage_metadata
        assert usage is not None
        record = served.last()
        assert (record.api, record.model, record.stream) == ("gemini.generate", FLASH, False)
        assert (record.input_tokens, record.output_tokens) == (
            usage.prompt_token_count,
            usage.candidates_token_count,
        )
        assert usage.total_token_count == record.input_tokens + record.output_tokens
        assert response.model_version == FLASH


def test_a_stream_ends_with_the_finish_and_the_billed_usage() -> None:
    with serve() as served:
        chunks = list(gemini(served).models.generate_content_stream(model=FLASH, contents="Tell me more."))
        assert len(chunks) > 2
        assert "".join(c.text or "" for c in chunks)
        last = chunks[-1]
        assert last.candidates is not None
        assert last.candidates[0].finish_reason == types.FinishReason.STOP
        record = served.last()
        assert record.stream
        assert last.usage_metadata is not None
        assert record.output_tokens == last.usage_metadata.candidates_token_count
        assert record.ttft_ms is not None


def test_max_output_tokens_stops_with_max_tokens() -> None:
    with serve() as served:
        config = types.GenerateContentConfig(max_output_tokens=3)
        response = gemini(served).models.generate_content(model=FLASH, contents="Go on.", config=config)
        assert response.candidates is not None
        assert response.candidates[0].finish_reason == types.FinishReason.MAX_TOKENS
        assert served.last().output_tokens == 3


@pytest.mark.parametrize("stream", [False, True])
def test_mode_any_calls_a_function_with_schema_valid_args(stream: bool) -> None:
    with serve() as served:
        models = gemini(served).models
        if stream:
            chunks = models.generate_content_stream(
                model=FLASH, contents="Weather?", config=_calling(types.FunctionCallingConfigMode.ANY)
            )
            calls = [c for chunk in chunks for c in chunk.function_calls or []]
        else:
            calls = (
                models.generate_content(
                    model=FLASH, contents="Weather?", config=_calling(types.FunctionCallingConfigMode.ANY)
                ).function_calls
                or []
            )
        assert [c.name for c in calls] == ["weather"]
        jsonschema.validate(calls[0].args, WEATHER_SCHEMA)


def test_mode_none_answers_with_text() -> None:
    with serve() as served:
        response = gemini(served).models.generate_content(
            model=FLASH, contents="Weather?", config=_calling(types.FunctionCallingConfigMode.NONE)
        )
        assert response.function_calls is None
        assert response.text


def test_allowed_function_names_pick_the_function() -> None:
    with serve() as served:
        tool = types.Tool(
            function_declarations=[
                types.FunctionDeclaration(name="weather", parameters_json_schema=WEATHER_SCHEMA),
                types.FunctionDeclaration(name="clock", parameters_json_schema={"type": "object"}),
            ]
        )
        config = types.GenerateContentConfig(
            tools=[tool],
            tool_config=types.ToolConfig(
                function_calling_config=types.FunctionCallingConfig(
                    mode=types.FunctionCallingConfigMode.ANY, allowed_function_names=["clock"]
                )
            ),
        )
        response = gemini(served).models.generate_content(model=FLASH, contents="Time?", config=config)
        assert [c.name for c in response.function_calls or []] == ["clock"]


def test_the_sdks_automatic_function_calling_completes_the_turn() -> None:
    seen: list[tuple[str, int]] = []

    def weather(city: str, days: int) -> str:
        """The forecast for a city."""
        seen.append((city, days))
        return "sunny"

    with serve() as served:
        config = types.GenerateContentConfig(tools=[weather])
        response = gemini(served).models.generate_content(
            model=FLASH, contents="Weather in Oslo?", config=config
        )
        assert len(seen) == 1
        assert response.text
        assert response.automatic_function_calling_history
        assert [r.api for r in served.records(2)] == ["gemini.generate", "gemini.generate"]


def test_response_schema_from_a_pydantic_model_is_parsed() -> None:
    with serve() as served:
        config = types.GenerateContentConfig(response_mime_type="application/json", response_schema=Forecast)
        response = gemini(served).models.generate_content(model=FLASH, contents="Forecast?", config=config)
        assert isinstance(response.parsed, Forecast)


def test_response_json_schema_is_honoured() -> None:
    with serve() as served:
        config = types.GenerateContentConfig(
            response_mime_type="application/json", response_json_schema=WEATHER_SCHEMA
        )
        response = gemini(served).models.generate_content(model=FLASH, contents="Forecast?", config=config)
        jsonschema.validate(response.parsed, WEATHER_SCHEMA)


def test_count_tokens_is_what_generate_bills_and_is_not_in_the_ledger() -> None:
    with serve() as served:
        client = gemini(served)
        contents = "How many tokens is this sentence, roughly?"
        counted = client.models.count_tokens(model=FLASH, contents=contents)
        assert served.records() == []
        response = client.models.generate_content(model=FLASH, contents=contents)
        assert response.usage_metadata is not None
        assert counted.total_tokens == response.usage_metadata.prompt_token_count


def test_embeddings_one_and_many_are_recorded_as_gemini_embed() -> None:
    with serve() as served:
        client = gemini(served)
        config = types.EmbedContentConfig(output_dimensionality=16)
        result = client.models.embed_content(
            model="gemini-embedding-001", contents=["one", "two"], config=config
        )
        assert [len(e.values or []) for e in result.embeddings or []] == [16, 16]
        again = client.models.embed_content(model="gemini-embedding-001", contents=["one"], config=config)
        assert again.embeddings is not None
        assert result.embeddings is not None
        assert again.embeddings[0].values == result.embeddings[0].values
        record = served.last()
        assert (record.api, record.model, record.status) == ("gemini.embed", "gemini-embedding-001", 200)
        assert record.cost_usd > 0


def test_models_are_listed_and_got_with_their_limits() -> None:
    with serve() as served:
        client = gemini(served)
        names = [m.name for m in client.models.list()]
        assert "models/gemini-2.5-pro" in names
        assert "models/gpt-4o" not in names
        model = client.models.get(model="gemini-2.5-pro")
        assert (model.input_token_limit, model.output_token_limit) == (1_048_576, 65_536)


def test_an_unknown_model_is_googles_404() -> None:
    with serve() as served:
        with pytest.raises(genai.errors.ClientError) as info:
            gemini(served).models.generate_content(model="text-bison-001", contents="hi")
        assert (info.value.code, info.value.status) == (404, "NOT_FOUND")
        record = served.last()
        assert (record.api, record.status, record.model) == ("gemini.generate", 404, "text-bison-001")


def test_a_bad_request_is_invalid_argument() -> None:
    with serve() as served:
        config = types.GenerateContentConfig(temperature=5)
        with pytest.raises(genai.errors.ClientError) as info:
            gemini(served).models.generate_content(model=FLASH, contents="hi", config=config)
        assert (info.value.code, info.value.status) == (400, "INVALID_ARGUMENT")
        assert info.value.message is not None
        assert "temperature" in info.value.message


def test_the_v1_api_is_served_too() -> None:
    with serve() as served:
        response = gemini(served, api_version="v1").models.generate_content(model=FLASH, contents="hi")
        assert response.text


def test_the_key_may_come_in_the_url_and_a_quota_per_key_counts_it() -> None:
    scenario = {"limits": [{"scope": "key", "match": {"api": "gemini.generate"}, "rpm": 1}]}
    body = {"contents": [{"parts": [{"text": "hi"}]}]}
    url = f"/v1beta/models/{FLASH}:generateContent"
    with serve(scenario) as served:
        http = served.http()
        assert http.post(url, params={"key": "first"}, json=body).status_code == 200
        assert http.post(url, params={"key": "second"}, json=body).status_code == 200
        refused = http.post(url, params={"key": "first"}, json=body)
        assert refused.status_code == 429
        assert refused.json()["error"]["status"] == "RESOURCE_EXHAUSTED"


def test_the_docs_gemini_example_runs_as_written(capsys: pytest.CaptureFixture[str]) -> None:
    text = (Path(__file__).parents[4] / "docs" / "provider.md").read_text()
    example = text.split("### Google Gemini", 1)[1].split("```python", 1)[1].split("```", 1)[0]
    with serve() as served:
        exec(example.replace("PORT", served.url.rsplit(":", 1)[1]), {})
        records = served.records(3)
        assert [(r.api, r.stream) for r in records] == [
            ("gemini.generate", False),
            ("gemini.generate", True),
            ("gemini.embed", False),
        ]
    assert capsys.readouterr().out


def test_a_gemini_key_on_a_shared_or_unknown_path_gets_geminis_answer() -> None:
    with serve() as served:
        http = served.http()
        listed = http.get("/v1/models", headers={"x-goog-api-key": "k"}).json()
        assert "models/gemini-2.5-flash" in [m["name"] for m in listed["models"]]
        assert "data" in http.get("/v1/models").json()  # without it, OpenAI's list
        unknown = http.post(
            "/v1beta/models/gemini-2.5-flash:predict", json={}, headers={"x-goog-api-key": "k"}
        )
        assert unknown.status_code == 404
        assert unknown.json()["error"]["status"] == "NOT_FOUND"


@pytest.mark.parametrize(
    "method", ["generateContent", "streamGenerateContent", "countTokens", "embedContent"]
)
@pytest.mark.parametrize("body", [b"{not json", b"[1, 2]"])
def test_a_body_that_is_no_json_object_is_googles_invalid_argument(method: str, body: bytes) -> None:
    model = "gemini-embedding-001" if method == "embedContent" else FLASH
    with serve() as served:
        resp = served.http().post(
            f"/v1beta/models/{model}:{method}", content=body, headers={"Content-Type": "application/json"}
        )
        assert resp.status_code == 400
        error = resp.json()["error"]
        assert (error["code"], error["status"]) == (400, "INVALID_ARGUMENT")
        assert error["message"]


def test_a_repeated_long_prompt_reports_its_cached_tokens_and_bills_them_cheaper() -> None:
    document = " ".join(f"Clause {i} of the agreement says nothing new." for i in range(300))
    with serve() as served:
        client = gemini(served)
        first = client.models.generate_content(model=FLASH, contents=document + " Summarise.")
        second = client.models.generate_content(model=FLASH, contents=document + " Summarise again.")
        assert first.usage_metadata is not None
        assert second.usage_metadata is not None
        assert first.usage_metadata.cached_content_token_count is None
        cached = second.usage_metadata.cached_content_token_count
        assert cached is not None
        assert cached >= 1024
        record = served.records(2)[1]
        assert record.cached_tokens == cached
        info = DEFAULT_CATALOGUE.resolve(FLASH)
        assert info is not None
        uncached = info.cost_usd(record.input_tokens, 0, record.output_tokens)
        assert record.cost_usd == pytest.approx(
            info.cost_usd(record.input_tokens, cached, record.output_tokens)
        )
        assert record.cost_usd < uncached

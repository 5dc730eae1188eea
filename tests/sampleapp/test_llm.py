"""The call kinds: how each provider call is shaped before the policy runs it (the calls
themselves, through the routes and the provider's ledger, are in the route tests)."""

from __future__ import annotations

import openai
from openai import AsyncOpenAI

from sampleapp.config import AppConfig
from sampleapp.flaws import Behaviour
from sampleapp.llm import LLM, CallTags
from sampleapp.policy import Policy

TAGS = CallTags("summarize", "summary", "acme", "r-1")


def _llm(behaviour: Behaviour | None = None) -> LLM:
    # A real client that is never called: these tests only ask how a call would be shaped.
    client = AsyncOpenAI(base_url="http://127.0.0.1:9/v1", api_key="sk-unused", max_retries=0)
    return LLM(client, Policy(AppConfig(), behaviour or Behaviour()))


def test_every_call_carries_the_attribution_tags_and_the_request_id() -> None:
    assert _llm().headers(TAGS) == {
        "X-Route": "summarize",
        "X-Feature": "summary",
        "X-Tenant": "acme",
        "X-Request-Id": "r-1",
    }


def test_the_tagging_flaws_drop_only_their_own_headers() -> None:
    assert _llm(Behaviour(attribution=False)).headers(TAGS) == {"X-Request-Id": "r-1"}
    assert "X-Request-Id" not in _llm(Behaviour(forward_request_id=False)).headers(TAGS)
    assert _llm(Behaviour(forward_request_id=False)).headers(TAGS)["X-Route"] == "summarize"


def test_the_output_is_capped_unless_the_app_has_no_token_cap() -> None:
    assert _llm().output_cap(120) == 120
    assert _llm(Behaviour(cap_tokens=False)).output_cap(120) is openai.omit

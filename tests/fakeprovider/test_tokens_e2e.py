"""A prompt longer than the tokenizer takes in one call is counted, so a model's context window
refuses it with the real API's 400 (not a 500 from the tokenizer), and a window that holds it
takes it."""

from __future__ import annotations

import re
from collections.abc import Iterator

import anthropic
import openai
import pytest

from fakeprovider import FakeProviderThread
from fakeprovider.generation import tokens
from tests.fakeprovider.dialects.conftest import CLAUDE

pytestmark = [pytest.mark.timeout(60), pytest.mark.usefixtures("quiet_server")]

WORDS = ["The", "ledger", "records", "every", "call,", "its", "tokens", "and", "cost.", "Naïve", "日本語"]
# 210,000 words, about 1.3M characters: past bpe-openai's 1M-character limit for one call.
PROMPT = " ".join(WORDS[i % len(WORDS)] for i in range(210_000))


@pytest.fixture(scope="module")
def provider() -> Iterator[FakeProviderThread]:
    """One server for the module (it only answers; no test changes it); the shared
    `openai_client` and `anthropic_client` fixtures talk to it."""
    with FakeProviderThread(latency="none", seed=0) as p:
        yield p


def test_anthropic_prompt_over_the_window_is_400_prompt_too_long(
    anthropic_client: anthropic.Anthropic,
) -> None:
    assert len(PROMPT) >= 1_000_000  # the tokenizer's own limit for one call
    with pytest.raises(anthropic.BadRequestError) as err:
        anthropic_client.messages.create(
            model=CLAUDE, max_tokens=5, messages=[{"role": "user", "content": PROMPT}]
        )
    assert err.value.status_code == 400
    assert isinstance(err.value.body, dict)
    assert err.value.body["type"] == "error"
    assert err.value.body["error"]["type"] == "invalid_request_error"
    found = re.fullmatch(
        r"prompt is too long: (\d+) tokens > (\d+) maximum", err.value.body["error"]["message"]
    )
    assert found is not None, err.value.body
    # One user message: 3 framing tokens, then the text's cl100k tokens.
    assert int(found[1]) == tokens.MESSAGE_OVERHEAD + tokens.count(PROMPT, "cl100k_base")
    assert int(found[1]) > int(found[2])


def test_openai_prompt_over_the_window_is_400_context_length_exceeded(openai_client: openai.OpenAI) -> None:
    with pytest.raises(openai.BadRequestError) as err:
        openai_client.chat.completions.create(
            model="gpt-4o", messages=[{"role": "user", "content": PROMPT}], max_tokens=5
        )
    assert err.value.status_code == 400
    assert err.value.type == "invalid_request_error"
    assert err.value.code == "context_length_exceeded"
    assert err.value.param == "messages"
    expected = tokens.MESSAGE_OVERHEAD + 1 + tokens.count(PROMPT, "o200k_base") + tokens.REPLY_PRIMING
    assert f"maximum context length is 128000 tokens. However, your messages resulted in {expected} " in (
        err.value.message
    )


def test_a_window_that_holds_the_long_prompt_answers_and_bills_every_token(
    openai_client: openai.OpenAI,
) -> None:
    # gpt-4.1 has a 1,047,576-token window: the same prompt is counted and served.
    reply = openai_client.chat.completions.create(
        model="gpt-4.1", messages=[{"role": "user", "content": PROMPT}], max_tokens=3
    )
    assert reply.usage is not None
    expected = tokens.MESSAGE_OVERHEAD + 1 + tokens.count(PROMPT, "o200k_base") + tokens.REPLY_PRIMING
    assert reply.usage.prompt_tokens == expected
    assert expected > 200_000


def test_embedding_input_over_the_window_is_400_context_length_exceeded(openai_client: openai.OpenAI) -> None:
    with pytest.raises(openai.BadRequestError) as err:
        openai_client.embeddings.create(model="text-embedding-3-small", input=PROMPT)
    assert err.value.status_code == 400
    assert err.value.code == "context_length_exceeded"
    assert f"you requested {tokens.count(PROMPT, 'cl100k_base')} tokens" in err.value.message

"""The `fake_provider` fixture answering from a cassette: the session's (`rehearsal_replay`) or
one test's (`fake_provider.use_replay`), gone again in the next test."""

from __future__ import annotations

from pathlib import Path

import pytest

from fakeprovider.replay.cassette import CassetteWriter, Exchange, RecordedRequest, RecordedResponse
from tests.harness.pytest_plugin.inner import PYPROJECT

pytest_plugins = ["pytester"]

BODY = {"model": "gpt-4o", "messages": [{"role": "user", "content": "Hello?"}]}


def write_cassette(directory: Path, text: str) -> None:
    answer = {
        "id": "chatcmpl-recorded",
        "object": "chat.completion",
        "created": 1_700_000_000,
        "model": "gpt-4o",
        "choices": [{"index": 0, "message": {"role": "assistant", "content": text}, "finish_reason": "stop"}],
        "usage": {"prompt_tokens": 11, "completion_tokens": 3, "total_tokens": 14},
    }
    CassetteWriter(directory).write(
        Exchange(
            "openai.chat",
            "gpt-4o",
            False,
            RecordedRequest("POST", "/v1/chat/completions", {}, {}, BODY),
            RecordedResponse(200, {}, answer, None, None, 120.0),
        )
    )


INNER = """
import openai
import pytest

BODY = {body!r}

def ask(fake_provider):
    client = openai.OpenAI(base_url=fake_provider.openai_base_url, api_key="sk-test", max_retries=0)
    with client:
        return client.chat.completions.create(**BODY)

def test_{name}_first(fake_provider):
    {setup}
    reply = ask(fake_provider)
    assert reply.id == "chatcmpl-recorded"
    assert reply.choices[0].message.content == "Recorded words."
    [record] = fake_provider.ledger(at_least=1)
    assert (record.input_tokens, record.output_tokens) == (11, 3)
    assert fake_provider.replay_stats()["hits"] == 1

def test_{name}_second(fake_provider):
    reply = ask(fake_provider)
    assert (reply.id == "chatcmpl-recorded") is {again}
"""


def test_use_replay_answers_from_a_cassette_until_the_next_test(
    suite: pytest.Pytester, tmp_path: Path
) -> None:
    write_cassette(tmp_path / "cassette", "Recorded words.")
    setup = f"fake_provider.use_replay({str(tmp_path / 'cassette')!r}, miss='error')"
    suite.makepyfile(INNER.format(body=BODY, name="use", setup=setup, again=False))
    suite.runpytest().assert_outcomes(passed=2)


def test_the_session_cassette_comes_from_the_ini_option(suite: pytest.Pytester) -> None:
    write_cassette(suite.path / "cassettes" / "hello", "Recorded words.")
    suite.makepyprojecttoml(
        PYPROJECT + 'rehearsal_replay = "cassettes/hello"\nrehearsal_replay_miss = "error"\n'
    )
    suite.makepyfile(INNER.format(body=BODY, name="ini", setup="pass", again=True))
    suite.runpytest().assert_outcomes(passed=2)


def test_a_missing_session_cassette_is_a_usage_error(suite: pytest.Pytester) -> None:
    suite.makepyfile("def test_x(fake_provider):\n    pass\n")
    result = suite.runpytest("--rehearsal-replay", "nowhere")
    assert "no such cassette directory" in result.stdout.str() + result.stderr.str()
    assert result.ret != 0

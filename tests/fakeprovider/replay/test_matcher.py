"""The matcher on cassettes built in memory: what a key ignores, turns and cycling, the nearest
recording and its first difference, and `read_answer` of the OpenAI surfaces (no sockets)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from fakeprovider.dialects import DIALECTS
from fakeprovider.dialects.base import ChatDialect
from fakeprovider.generation.events import TextDelta, ToolArgsDelta, ToolCallStart
from fakeprovider.replay.answer import fit_tokens, offsets_to_delays
from fakeprovider.replay.cassette import (
    Cassette,
    CassetteError,
    CassetteWriter,
    Exchange,
    RecordedEvent,
    RecordedRequest,
    RecordedResponse,
)
from fakeprovider.replay.matcher import Matcher
from fakeprovider.replay.replayer import ReplayOptions

HI = [{"role": "user", "content": "hi"}]


def exchange(
    body: dict[str, Any],
    answer: Any = None,
    *,
    api: str = "openai.chat",
    stream: bool = False,
    events: tuple[RecordedEvent, ...] | None = None,
    status: int = 200,
) -> Exchange:
    return Exchange(
        api,
        body.get("model"),
        stream,
        RecordedRequest("POST", "/v1/chat/completions", {}, {}, body),
        RecordedResponse(status, {}, answer, None, events, 300.0),
    ).with_key()


def cassette(tmp_path: Path, *xs: Exchange) -> Cassette:
    writer = CassetteWriter(tmp_path)
    for x in xs:
        writer.write(x)
    return Cassette.load(tmp_path)


def test_ignored_fields_and_key_order_do_not_change_the_match(tmp_path: Path) -> None:
    recorded = {"model": "gpt-4o", "messages": HI, "temperature": 0.2, "user": "alice"}
    m = Matcher(cassette(tmp_path, exchange(recorded, {"n": 1})))
    asked = {
        "temperature": 0.2,
        "messages": HI,
        "model": "gpt-4o",
        "metadata": {"a": "b"},
        "stream_options": {"include_usage": True},
    }
    found = m.find("openai.chat", "gpt-4o", False, asked)
    assert found is not None
    assert found.response.body == {"n": 1}
    assert m.find("openai.chat", "gpt-4o", True, asked) is None  # the stream flag is part of it
    assert m.find("openai.chat", "gpt-4o-mini", False, asked) is None
    assert m.find("openai.chat", "gpt-4o", False, {**asked, "temperature": 0.3}) is None
    assert (m.hits, m.misses) == (1, 3)


def test_recordings_of_one_key_are_served_in_order_and_cycle(tmp_path: Path) -> None:
    body = {"model": "gpt-4o", "messages": HI}
    m = Matcher(cassette(tmp_path, *(exchange(body, {"n": n}) for n in range(3))))
    served = [m.find("openai.chat", "gpt-4o", False, body) for _ in range(7)]
    assert [x.response.body["n"] for x in served if x is not None] == [0, 1, 2, 0, 1, 2, 0]
    m.rewind()
    first = m.find("openai.chat", "gpt-4o", False, body)
    assert first is not None
    assert first.response.body == {"n": 0}


def test_a_miss_names_the_nearest_recording_and_the_first_difference(tmp_path: Path) -> None:
    near = {"model": "gpt-4o", "messages": [{"role": "user", "content": "hello"}], "temperature": 1}
    far = {"model": "gpt-4o", "messages": [{"role": "user", "content": "bye"}], "max_tokens": 5}
    m = Matcher(cassette(tmp_path, exchange(far), exchange(near)))
    asked = {"model": "gpt-4o", "messages": [{"role": "user", "content": "hellO"}], "temperature": 1}
    nearest = m.nearest("openai.chat", "gpt-4o", False, asked)
    assert nearest is not None
    assert nearest.exchange.request.body == near
    assert nearest.difference == "messages.0.content differs"
    assert "000002-openai.chat-gpt-4o-" in nearest.describe()
    # Another model: the same body wins, and the message says the model differs.
    other = m.nearest("openai.chat", "gpt-4.1", False, near)
    assert other is not None
    assert other.difference == "model 'gpt-4o', not 'gpt-4.1'"
    missing = m.nearest("openai.chat", "gpt-4o", False, {"model": "gpt-4o", "messages": near["messages"]})
    assert missing is not None
    assert missing.difference == "temperature differs"
    assert Matcher(cassette(tmp_path / "empty")).nearest("openai.chat", None, False, {}) is None


def test_replay_options_are_validated(tmp_path: Path) -> None:
    with pytest.raises(CassetteError, match="replay speed: expected a number > 0"):
        ReplayOptions(tmp_path, "generate", 0)
    with pytest.raises(CassetteError, match="replay miss: expected one of generate, error"):
        ReplayOptions(tmp_path, "ignore", 1)  # type: ignore[arg-type]


def test_tokens_are_fitted_to_the_recorded_total_and_offsets_become_delays() -> None:
    assert fit_tokens([1, 1, 1, 1], 4) == [1, 1, 1, 1]
    assert sum(fit_tokens([1, 1, 1], 10)) == 10
    assert fit_tokens([0, 0], 3) in ([2, 1], [1, 2])
    delays, tail = offsets_to_delays([100, 150, 150, 300], 400, 2.0)
    assert delays == [0.05, 0.025, 0.0, 0.075]
    assert tail == 0.05


def _chat() -> ChatDialect:
    dialect = DIALECTS["openai.chat"]
    assert isinstance(dialect, ChatDialect)
    return dialect


def test_a_chat_stream_with_tool_calls_reads_back_as_events() -> None:
    def chunk(delta: dict[str, Any], finish: str | None = None, **extra: Any) -> dict[str, Any]:
        return {
            "id": "chatcmpl-1",
            "created": 7,
            "system_fingerprint": "fp_1",
            "choices": [{"index": 0, "delta": delta, "finish_reason": finish}],
            **extra,
        }

    call = {"index": 0, "id": "call_1", "type": "function", "function": {"name": "f", "arguments": ""}}
    events = (
        RecordedEvent(5, data={"id": "x", "created": 7, "choices": [], "prompt_filter_results": []}),
        RecordedEvent(10, data=chunk({"role": "assistant", "content": None, "tool_calls": [call]})),
        RecordedEvent(20, data=chunk({"tool_calls": [{"index": 0, "function": {"arguments": '{"a":'}}]})),
        RecordedEvent(30, data=chunk({"tool_calls": [{"index": 0, "function": {"arguments": "1}"}}]})),
        RecordedEvent(40, data=chunk({}, "tool_calls")),
        RecordedEvent(
            41,
            data={
                "id": "chatcmpl-1",
                "created": 7,
                "choices": [],
                "usage": {
                    "prompt_tokens": 9,
                    "completion_tokens": 6,
                    "prompt_tokens_details": {"cached_tokens": 2},
                },
            },
        ),
        RecordedEvent(42, data="[DONE]"),
    )
    answer = _chat().read_answer(exchange({"model": "gpt-4o"}, stream=True, events=events))
    assert answer.events[0] == ToolCallStart(0, "call_1", "f")
    assert [e.text for e in answer.events[1:] if isinstance(e, ToolArgsDelta)] == ['{"a":', "1}"]
    assert sum(e.tokens for e in answer.events) == 6  # the recorded output, however split
    assert answer.offsets_ms == [10, 20, 30]
    assert answer.finish == "tool_calls"
    assert (answer.usage.input_tokens, answer.usage.cached_tokens, answer.usage.output_tokens) == (9, 2, 6)
    assert answer.meta is not None
    assert (answer.meta.response_id, answer.meta.created) == ("chatcmpl-1", 7)


def test_a_whole_completion_reads_back_as_token_pieces_arriving_at_the_end() -> None:
    body = {
        "id": "chatcmpl-2",
        "created": 8,
        "choices": [
            {
                "index": 0,
                "finish_reason": "length",
                "message": {"role": "assistant", "content": "Hello there, friend."},
            }
        ],
        "usage": {"prompt_tokens": 3, "completion_tokens": 5},
    }
    answer = _chat().read_answer(exchange({"model": "gpt-4o"}, body))
    assert "".join(e.text for e in answer.events if isinstance(e, TextDelta)) == "Hello there, friend."
    assert len(answer.events) > 1
    assert set(answer.offsets_ms) == {300.0}
    assert sum(e.tokens for e in answer.events) == 5
    assert answer.finish == "length"


@pytest.mark.parametrize("module", ["fakeprovider.replay.answer", "fakeprovider.replay.replayer"])
def test_a_replay_module_imported_first_does_not_cycle_through_the_dialects(module: str) -> None:
    done = subprocess.run(
        [sys.executable, "-c", f"import {module}"], capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 0, done.stderr

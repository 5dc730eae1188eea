"""`partial` end to end: what goes over the wire for each cut, what the SDKs report, what the
ledger bills.

A `drop` ends the chunked body without its terminating chunk and closes the connection; a
`reset` resets it. Both SDKs report either as a connection failure: `APIConnectionError`, or (in
anthropic releases before 2.17, while iterating a stream) the httpx transport error unwrapped —
which of the two is the SDK's choice, so the tests accept the family (`is_connection_failure`).
An `error_event` is a well-formed error frame inside a 200 stream: OpenAI's SDK raises `APIError`
with the provider's message, Anthropic's `APIStatusError` with `type` `overloaded_error`.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import anthropic
import openai
import pytest

from fakeprovider.accounting.ledger import LedgerRecord
from fakeprovider.catalogue.families import DEFAULT_CATALOGUE
from fakeprovider.dialects.base import Chunk
from fakeprovider.dialects.openai_chat import OpenAIChat
from fakeprovider.generation import tokens
from tests.conftest import LONG_ANSWERS
from tests.fakeprovider.e2e import (
    CLAUDE,
    GPT,
    HELLO,
    Served,
    caused_by,
    chat,
    faults,
    is_connection_failure,
    message,
    read_to_end,
    serve,
)

AFTER = 7

pytestmark = pytest.mark.usefixtures("quiet_server")

# The two streamed surfaces, as raw requests: path, body, and the frame only a whole answer ends with.
STREAMS = {
    "openai": ("/v1/chat/completions", {"model": GPT, "messages": HELLO, "stream": True}, b"data: [DONE]"),
    "anthropic": (
        "/v1/messages",
        {"model": CLAUDE, "max_tokens": 256, "messages": HELLO, "stream": True},
        b"event: message_stop",
    ),
}


def _partial(mode: str, after_tokens: int = AFTER) -> dict[str, Any]:
    # Answers longer than the cut, so that the fault, not the answer's natural end, ends them.
    rule = {"name": "cut", "fault": {"kind": "partial", "mode": mode, "after_tokens": after_tokens}}
    return faults(rule, **LONG_ANSWERS)


def _openai_stream_until_error(s: Served) -> tuple[str, BaseException]:
    """Read an OpenAI stream until it fails: the text received and the exception raised."""
    text: list[str] = []
    stream = s.openai().chat.completions.create(model=GPT, messages=HELLO, stream=True)
    try:
        for chunk in stream:
            if chunk.choices and chunk.choices[0].delta.content:
                text.append(chunk.choices[0].delta.content)
    except Exception as e:
        return "".join(text), e
    raise AssertionError("the stream ended without an error")


def _anthropic_stream_until_error(s: Served) -> tuple[str, BaseException, list[str]]:
    text: list[str] = []
    seen: list[str] = []
    stream = s.anthropic().messages.create(model=CLAUDE, max_tokens=256, messages=HELLO, stream=True)
    try:
        for event in stream:
            seen.append(event.type)
            if event.type == "content_block_delta" and event.delta.type == "text_delta":
                text.append(event.delta.text)
    except Exception as e:
        return "".join(text), e, seen
    raise AssertionError("the stream ended without an error")


def _assert_billed(r: LedgerRecord, received: str) -> None:
    """The record bills exactly the tokens the caller received, at the model's prices."""
    info = DEFAULT_CATALOGUE.resolve(r.model or "")
    assert info is not None
    assert r.output_tokens == tokens.count(received, info.encoding) == AFTER
    assert r.cost_usd == pytest.approx(info.cost_usd(r.input_tokens, r.cached_tokens, r.output_tokens))
    assert r.cost_usd > info.cost_usd(r.input_tokens, r.cached_tokens, 0)


# --- drop -----------------------------------------------------------------------------------


@pytest.mark.parametrize("api", sorted(STREAMS))
@pytest.mark.parametrize(
    ("mode", "ended", "outcome"), [("drop", "eof", "partial"), ("reset", "reset", "reset")]
)
def test_a_cut_ends_the_chunked_body_unterminated_by_a_close_or_a_reset(
    api: str, mode: str, ended: str, outcome: str
) -> None:
    path, body, last_frame = STREAMS[api]
    with serve(_partial(mode)) as s:
        wire = read_to_end(s.url, path, body)
        assert wire.received.startswith(b"HTTP/1.1 200")
        assert wire.ended == ended
        assert not wire.chunked_body_complete
        assert last_frame not in wire.body
        assert (s.last().status, s.last().outcome) == (200, outcome)


def test_partial_drop_openai_stream_is_a_connection_failure_and_bills_tokens_sent() -> None:
    with serve(_partial("drop")) as s:
        received, err = _openai_stream_until_error(s)
        assert is_connection_failure(err)
        r = s.last()
        assert (r.status, r.outcome, r.finish_reason) == (200, "partial", None)
        assert r.fault == {"rule": "cut", "kind": "partial"}
        _assert_billed(r, received)


def test_partial_drop_anthropic_stream_is_a_connection_failure_and_bills_tokens_sent() -> None:
    with serve(_partial("drop")) as s:
        received, err, seen = _anthropic_stream_until_error(s)
        assert is_connection_failure(err)
        assert "message_stop" not in seen
        r = s.last()
        assert (r.status, r.outcome, r.api) == (200, "partial", "anthropic.messages")
        _assert_billed(r, received)


def test_partial_drop_anthropic_stream_helper_is_a_connection_failure() -> None:
    with (
        serve(_partial("drop")) as s,
        s.anthropic().messages.stream(model=CLAUDE, max_tokens=256, messages=HELLO) as stream,
    ):
        with pytest.raises(Exception) as info:  # noqa: PT011 - the family is checked below
            stream.until_done()
        assert is_connection_failure(info.value)
        assert s.last().outcome == "partial"


def test_partial_drop_non_streamed_is_a_connection_failure_and_bills_nothing() -> None:
    with serve(_partial("drop")) as s:
        with pytest.raises(openai.APIConnectionError):
            chat(s.openai())
        with pytest.raises(anthropic.APIConnectionError):
            message(s.anthropic())
        for r in s.records(2):
            # Nothing went out: no status line, no tokens.
            assert (r.status, r.outcome, r.output_tokens, r.finish_reason) == (0, "partial", 0, None)
            assert r.cost_usd == pytest.approx(
                DEFAULT_CATALOGUE.resolve(r.model or "").cost_usd(r.input_tokens, r.cached_tokens, 0)  # type: ignore[union-attr]
            )


# --- reset ----------------------------------------------------------------------------------


def test_partial_reset_openai_stream_is_a_connection_failure_from_a_reset() -> None:
    with serve(_partial("reset")) as s:
        received, err = _openai_stream_until_error(s)
        assert is_connection_failure(err)
        assert caused_by(err, ConnectionResetError)
        r = s.last()
        assert (r.status, r.outcome) == (200, "reset")
        _assert_billed(r, received)


def test_partial_reset_anthropic_stream_is_a_connection_failure_from_a_reset() -> None:
    with serve(_partial("reset")) as s:
        received, err, _ = _anthropic_stream_until_error(s)
        assert is_connection_failure(err)
        assert caused_by(err, ConnectionResetError)
        r = s.last()
        assert r.outcome == "reset"
        _assert_billed(r, received)


def test_partial_reset_non_streamed_is_a_connection_failure_from_a_reset() -> None:
    with serve(_partial("reset")) as s:
        with pytest.raises(openai.APIConnectionError) as oi:
            chat(s.openai())
        assert caused_by(oi.value, ConnectionResetError)
        with pytest.raises(anthropic.APIConnectionError) as ai:
            message(s.anthropic())
        assert caused_by(ai.value, ConnectionResetError)
        assert [(r.status, r.outcome, r.output_tokens) for r in s.records(2)] == [(0, "reset", 0)] * 2


# --- error_event ----------------------------------------------------------------------------


def test_partial_error_event_openai_stream_raises_api_error_with_the_providers_message() -> None:
    with serve(_partial("error_event")) as s:
        received, err = _openai_stream_until_error(s)
        assert isinstance(err, openai.APIError)
        assert not is_connection_failure(err)
        assert err.message == "The server had an error while processing your request. Sorry about that!"
        assert err.body == {"message": err.message, "type": "server_error", "param": None, "code": None}
        r = s.last()
        assert (r.status, r.outcome, r.finish_reason) == (200, "partial", None)
        assert r.error == err.message
        _assert_billed(r, received)


def test_partial_error_event_anthropic_stream_raises_api_status_error_overloaded() -> None:
    with serve(_partial("error_event")) as s:
        received, err, seen = _anthropic_stream_until_error(s)
        # The SDK builds the error from the stream's error frame, inside a 200 answer.
        assert isinstance(err, anthropic.APIStatusError)
        assert err.type == "overloaded_error"
        assert err.body == {"type": "error", "error": {"type": "overloaded_error", "message": "Overloaded"}}
        assert "message_stop" not in seen
        r = s.last()
        assert (r.status, r.outcome) == (200, "partial")
        _assert_billed(r, received)


def test_partial_error_event_anthropic_stream_helper_raises_the_same() -> None:
    with serve(_partial("error_event")) as s:
        client = s.anthropic()
        with (
            pytest.raises(anthropic.APIStatusError, match="overloaded_error"),
            client.messages.stream(model=CLAUDE, max_tokens=256, messages=HELLO) as stream,
        ):
            stream.until_done()


def test_partial_error_event_non_streamed_is_a_500() -> None:
    with serve(_partial("error_event")) as s:
        with pytest.raises(openai.InternalServerError) as oi:
            chat(s.openai())
        assert oi.value.status_code == 500
        with pytest.raises(anthropic.InternalServerError) as ai:
            message(s.anthropic())
        assert ai.value.status_code == 500
        assert ai.value.type == "api_error"
        recs = s.records(2)
        assert [(r.status, r.outcome, r.output_tokens) for r in recs] == [(500, "error", 0)] * 2
        assert all(r.fault == {"rule": "cut", "kind": "partial"} for r in recs)


# --- length ---------------------------------------------------------------------------------


@pytest.mark.parametrize("stream", [False, True])
def test_partial_length_openai_ends_with_finish_reason_length(stream: bool) -> None:
    with serve(_partial("length")) as s:
        if stream:
            chunks = chat(s.openai(), stream=True, stream_options={"include_usage": True})
            text = "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
            finish = [c.choices[0].finish_reason for c in chunks if c.choices and c.choices[0].finish_reason]
            assert finish == ["length"]
            usage = chunks[-1].usage
        else:
            reply = chat(s.openai())
            text = reply.choices[0].message.content
            assert reply.choices[0].finish_reason == "length"
            usage = reply.usage
        assert usage.completion_tokens == AFTER
        r = s.last()
        assert (r.status, r.outcome, r.finish_reason) == (200, "partial", "length")
        _assert_billed(r, text)


@pytest.mark.parametrize("stream", [False, True])
def test_partial_length_anthropic_ends_with_stop_reason_max_tokens(stream: bool) -> None:
    with serve(_partial("length")) as s:
        client = s.anthropic()
        if stream:
            with client.messages.stream(model=CLAUDE, max_tokens=256, messages=HELLO) as st:
                reply = st.get_final_message()
        else:
            reply = message(client)
        assert reply.stop_reason == "max_tokens"
        assert reply.usage.output_tokens == AFTER
        text = "".join(b.text for b in reply.content if b.type == "text")
        r = s.last()
        assert (r.status, r.outcome, r.finish_reason) == (200, "partial", "length")
        _assert_billed(r, text)


def test_partial_cut_of_a_tool_call_bills_the_argument_tokens_sent() -> None:
    tool = {
        "type": "function",
        "function": {
            "name": "lookup",
            "parameters": {
                "type": "object",
                "properties": {"query": {"type": "string"}, "limit": {"type": "integer"}},
                "required": ["query", "limit"],
            },
        },
    }
    with serve(_partial("drop", after_tokens=3)) as s:
        args: list[str] = []
        stream = s.openai().chat.completions.create(model=GPT, messages=HELLO, tools=[tool], stream=True)

        def read() -> None:
            for chunk in stream:
                for call in (chunk.choices[0].delta.tool_calls or []) if chunk.choices else []:
                    args.append(call.function.arguments or "")  # type: ignore[union-attr]

        with pytest.raises(openai.APIConnectionError):
            read()
        r = s.last()
        assert r.outcome == "partial"
        assert r.output_tokens == tokens.count("".join(args), "o200k_base") == 3


def test_a_bug_mid_stream_ends_the_stream_like_a_drop_and_is_recorded(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    original = OpenAIChat.render_sse

    def broken(self: OpenAIChat, *args: Any) -> Iterator[Chunk]:
        for i, chunk in enumerate(original(self, *args)):
            if i == 4:
                raise RuntimeError("renderer bug")
            yield chunk

    monkeypatch.setattr(OpenAIChat, "render_sse", broken)
    with serve() as s:
        received, err = _openai_stream_until_error(s)
        assert is_connection_failure(err)
        r = s.last()
        assert (r.status, r.outcome, r.finish_reason) == (200, "error", None)
        assert r.error == "internal error in the fake provider: RuntimeError('renderer bug')"
        assert r.output_tokens == tokens.count(received, "o200k_base") == 3

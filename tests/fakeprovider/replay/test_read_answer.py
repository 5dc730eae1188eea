"""`read_answer` for Anthropic, Gemini and Bedrock, with no sockets: a plan rendered by the
dialect (as serving renders it) is recorded as a recorder would (SSE parsed, event-stream frames
decoded), read back, rendered again, and must give the same bytes; ids, finishes and usage
survive the trip."""

from __future__ import annotations

import pytest

from fakeprovider.catalogue.families import DEFAULT_CATALOGUE
from fakeprovider.dialects.anthropic import AnthropicMessages
from fakeprovider.dialects.base import ChatDialect, Usage
from fakeprovider.dialects.bedrock import BedrockConverse
from fakeprovider.dialects.gemini import GeminiGenerate
from fakeprovider.generation.plan import Event, FinishReason, Plan, TextDelta, ToolArgsDelta, ToolCallStart
from fakeprovider.generation.request import ChatRequest
from fakeprovider.replay.cassette import CassetteError, RecordedResponse
from tests.fakeprovider.replay.recording import plan_of, recorded_body, recorded_stream

DIALECTS: dict[str, tuple[ChatDialect, str]] = {
    "anthropic": (AnthropicMessages(), "claude-sonnet-4-5"),
    "gemini": (GeminiGenerate(), "gemini-2.5-flash"),
    "bedrock": (BedrockConverse(), "nova-pro"),
}
# The cache usage each provider can report: Anthropic writes with a TTL, Bedrock writes
# (5-minute), Gemini only reads.
USAGE = {
    "anthropic": Usage(120, 40, 9, written_5m=30, written_1h=20),
    "gemini": Usage(120, 40, 9),
    "bedrock": Usage(120, 40, 9, written_5m=30),
}


def _request(name: str, stream: bool) -> ChatRequest:
    dialect, model = DIALECTS[name]
    info = DEFAULT_CATALOGUE.resolve(model)
    assert info is not None
    return ChatRequest(dialect.api, info, stream, list(range(120)), include_usage=True)


def _plan(kind: str) -> Plan:
    events: list[Event] = [TextDelta("Let me ", 2), TextDelta('check "Oslo" ✓', 4)]
    finish: FinishReason = "stop"
    if kind == "tools":
        events += [
            ToolCallStart(0, "call_a1B2c3", "weather"),
            ToolArgsDelta(0, '{"city":', 2),
            ToolArgsDelta(0, '"Oslo","days":3}', 3),
            ToolCallStart(1, "call_d4E5f6", "search"),
            ToolArgsDelta(1, '{"query":"rain"}', 4),
        ]
        finish = "tool_calls"
    elif kind == "length":
        finish = "length"
    elif kind == "empty":
        events = []
    delays = [0.25 if i == 0 else 0.03 for i in range(len(events))]
    return Plan(events, delays, finish, tail_delay=0.02)


CASES = [(name, kind) for name in DIALECTS for kind in ("text", "tools", "length", "empty")]


@pytest.mark.parametrize(("name", "kind"), CASES)
def test_a_recorded_stream_renders_again_to_the_same_bytes(name: str, kind: str) -> None:
    dialect, _ = DIALECTS[name]
    req, plan, usage, meta = _request(name, True), _plan(kind), USAGE[name], dialect.new_meta()
    raw, exchange = recorded_stream(
        dialect.api, dialect.render_sse(req, plan, usage, meta), name == "bedrock"
    )
    answer = dialect.read_answer(exchange)
    again = b"".join(
        c.data for c in dialect.render_sse(req, plan_of(answer), answer.usage, answer.meta or meta)
    )
    assert again == raw
    assert answer.finish == plan.finish
    assert answer.usage == usage
    assert answer.meta is not None
    assert answer.meta.response_id == meta.response_id
    text, calls = plan_of(answer).content()
    wire_ids = {"anthropic": ["call_a1B2c3", "call_d4E5f6"], "bedrock": ["tooluse_a1B2c3", "tooluse_d4E5f6"]}
    ids = wire_ids.get(name, ["call_0", "call_1"])  # Gemini's wire has no call ids
    assert (text, calls) == (
        plan.text(),
        [(ids[i], n, args) for i, (_, n, args) in enumerate(plan.tool_calls())],
    )
    if name != "gemini":  # Gemini sends a call whole: its argument pieces arrive as one
        assert [type(e) for e in answer.events] == [type(e) for e in plan.events]
    assert answer.end_ms == pytest.approx((sum(plan.delays) + plan.tail_delay) * 1000)


@pytest.mark.parametrize(("name", "kind"), CASES)
def test_a_recorded_body_renders_again_to_the_same_bytes(name: str, kind: str) -> None:
    dialect, _ = DIALECTS[name]
    req, plan, usage, meta = _request(name, False), _plan(kind), USAGE[name], dialect.new_meta()
    raw = dialect.render_body(req, plan, usage, meta)
    end_ms = (sum(plan.delays) + plan.tail_delay) * 1000  # Bedrock's `latencyMs`: the answer's time
    answer = dialect.read_answer(recorded_body(dialect.api, raw, end_ms))
    assert dialect.render_body(req, plan_of(answer), answer.usage, answer.meta or meta) == raw
    assert answer.offsets_ms == [end_ms] * len(answer.events)
    assert answer.finish == plan.finish
    assert answer.usage == usage


@pytest.mark.parametrize("name", list(DIALECTS))
def test_replayed_pieces_bill_the_recorded_output_tokens(name: str) -> None:
    dialect, _ = DIALECTS[name]
    req, plan, usage = _request(name, True), _plan("tools"), USAGE[name]
    _, exchange = recorded_stream(
        dialect.api, dialect.render_sse(req, plan, usage, dialect.new_meta()), name == "bedrock"
    )
    answer = dialect.read_answer(exchange)
    assert sum(e.tokens for e in answer.events) == usage.output_tokens
    first, second = answer.events[0], answer.events[1]
    assert isinstance(first, TextDelta)
    assert isinstance(second, TextDelta)
    assert first.tokens <= second.tokens  # shared by characters: 7 then 14


@pytest.mark.parametrize("name", list(DIALECTS))
def test_an_error_status_is_refused_naming_the_file(name: str) -> None:
    dialect, _ = DIALECTS[name]
    exchange = recorded_body(dialect.api, b"{}", 5.0)
    failed = type(exchange)(
        exchange.api,
        exchange.model,
        False,
        exchange.request,
        RecordedResponse(529, {}, body={}),
        source="x/1.json",
    )
    with pytest.raises(CassetteError, match=r"x/1\.json: .*status 529"):
        dialect.read_answer(failed)


def test_an_unknown_stop_reason_is_refused_naming_it() -> None:
    dialect, _ = DIALECTS["anthropic"]
    raw = dialect.render_body(
        _request("anthropic", False), _plan("text"), USAGE["anthropic"], dialect.new_meta()
    )
    exchange = recorded_body(dialect.api, raw.replace(b'"end_turn"', b'"surprise"'), 1.0)
    with pytest.raises(
        CassetteError, match=r"test\.json: anthropic\.messages answer: stop_reason: unknown 'surprise'"
    ):
        dialect.read_answer(exchange)

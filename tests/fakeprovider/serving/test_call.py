"""The call: what a caller who leaves is billed, and how the call ends (no sockets)."""

from __future__ import annotations

from fakeprovider.dialects import DIALECTS
from fakeprovider.generation.events import Event, TextDelta, ToolArgsDelta, ToolCallStart
from fakeprovider.generation.plan import Plan
from fakeprovider.generation.request import Tags
from fakeprovider.serving.call import Call
from fakeprovider.state import ProviderConfig, ProviderState

M_START = 50.0


def _call(*, stream: bool = False) -> Call:
    call = Call(DIALECTS["openai.chat"], "req-1", True, None, None, Tags(), "sk", 0.0, M_START)
    call.model, call.stream, call.input_tokens, call.finish_reason = "gpt-4o", stream, 100, "stop"
    return call


def _plan() -> Plan:
    # Tokens due at 0.1 s (3), 0.2 s (a tool call's start: never billed), 0.3 s (4), 0.4 s (5).
    events: list[Event] = [
        TextDelta("a", 3),
        ToolCallStart(0, "call_1", "f"),
        ToolArgsDelta(0, "{}", 4),
        TextDelta("b", 5),
    ]
    return Plan(events, [0.1, 0.1, 0.1, 0.1], "stop")


def test_leaving_a_whole_answer_bills_the_tokens_generated_by_then() -> None:
    state = ProviderState(ProviderConfig(latency="none"))
    call = _call()
    call.price = info = state.catalogue.resolve("gpt-4o")  # as the request path sets it
    assert info is not None
    call.plan = _plan()
    call.cancelled(M_START + 0.35)
    assert (call.outcome, call.status, call.output_tokens) == ("client_cancelled", 499, 7)
    assert call.cost_usd == info.cost_usd(100, 0, 7) > 0


def test_leaving_before_the_plan_bills_nothing() -> None:
    call = _call()
    call.cancelled(M_START + 5)
    assert (call.outcome, call.status, call.output_tokens, call.cost_usd) == ("client_cancelled", 499, 0, 0.0)


def test_leaving_a_hold_is_a_timeout() -> None:
    call = _call()
    call.holding = True
    call.cancelled(M_START + 5)
    assert (call.outcome, call.status, call.finish_reason) == ("timeout", 499, None)


def test_leaving_a_stream_keeps_its_200_and_leaves_billing_to_the_stream() -> None:
    call = _call(stream=True)
    call.plan = _plan()
    call.cancelled(M_START + 0.35)
    assert (call.outcome, call.status, call.finish_reason, call.output_tokens) == (
        "client_cancelled",
        200,
        None,
        0,
    )


def test_a_cut_answer_stays_partial_when_the_caller_leaves() -> None:
    call = _call()
    call.outcome = "partial"
    call.plan = _plan()
    call.cancelled(M_START + 0.15)
    assert (call.outcome, call.output_tokens) == ("partial", 3)


def test_a_call_ends_once_with_one_ledger_record() -> None:
    state = ProviderState(ProviderConfig(latency="none"))
    call = _call()
    record = call.end(state, M_START + 0.25)
    assert record is not None
    assert record.as_dict()["duration_ms"] == 250.0
    assert call.end(state, M_START + 1) is None
    assert [r.request_id for r in state.ledger.records()] == ["req-1"]

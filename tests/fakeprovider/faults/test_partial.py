"""`partial`: cut the answer after N tokens and end it as drop, reset, error event or length."""

from __future__ import annotations

from typing import Any

import pydantic
import pytest

from fakeprovider.generation.plan import Plan, TextDelta, ToolArgsDelta
from tests.fakeprovider.faults.conftest import CLAUDE, GPT, WEATHER, context, fault, plan_for, request

MODES = ["drop", "reset", "error_event", "length"]


def _cut(mode: str, after_tokens: int, model_id: str = GPT, **fields: Any) -> tuple[Plan, Plan]:
    req = request(model_id, **fields)
    plan = plan_for(req)
    return plan, fault("partial", mode=mode, after_tokens=after_tokens).transform(plan, context(req))


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("after_tokens", [0, 1, 7, 20])
def test_partial_keeps_only_tokens_before_the_cut(mode: str, after_tokens: int) -> None:
    before, after = _cut(mode, after_tokens)
    assert before.output_tokens > 20
    assert after.output_tokens <= after_tokens
    # The kept events are a prefix of the original, with their own delays.
    assert after.events == before.events[: len(after.events)]
    assert after.delays == before.delays[: len(after.events)]


def test_partial_cuts_on_token_boundaries_as_close_to_n_as_it_can() -> None:
    before, after = _cut("drop", 20)
    next_event = before.events[len(after.events)]
    assert not isinstance(next_event, TextDelta) or after.output_tokens + next_event.tokens > 20


def test_partial_text_is_a_prefix_of_the_full_text() -> None:
    before, after = _cut("drop", 15)
    assert before.text().startswith(after.text())
    assert after.text()


@pytest.mark.parametrize("mode", ["drop", "reset"])
def test_partial_drop_and_reset_end_the_connection_without_an_error(mode: str) -> None:
    before, after = _cut(mode, 5)
    assert after.ending == mode
    assert after.error is None
    assert after.finish == before.finish


def test_partial_length_ends_normally_with_finish_length() -> None:
    _, after = _cut("length", 5)
    assert after.ending == "complete"
    assert after.finish == "length"


@pytest.mark.parametrize("model_id", [GPT, CLAUDE])
def test_partial_error_event_leaves_the_error_to_the_dialect(model_id: str) -> None:
    _, after = _cut("error_event", 5, model_id)
    assert after.ending == "error_event"
    assert after.error is None  # each dialect fails mid-answer its own way (`mid_stream_error`)


def test_partial_beyond_the_end_keeps_everything_but_still_ends_badly() -> None:
    before, after = _cut("drop", 10_000)
    assert after.events == before.events
    assert after.ending == "drop"


def test_partial_cuts_tool_call_arguments_too() -> None:
    before, after = _cut("drop", 3, tools=[WEATHER], tool_choice="required")
    assert before.tool_calls()
    assert after.output_tokens <= 3
    assert sum(isinstance(e, ToolArgsDelta) for e in after.events) < sum(
        isinstance(e, ToolArgsDelta) for e in before.events
    )


def test_partial_needs_a_chat_request() -> None:
    ctx = context(request())
    ctx.req = None
    assert not fault("partial").applies(ctx)


@pytest.mark.parametrize("params", [{"after_tokens": -1}, {"mode": "close"}])
def test_partial_refuses_bad_params(params: dict[str, object]) -> None:
    with pytest.raises(pydantic.ValidationError):
        fault("partial", **params)

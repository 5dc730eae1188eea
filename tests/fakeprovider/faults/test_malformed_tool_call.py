"""`malformed_tool_call`: the first tool call is broken in the way the mode names, and only that."""

from __future__ import annotations

import json
from typing import Any

import jsonschema
import pydantic
import pytest

from fakeprovider.generation.plan import Plan
from fakeprovider.generation.request import ToolSpec
from tests.fakeprovider.faults.conftest import CLAUDE, GPT, WEATHER, context, fault, plan_for, request

SEEDS = range(8)


def _broken(mode: str, seed: int, model_id: str = GPT) -> tuple[Plan, Plan]:
    req = request(model_id, tools=[WEATHER], tool_choice="required")
    plan = plan_for(req, seed)
    return plan, fault("malformed_tool_call", mode=mode).transform(plan, context(req, seed))


def _errors(args: str) -> list[str]:
    validator = jsonschema.Draft202012Validator(WEATHER.parameters)
    return sorted(str(e.validator) for e in validator.iter_errors(json.loads(args)))


def _parses(text: str) -> bool:
    try:
        json.loads(text)
    except ValueError:
        return False
    return True


@pytest.mark.parametrize("seed", SEEDS)
def test_malformed_tool_call_starts_from_a_valid_call(seed: int) -> None:
    before, _ = _broken("invalid_json", seed)
    [(_, name, args)] = before.tool_calls()
    assert name == "get_weather"
    assert _errors(args) == []


@pytest.mark.parametrize("model_id", [GPT, CLAUDE])
@pytest.mark.parametrize("seed", SEEDS)
def test_malformed_tool_call_invalid_json_arguments_do_not_parse(model_id: str, seed: int) -> None:
    before, after = _broken("invalid_json", seed, model_id)
    [(call_id, name, args)] = after.tool_calls()
    assert (call_id, name) == before.tool_calls()[0][:2]
    assert not _parses(args)


@pytest.mark.parametrize("seed", SEEDS)
def test_malformed_tool_call_truncated_json_is_a_prefix_that_does_not_parse(seed: int) -> None:
    before, after = _broken("truncated_json", seed)
    full = before.tool_calls()[0][2]
    [(_, _, args)] = after.tool_calls()
    assert full.startswith(args)
    assert len(args) < len(full)
    assert not _parses(args)


@pytest.mark.parametrize("seed", SEEDS)
def test_malformed_tool_call_unknown_tool_names_no_offered_tool(seed: int) -> None:
    before, after = _broken("unknown_tool", seed)
    [(_, name, args)] = after.tool_calls()
    assert name not in {"get_weather"}
    assert args == before.tool_calls()[0][2]  # only the name is wrong


@pytest.mark.parametrize("seed", SEEDS)
def test_malformed_tool_call_missing_required_fails_validation_on_required(seed: int) -> None:
    _, after = _broken("missing_required", seed)
    [(_, _, args)] = after.tool_calls()
    assert _errors(args) == ["required"]


@pytest.mark.parametrize("seed", SEEDS)
def test_malformed_tool_call_wrong_type_fails_validation_on_type(seed: int) -> None:
    _, after = _broken("wrong_type", seed)
    [(_, _, args)] = after.tool_calls()
    assert "type" in _errors(args)


@pytest.mark.parametrize("mode", ["invalid_json", "truncated_json", "missing_required", "wrong_type"])
def test_malformed_tool_call_keeps_the_finish_and_bills_the_new_arguments(mode: str) -> None:
    before, after = _broken(mode, 0)
    assert after.finish == before.finish == "tool_calls"
    assert len(after.delays) == len(after.events)
    assert after.output_tokens == sum(getattr(e, "tokens", 0) for e in after.events)


def _applies(**fields: Any) -> bool:
    return fault("malformed_tool_call").applies(context(request(**fields)))


def test_malformed_tool_call_applies_only_when_a_tool_call_is_coming() -> None:
    assert _applies(tools=[WEATHER])
    assert _applies(tools=[WEATHER], tool_choice="required")
    assert _applies(tools=[WEATHER], tool_choice="get_weather", after_tool_result=True)


def test_malformed_tool_call_does_not_apply_without_tools() -> None:
    assert not _applies()


def test_malformed_tool_call_does_not_apply_with_tool_choice_none() -> None:
    assert not _applies(tools=[WEATHER], tool_choice="none")


def test_malformed_tool_call_does_not_apply_when_auto_answers_a_tool_result() -> None:
    assert not _applies(tools=[WEATHER], after_tool_result=True)


def test_malformed_tool_call_does_not_apply_to_embeddings() -> None:
    ctx = context(request(tools=[WEATHER]))
    ctx.req = None
    assert not fault("malformed_tool_call").applies(ctx)


def test_malformed_tool_call_leaves_a_plan_without_tool_calls_alone() -> None:
    req = request(tools=[WEATHER])
    plan = plan_for(req)
    plan.events = []
    plan.delays = []
    assert fault("malformed_tool_call", mode="wrong_type").transform(plan, context(req)) is plan


def test_malformed_tool_call_refuses_an_unknown_mode() -> None:
    with pytest.raises(pydantic.ValidationError, match="mode"):
        fault("malformed_tool_call", mode="garbled")


ANY_SCALAR = ToolSpec(
    "lookup",
    {
        "type": "object",
        "properties": {"key": {"anyOf": [{"type": "string"}, {"type": "number"}]}},
        "required": ["key"],
    },
)
NOTHING_REQUIRED = ToolSpec(
    "note",
    {"type": "object", "properties": {"text": {"type": "string"}, "pinned": {"type": "boolean"}}},
)


def _broken_with(tool: ToolSpec, mode: str, seed: int) -> str:
    req = request(tools=[tool], tool_choice="required")
    plan = fault("malformed_tool_call", mode=mode).transform(plan_for(req, seed), context(req, seed))
    [(_, _, args)] = plan.tool_calls()
    return args


@pytest.mark.parametrize("seed", SEEDS)
def test_malformed_tool_call_wrong_type_breaks_a_field_that_admits_several_types(seed: int) -> None:
    args = json.loads(_broken_with(ANY_SCALAR, "wrong_type", seed))
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(args, ANY_SCALAR.parameters)


@pytest.mark.parametrize("mode", ["missing_required", "wrong_type"])
@pytest.mark.parametrize("seed", SEEDS)
def test_malformed_tool_call_breaks_a_tool_with_no_required_fields_all_the_same(mode: str, seed: int) -> None:
    args = json.loads(_broken_with(NOTHING_REQUIRED, mode, seed))
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(args, NOTHING_REQUIRED.parameters)

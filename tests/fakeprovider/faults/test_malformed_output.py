"""`malformed_output`: structured output that is not JSON, that breaks its schema, or is empty."""

from __future__ import annotations

import json
from typing import Any

import jsonschema
import pydantic
import pytest

from fakeprovider.generation.plan import Plan, TextDelta
from tests.fakeprovider.faults.conftest import ANSWER_SCHEMA, CLAUDE, GPT, context, fault, plan_for, request

SEEDS = range(8)


def _broken(mode: str, seed: int = 0, model_id: str = GPT, **fields: Any) -> tuple[Plan, Plan]:
    fields.setdefault("output", "json_schema")
    if fields["output"] == "json_schema":
        fields.setdefault("output_schema", ANSWER_SCHEMA)
    req = request(model_id, **fields)
    plan = plan_for(req, seed)
    return plan, fault("malformed_output", mode=mode).transform(plan, context(req, seed))


def _parses(text: str) -> bool:
    try:
        json.loads(text)
    except ValueError:
        return False
    return True


@pytest.mark.parametrize("seed", SEEDS)
def test_malformed_output_starts_from_valid_structured_output(seed: int) -> None:
    before, _ = _broken("invalid_json", seed)
    jsonschema.validate(json.loads(before.text()), ANSWER_SCHEMA)


@pytest.mark.parametrize("model_id", [GPT, CLAUDE])
@pytest.mark.parametrize("output", ["json_schema", "json_object"])
@pytest.mark.parametrize("seed", SEEDS)
def test_malformed_output_invalid_json_does_not_parse(model_id: str, output: str, seed: int) -> None:
    _, after = _broken("invalid_json", seed, model_id, output=output)
    assert after.text()
    assert not _parses(after.text())


@pytest.mark.parametrize("seed", SEEDS)
def test_malformed_output_schema_violation_is_json_that_fails_the_schema(seed: int) -> None:
    _, after = _broken("schema_violation", seed)
    value = json.loads(after.text())
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(value, ANSWER_SCHEMA)


def test_malformed_output_schema_violation_drops_a_required_field() -> None:
    _, after = _broken("schema_violation")
    errors = list(jsonschema.Draft202012Validator(ANSWER_SCHEMA).iter_errors(json.loads(after.text())))
    assert [e.validator for e in errors] == ["required"]


def test_malformed_output_schema_violation_without_a_schema_is_not_an_object() -> None:
    _, after = _broken("schema_violation", output="json_object")
    assert not isinstance(json.loads(after.text()), dict)


@pytest.mark.parametrize("output", ["json_schema", "json_object", "text"])
def test_malformed_output_empty_sends_no_text(output: str) -> None:
    before, after = _broken("empty", output=output)
    assert before.text()
    assert after.text() == ""
    assert not any(isinstance(e, TextDelta) for e in after.events)
    assert after.output_tokens == 0
    assert after.delays == []


@pytest.mark.parametrize("mode", ["invalid_json", "schema_violation"])
def test_malformed_output_keeps_the_finish_and_pacing_shape(mode: str) -> None:
    before, after = _broken(mode)
    assert after.finish == before.finish == "stop"
    assert len(after.delays) == len(after.events)
    assert after.delays[0] == before.delays[0]


def _applies(mode: str, **fields: Any) -> bool:
    return fault("malformed_output", mode=mode).applies(context(request(**fields)))


@pytest.mark.parametrize("mode", ["invalid_json", "schema_violation"])
def test_malformed_output_applies_to_structured_output_only(mode: str) -> None:
    assert _applies(mode, output="json_object")
    assert _applies(mode, output="json_schema", output_schema=ANSWER_SCHEMA)
    assert not _applies(mode)


def test_malformed_output_empty_applies_to_any_chat_answer() -> None:
    assert _applies("empty")
    assert _applies("empty", output="json_object")


def test_malformed_output_does_not_apply_to_embeddings() -> None:
    ctx = context(request(output="json_object"))
    ctx.req = None
    assert not fault("malformed_output", mode="empty").applies(ctx)


def test_malformed_output_refuses_an_unknown_mode() -> None:
    with pytest.raises(pydantic.ValidationError, match="mode"):
        fault("malformed_output", mode="truncated")


NOTHING_REQUIRED: dict[str, Any] = {
    "type": "object",
    "properties": {"summary": {"type": "string"}, "lines": {"type": "integer"}},
}


@pytest.mark.parametrize("seed", SEEDS)
def test_malformed_output_schema_violation_without_required_fields_breaks_a_type(seed: int) -> None:
    _, after = _broken("schema_violation", seed, output_schema=NOTHING_REQUIRED)
    errors = list(jsonschema.Draft202012Validator(NOTHING_REQUIRED).iter_errors(json.loads(after.text())))
    assert [e.validator for e in errors] == ["type"]

"""Scenario files: seed, model overrides, scripted responses (and, with the fault engine,
faults and limits). Validated whole before use; errors name the field path."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import orjson
import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from fakeprovider.catalogue.families import Catalogue
from fakeprovider.catalogue.info import ModelOverride
from fakeprovider.generation.plan import Reply
from fakeprovider.generation.request import Tags
from fakeprovider.scenario.answer_length_rules import AnswerLengths, AnswerLengthSpec
from fakeprovider.scenario.rules import FaultRule, LimitSpec, Match
from fakeprovider.yaml_input import InputTooLarge, load_yaml


class ScenarioError(ValueError):
    """A scenario that cannot be used; the message names the source and field path."""


class ToolCallReply(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str
    arguments: dict[str, Any] | str = Field(default_factory=dict)


class ReplySpec(BaseModel):
    model_config = ConfigDict(extra="forbid")

    content: str | None = None
    json_: Any = Field(default=None, alias="json")
    tool_calls: list[ToolCallReply] = Field(default_factory=list)

    @model_validator(mode="after")
    def _one_kind(self) -> ReplySpec:
        given = [self.content is not None, self.json_ is not None, bool(self.tool_calls)]
        if sum(given) != 1:
            raise ValueError("give exactly one of `content`, `json`, `tool_calls`")
        return self

    def to_reply(self) -> Reply:
        return Reply(
            text=self.content,
            json_value=self.json_,
            tool_calls=tuple((c.name, c.arguments) for c in self.tool_calls),
        )


class ScriptedResponse(BaseModel):
    """Answer calls that match (and whose last message matches `last_message`) with `reply`."""

    model_config = ConfigDict(extra="forbid")

    name: str | None = None
    match: Match = Field(default_factory=Match)
    last_message: str | None = Field(default=None, description="regular expression")
    reply: ReplySpec

    @field_validator("last_message")
    @classmethod
    def _compiles(cls, v: str | None) -> str | None:
        if v is not None:
            try:
                re.compile(v)
            except re.error as e:
                raise ValueError(f"invalid regular expression: {e}") from None
        return v


class Scenario(BaseModel):
    model_config = ConfigDict(extra="forbid")

    seed: int | None = None
    models: dict[str, ModelOverride] = Field(default_factory=dict)
    # Deployment name -> model id, for surfaces that address models by deployment (Azure).
    deployments: dict[str, str] = Field(default_factory=dict)
    responses: list[ScriptedResponse] = Field(default_factory=list)
    limits: list[LimitSpec] = Field(default_factory=list)
    faults: list[FaultRule] = Field(default_factory=list)
    answer_length: AnswerLengthSpec = Field(default_factory=AnswerLengthSpec)

    @model_validator(mode="after")
    def _unique_rule_names(self) -> Scenario:
        seen: set[str] = set()
        for i, rule in enumerate(self.faults):
            if rule.name is not None:
                if rule.name in seen:
                    raise ValueError(f"faults.{i}.name: {rule.name!r} is used by an earlier rule")
                seen.add(rule.name)
        return self


class CompiledScenario:
    """A validated scenario made ready for the request path (catalogue built, regexes compiled)."""

    def __init__(self, scenario: Scenario, base: Catalogue, source: str = "scenario") -> None:
        self.scenario = scenario
        self.source = source
        try:
            self.catalogue = base.with_overrides(scenario.models).with_deployments(scenario.deployments)
        except ValueError as e:
            raise ScenarioError(f"{source}: {e}") from None
        self.responses = [
            (r.match, re.compile(r.last_message) if r.last_message else None, r.reply.to_reply())
            for r in scenario.responses
        ]
        self.lengths = AnswerLengths(scenario.answer_length)

    def scripted(self, api: str, model: str, tags: Tags, stream: bool, last_text: str) -> Reply | None:
        for match, pattern, reply in self.responses:
            if match.matches(api, model, tags, stream) and (pattern is None or pattern.search(last_text)):
                return reply
        return None


def parse_scenario(text: str | bytes, source: str = "scenario") -> Scenario:
    """Parse YAML or JSON text into a validated `Scenario`, or raise `ScenarioError`."""
    try:
        data = load_yaml(text) if text else {}
    except InputTooLarge as e:
        raise ScenarioError(f"{source}: too large: {e}") from None
    except yaml.YAMLError as e:
        mark = getattr(e, "problem_mark", None)
        where = f" (line {mark.line + 1}, column {mark.column + 1})" if mark is not None else ""
        raise ScenarioError(f"{source}: invalid YAML{where}: {getattr(e, 'problem', e)}") from None
    if data is None:
        data = {}
    if not isinstance(data, dict):
        raise ScenarioError(f"{source}: expected a mapping at the top level, got {type(data).__name__}")
    if data and not set(data) & set(Scenario.model_fields):
        # Not a scenario at all (a wrong path, another kind of file): say so without echoing
        # its contents, which every "unknown field" would.
        known = ", ".join(Scenario.model_fields)
        raise ScenarioError(f"{source}: not a scenario file (no top-level key is one of: {known})")
    try:
        return Scenario.model_validate(data)
    except ValidationError as e:
        raise ScenarioError(f"{source}: {format_validation_error(e)}") from None


def parse_rule(text: str | bytes, source: str = "fault rule") -> FaultRule:
    """Parse one fault rule (YAML or JSON), or raise `ScenarioError` naming the field."""
    try:
        data = load_yaml(text) if text else None
    except InputTooLarge as e:
        raise ScenarioError(f"{source}: too large: {e}") from None
    except yaml.YAMLError as e:
        raise ScenarioError(f"{source}: invalid YAML: {getattr(e, 'problem', e)}") from None
    if not isinstance(data, dict):
        raise ScenarioError(f"{source}: expected a fault rule (a mapping with `fault`)")
    try:
        return FaultRule.model_validate(data)
    except ValidationError as e:
        raise ScenarioError(f"{source}: {format_validation_error(e)}") from None


def load_scenario(path: Path) -> Scenario:
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as e:
        raise ScenarioError(f"{path}: cannot read scenario: {e.strerror}") from None
    return parse_scenario(text, str(path))


# Bounds on what an error message repeats of its input: a file's keys and values are echoed
# in it, and a hostile or foreign file must not fill a terminal, a journal or a JUnit report.
MAX_ERRORS_SHOWN = 5
MAX_ECHO_CHARS = 60


def _clip(text: str) -> str:
    return text if len(text) <= MAX_ECHO_CHARS else text[: MAX_ECHO_CHARS - 1] + "…"


def format_validation_error(e: ValidationError) -> str:
    """pydantic errors as `field.path: message` lines (the first few, inputs clipped)."""
    lines = []
    errors = e.errors()
    for err in errors[:MAX_ERRORS_SHOWN]:
        path = _clip(".".join(str(p) for p in err["loc"]))
        msg = err["msg"]
        if err["type"] == "extra_forbidden":
            msg = "unknown field"
        elif err["type"] == "value_error" and "error" in err.get("ctx", {}):
            # Our own validators' words, without pydantic's "Value error, " prefix.
            msg = str(err["ctx"]["error"])
        elif isinstance(err.get("input"), str | int | float) and err["type"] != "missing":
            msg = f"{msg} (got {_clip(repr(err['input']))})"
        lines.append(f"{path}: {msg}" if path else msg)
    if len(errors) > MAX_ERRORS_SHOWN:
        lines.append(f"and {len(errors) - MAX_ERRORS_SHOWN} more")
    return "; ".join(lines)


def scenario_json(s: Scenario) -> bytes:
    """The scenario as compact JSON that can be PUT back: defaults left out, except each fault's
    `kind`, which is the discriminator that says what the rest means."""
    data = s.model_dump(mode="json", by_alias=True, exclude_defaults=True)
    for rule, dumped in zip(s.faults, data.get("faults", []), strict=True):
        dumped["fault"] = {"kind": rule.fault.kind, **dumped.get("fault", {})}
    return orjson.dumps(data)

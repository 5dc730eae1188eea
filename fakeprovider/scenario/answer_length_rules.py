"""The scenario's `answer_length`: which length distribution a call draws from, by rule.

```yaml
answer_length:
  default: {median_tokens: 10}                         # over the built-in default
  models: {gpt-4o-mini: {median_tokens: 4}}
  rules:                                               # ordered; the first match wins
    - {match: {route: summarize}, length: {median_tokens: 150, per_prompt_token: 0.05}}
```
Each `models` entry and rule's `length` changes only the fields it gives, over `default`.
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field, model_validator

from fakeprovider.generation.answer_length import DEFAULT_LENGTH, AnswerLength, LengthSampler, changed
from fakeprovider.generation.request import Tags
from fakeprovider.scenario.rules import Match


class LengthRule(BaseModel):
    """Calls that match (as fault rules match) draw their length from `length`."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    match: Match = Field(default_factory=Match)
    length: dict[str, float | int] = Field(description="fields of `AnswerLength`, over `default`")


class AnswerLengthSpec(BaseModel):
    """The scenario's `answer_length`: a default, per-model changes, then ordered rules."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    default: AnswerLength = DEFAULT_LENGTH
    models: dict[str, dict[str, float | int]] = Field(default_factory=dict)
    rules: list[LengthRule] = Field(default_factory=list)

    @model_validator(mode="after")
    def _each_resolves(self) -> AnswerLengthSpec:
        # Validated here, so a bad value is refused on load with its path, not on a request.
        for name, fields in self.models.items():
            changed(self.default, fields, f"models.{name}")
        for i, rule in enumerate(self.rules):
            changed(self.default, rule.length, f"rules.{i}.length")
        return self


class AnswerLengths:
    """A scenario's `answer_length` made ready for the request path."""

    def __init__(self, spec: AnswerLengthSpec) -> None:
        self.default = spec.default.sampler()
        self.models = {name: changed(spec.default, f, name).sampler() for name, f in spec.models.items()}
        self.rules = [(r.match, changed(spec.default, r.length, "rule").sampler()) for r in spec.rules]

    def for_call(self, api: str, model: str, tags: Tags, stream: bool) -> LengthSampler:
        """The distribution a call draws from: the first matching rule, else its model's."""
        for match, length in self.rules:
            if match.matches(api, model, tags, stream):
                return length
        return self.models.get(model, self.default) if self.models else self.default

"""Building blocks for fault unit tests: a request, its plan and a fault context, no sockets."""

from __future__ import annotations

import random
from functools import cache
from typing import Any

from fakeprovider import faults
from fakeprovider.catalogue.families import DEFAULT_CATALOGUE
from fakeprovider.catalogue.info import ModelInfo
from fakeprovider.faults.base import FaultContext, FaultKind
from fakeprovider.generation.answer_length import AnswerLength
from fakeprovider.generation.content import ContentPool
from fakeprovider.generation.plan import Plan, build_plan
from fakeprovider.generation.request import ApiName, ChatRequest, ToolSpec

GPT = "gpt-4o"
CLAUDE = "claude-sonnet-4"

WEATHER = ToolSpec(
    "get_weather",
    {
        "type": "object",
        "properties": {
            "city": {"type": "string", "minLength": 2},
            "days": {"type": "integer", "minimum": 1, "maximum": 14},
            "hourly": {"type": "boolean"},
        },
        "required": ["city", "days"],
        "additionalProperties": False,
    },
)

ANSWER_SCHEMA: dict[str, Any] = {
    "type": "object",
    "properties": {
        "title": {"type": "string"},
        "score": {"type": "integer", "minimum": 0, "maximum": 10},
        "tags": {"type": "array", "items": {"type": "string"}},
    },
    "required": ["title", "score"],
    "additionalProperties": False,
}


def model(model_id: str = GPT) -> ModelInfo:
    info = DEFAULT_CATALOGUE.resolve(model_id)
    assert info is not None
    return info


@cache
def pool(encoding: str) -> ContentPool:
    return ContentPool(0, encoding, size=64)


def request(model_id: str = GPT, *, prompt_tokens: int = 12, **fields: Any) -> ChatRequest:
    """A chat request for `model_id` on its own provider's API."""
    info = model(model_id)
    api: ApiName = "anthropic.messages" if info.api == "anthropic" else "openai.chat"
    return ChatRequest(api=api, model=info, stream=True, prompt_ids=list(range(prompt_tokens)), **fields)


# Faults cut, stall and re-time answers: give them a 200-token answer to work on.
LONG_ANSWER = AnswerLength(median_tokens=200, per_prompt_token=0, spread=0).sampler()


def plan_for(req: ChatRequest, seed: int = 0, realistic: bool = True) -> Plan:
    return build_plan(req, pool(req.model.encoding), random.Random(seed), None, realistic, LONG_ANSWER)


def context(req: ChatRequest, seed: int = 0) -> FaultContext:
    return FaultContext(
        api=req.api,
        model=req.model.id,
        context_window=req.model.context_window,
        input_tokens=req.input_tokens,
        rng=random.Random(seed),
        req=req,
    )


def fault(kind: str, **params: Any) -> FaultKind:
    """The registered fault `kind` with `params`, validated as a scenario file would be."""
    cls = faults.REGISTRY[kind]
    return cls(cls.Params.model_validate({"kind": kind, **params}))

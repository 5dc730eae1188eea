"""The non-streamed `GenerateContentResponse`, and the pieces a stream's chunks share with it.

A response is one candidate: its `content` (`text` and `functionCall` parts, role `model`),
`finishReason`, and for a safety stop the `safetyRatings` that name the category; then
`usageMetadata`, `modelVersion` and `responseId`. Gemini returns a function's `args` as an
object: arguments a fault left unparsable are what Gemini reports as
`finishReason: MALFORMED_FUNCTION_CALL`, with no content.
"""

from __future__ import annotations

from typing import Any

import orjson

from fakeprovider.dialects.base import ResponseMeta, Usage
from fakeprovider.generation.plan import FinishReason, Plan
from fakeprovider.generation.request import ChatRequest

FINISH_REASON: dict[FinishReason, str] = {
    "stop": "STOP",
    "length": "MAX_TOKENS",
    "tool_calls": "STOP",  # Gemini ends a function call turn with STOP
    "content_filter": "SAFETY",
}
MALFORMED = "MALFORMED_FUNCTION_CALL"
# The category a `content_filter` fault is reported under.
FILTERED_CATEGORY = "HARM_CATEGORY_DANGEROUS_CONTENT"
_CATEGORIES = (
    "HARM_CATEGORY_HATE_SPEECH",
    "HARM_CATEGORY_DANGEROUS_CONTENT",
    "HARM_CATEGORY_HARASSMENT",
    "HARM_CATEGORY_SEXUALLY_EXPLICIT",
)
SAFETY_RATINGS: list[dict[str, Any]] = [
    {"category": c, "probability": "HIGH", "blocked": True}
    if c == FILTERED_CATEGORY
    else {"category": c, "probability": "NEGLIGIBLE"}
    for c in _CATEGORIES
]


def usage_json(usage: Usage, output_tokens: int | None) -> dict[str, Any]:
    """`usageMetadata`: the prompt, and the candidates' tokens once known (`None`: not yet)."""
    out: dict[str, Any] = {"promptTokenCount": usage.input_tokens}
    if output_tokens is not None:
        out["candidatesTokenCount"] = output_tokens
    out["totalTokenCount"] = usage.input_tokens + (output_tokens or 0)
    if usage.cached_tokens:
        out["cachedContentTokenCount"] = usage.cached_tokens
    out["promptTokensDetails"] = [{"modality": "TEXT", "tokenCount": usage.input_tokens}]
    return out


def function_call_part(name: str, args: str) -> dict[str, Any] | None:
    """A `functionCall` part, or None when the arguments are no JSON object (malformed)."""
    try:
        value = orjson.loads(args) if args else {}
    except orjson.JSONDecodeError:
        return None
    if not isinstance(value, dict):
        return None
    return {"functionCall": {"name": name, "args": value}}


def candidate(parts: list[dict[str, Any]] | None, finish: str | None) -> dict[str, Any]:
    """One candidate: its content (none for a blocked or malformed answer) and its finish."""
    out: dict[str, Any] = {}
    if parts is not None:
        out["content"] = {"parts": parts, "role": "model"}
    if finish is not None:
        out["finishReason"] = finish
        if finish == "SAFETY":
            out["safetyRatings"] = SAFETY_RATINGS
        elif finish == MALFORMED:
            out["finishMessage"] = "Malformed function call: the arguments are not a JSON object."
    out["index"] = 0
    return out


class GeminiBody:
    """The whole-body side of `GeminiGenerate`: a plan rendered as one response."""

    def render_json(self, req: ChatRequest, plan: Plan, usage: Usage, meta: ResponseMeta) -> dict[str, Any]:
        text, calls = plan.content()
        finish = FINISH_REASON[plan.finish]
        parts: list[dict[str, Any]] | None = []
        assert parts is not None
        if text or not calls:
            parts.append({"text": text})
        for _, name, args in calls:
            part = function_call_part(name, args)
            if part is None:
                finish = MALFORMED
                break
            parts.append(part)
        if finish in ("SAFETY", MALFORMED):
            parts = None  # Gemini withholds a blocked answer, and has no parts for a malformed call
        return {
            "candidates": [candidate(parts, finish)],
            "usageMetadata": usage_json(usage, usage.output_tokens),
            "modelVersion": req.model.id,
            "responseId": meta.response_id,
        }

    def render_body(self, req: ChatRequest, plan: Plan, usage: Usage, meta: ResponseMeta) -> bytes:
        return orjson.dumps(self.render_json(req, plan, usage, meta))

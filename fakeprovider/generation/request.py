"""A chat request as the provider understands it, whichever wire protocol carried it."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

from fakeprovider.catalogue.info import ModelInfo

ApiName = str  # a registered dialect's name: "openai.chat", "anthropic.messages", …
OutputMode = Literal["text", "json_object", "json_schema"]


@dataclass(frozen=True, slots=True)
class Tags:
    """Attribution of one call: which route, feature and tenant of the caller made it."""

    route: str | None = None
    feature: str | None = None
    tenant: str | None = None

    def as_dict(self) -> dict[str, str | None]:
        return {"route": self.route, "feature": self.feature, "tenant": self.tenant}


@dataclass(frozen=True, slots=True)
class ToolSpec:
    name: str
    parameters: dict[str, Any]


@dataclass(slots=True)
class ChatRequest:
    api: ApiName
    model: ModelInfo
    stream: bool
    prompt_ids: list[int]
    last_text: str = ""
    after_tool_result: bool = False
    max_tokens: int | None = None
    include_usage: bool = False
    tools: list[ToolSpec] = field(default_factory=list)
    tool_choice: str = "auto"  # auto | none | required | <tool name>
    output: OutputMode = "text"
    output_schema: dict[str, Any] | None = None
    deployment: str | None = None  # the deployment the caller named, where models have them
    # Explicit prompt caching (Anthropic's `cache_control`): (token offset, TTL in seconds) of
    # each breakpoint, ascending; None where the provider caches prefixes by itself (OpenAI's).
    cache_breakpoints: tuple[tuple[int, float], ...] | None = None

    @property
    def input_tokens(self) -> int:
        return len(self.prompt_ids)

"""Provider errors, rendered in each provider's own shape and codes."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

import orjson

ErrorKind = Literal[
    "invalid_request",
    "not_found",
    "too_large",
    "auth",
    "rate_limit",
    "quota",
    "server",
    "overloaded",
    "timeout",
]

_OPENAI_TYPE: dict[ErrorKind, str] = {
    "invalid_request": "invalid_request_error",
    "not_found": "invalid_request_error",
    "too_large": "invalid_request_error",
    "auth": "authentication_error",
    "rate_limit": "requests",
    "quota": "insufficient_quota",
    "server": "server_error",
    "overloaded": "server_error",
    "timeout": "server_error",
}

_ANTHROPIC_TYPE: dict[ErrorKind, str] = {
    "invalid_request": "invalid_request_error",
    "not_found": "not_found_error",
    "too_large": "request_too_large",
    "auth": "authentication_error",
    "rate_limit": "rate_limit_error",
    "quota": "rate_limit_error",
    "server": "api_error",
    "overloaded": "overloaded_error",
    "timeout": "api_error",
}


@dataclass(slots=True)
class ProviderError(Exception):
    """An error answer: HTTP status, what kind of failure, and the words the provider uses."""

    status: int
    kind: ErrorKind
    message: str
    code: str | None = None
    param: str | None = None
    headers: dict[str, str] = field(default_factory=dict)
    openai_type: str | None = None  # overrides the type OpenAI would give this kind

    def __str__(self) -> str:
        return f"{self.status} {self.kind}: {self.message}"

    def openai_body(self) -> dict[str, Any]:
        code = self.code
        if code is None and self.kind == "quota":
            code = "insufficient_quota"
        return {
            "error": {
                "message": self.message,
                "type": self.openai_type or _OPENAI_TYPE[self.kind],
                "param": self.param,
                "code": code,
            }
        }

    def anthropic_body(self) -> dict[str, Any]:
        return {
            "type": "error",
            "error": {"type": _ANTHROPIC_TYPE[self.kind], "message": self.message},
        }

    def body_for(self, api_family: str) -> bytes:
        body = self.anthropic_body() if api_family == "anthropic" else self.openai_body()
        return orjson.dumps(body)


def invalid(message: str, param: str | None = None, code: str | None = None) -> ProviderError:
    return ProviderError(400, "invalid_request", message, code=code, param=param)


def model_not_found(model: str, api_family: str) -> ProviderError:
    if api_family == "anthropic":
        return ProviderError(404, "not_found", f"model: {model}", param="model")
    return ProviderError(
        404,
        "not_found",
        f"The model `{model}` does not exist or you do not have access to it.",
        code="model_not_found",
        param="model",
    )


def context_length(model: str, window: int, used: int, api_family: str) -> ProviderError:
    if api_family == "anthropic":
        return invalid(f"prompt is too long: {used} tokens > {window} maximum")
    return invalid(
        f"This model's maximum context length is {window} tokens. However, your messages "
        f"resulted in {used} tokens. Please reduce the length of the messages.",
        param="messages",
        code="context_length_exceeded",
    )

"""Anthropic's side of the `Dialect` interface: request ids, error bodies and words, rate-limit,
retry-after and `x-should-retry` headers, the model listing."""

from __future__ import annotations

import email.utils
import math
import time
from typing import Any

import orjson

from fakeprovider.accounting.limits import Headroom
from fakeprovider.catalogue.info import ModelInfo
from fakeprovider.dialects.base import Dialect, ceil_clean
from fakeprovider.errors import ContextOverflow, ErrorKind, ModelMissing, ProviderError, QuotaRefusal
from fakeprovider.generation.ids import random_id

_TYPE: dict[ErrorKind, str] = {
    "invalid_request": "invalid_request_error",
    "not_found": "not_found_error",
    "model_not_found": "not_found_error",
    "context_length": "invalid_request_error",
    "too_large": "request_too_large",
    "auth": "authentication_error",
    "rate_limit": "rate_limit_error",
    "quota": "rate_limit_error",
    "server": "api_error",
    "overloaded": "overloaded_error",
    "timeout": "api_error",
}


def anthropic_message(error: ProviderError) -> str:
    d = error.detail
    if error.message or d is None:
        return error.message
    if isinstance(d, ModelMissing):
        return f"model: {d.model}"
    if isinstance(d, ContextOverflow):
        return f"prompt is too long: {d.used} tokens > {d.window} maximum"
    if isinstance(d, QuotaRefusal):
        return (
            f"This request would exceed your rate limit of {d.limit} {d.what} per minute "
            f"({d.scope} scope). Please try again later."
        )
    return "Number of requests has exceeded your rate limit. Please try again later."


def anthropic_error_json(error: ProviderError) -> dict[str, Any]:
    """Anthropic's error object: `{"type": "error", "error": {"type", "message"}}`."""
    return {"type": "error", "error": {"type": _TYPE[error.kind], "message": anthropic_message(error)}}


def _rfc3339(wall: float) -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(math.ceil(wall)))


class AnthropicWire(Dialect):
    """Ids, errors, headers and models as Anthropic's API gives them."""

    catalogue_api = "anthropic"
    version_header = "anthropic-version"
    key_header = "x-api-key"

    def new_request_id(self) -> str:
        return random_id("req_01", 22)

    def request_id_headers(self, request_id: str) -> dict[str, str]:
        return {"request-id": request_id, "x-request-id": request_id}

    def error_message(self, error: ProviderError) -> str:
        return anthropic_message(error)

    def error_body(self, error: ProviderError) -> bytes:
        return orjson.dumps(anthropic_error_json(error))

    def error_headers(self, error: ProviderError, headers: dict[str, str]) -> None:
        retry = error.retry_after
        if retry is not None:
            wait = retry.seconds
            if retry.form == "date":
                headers["retry-after"] = email.utils.formatdate(time.time() + wait, usegmt=True)
            elif retry.form == "rounded_up":
                headers["retry-after"] = str(max(1, ceil_clean(wait)))
            else:
                headers["retry-after"] = str(math.ceil(wait))  # Anthropic writes whole seconds only
        headers["x-should-retry"] = "true" if error.status >= 500 or error.status == 429 else "false"

    def quota_headers(self, levels: list[Headroom]) -> dict[str, str]:
        headers: dict[str, str] = {}
        wall = time.time()
        for level in levels:
            what = level.what
            headers[f"anthropic-ratelimit-{what}-limit"] = str(level.limit)
            headers[f"anthropic-ratelimit-{what}-remaining"] = str(level.remaining)
            headers[f"anthropic-ratelimit-{what}-reset"] = _rfc3339(wall + level.reset)
        return headers

    def mid_stream_error(self, stream: bool) -> ProviderError:
        if stream:
            return ProviderError(529, "overloaded", "Overloaded")
        return ProviderError(500, "server", "Internal server error")

    def model_json(self, model: ModelInfo, created: int) -> dict[str, object]:
        return {
            "type": "model",
            "id": model.id,
            "display_name": model.id,
            "created_at": "2025-01-01T00:00:00Z",
        }

    def model_list(self, data: list[dict[str, object]]) -> dict[str, object]:
        return {
            "data": data,
            "has_more": False,
            "first_id": data[0]["id"] if data else None,
            "last_id": data[-1]["id"] if data else None,
        }

"""What every OpenAI surface shares: request ids, error bodies and words, rate-limit and
retry-after headers, the model listing. Chat completions and embeddings (and any later OpenAI
surface) take it as a base class."""

from __future__ import annotations

import email.utils
import time
from collections.abc import Mapping
from typing import Any

import orjson

from fakeprovider.accounting.limits import Headroom
from fakeprovider.catalogue.info import ModelInfo
from fakeprovider.dialects.base import Dialect, ceil_clean
from fakeprovider.dialects.common import tags_from
from fakeprovider.errors import (
    ContextOverflow,
    ErrorKind,
    ModelMissing,
    ProviderError,
    QuotaRefusal,
    RateLimited,
)
from fakeprovider.generation.ids import random_lower_id
from fakeprovider.generation.request import Tags

_TYPE: dict[ErrorKind, str] = {
    "invalid_request": "invalid_request_error",
    "not_found": "invalid_request_error",
    "model_not_found": "invalid_request_error",
    "context_length": "invalid_request_error",
    "too_large": "invalid_request_error",
    "auth": "authentication_error",
    "rate_limit": "requests",
    "quota": "insufficient_quota",
    "server": "server_error",
    "overloaded": "server_error",
    "timeout": "server_error",
}

_CODE: dict[ErrorKind, str] = {
    "quota": "insufficient_quota",
    "rate_limit": "rate_limit_exceeded",
    "model_not_found": "model_not_found",
    "context_length": "context_length_exceeded",
}


def seconds_text(s: float) -> str:
    """Seconds as OpenAI writes a retry-after: `2`, `2.5`."""
    return str(int(s)) if float(s).is_integer() else f"{s:g}"


def duration_text(seconds: float) -> str:
    """A duration as OpenAI's reset headers write it: `120ms`, `1.5s`, `6m0s` (rounded up to ms)."""
    # Whole milliseconds first: `1000.12 - 1000` must read `120ms`, not `121ms`, and 119.9999 s
    # must carry into the minutes (`2m0s`), not read `1m60s`.
    ms = ceil_clean(seconds * 1000)
    if ms <= 0:
        return "0s"
    if ms < 1000:
        return f"{ms}ms"
    minutes, rest = divmod(ms, 60_000)
    text = f"{rest / 1000:g}s"
    return f"{minutes}m{text}" if minutes else text


def _quota_message(q: QuotaRefusal) -> str:
    unit = "requests per min (RPM)" if q.what == "requests" else "tokens per min (TPM)"
    if q.requested > q.limit:
        # No wait lets this one through: OpenAI says so rather than naming a time.
        return (
            f"Request too large for {q.model} on {unit}: Limit {q.limit}, Requested {q.requested}. "
            "The input or output tokens must be reduced in order to run successfully."
        )
    return (
        f"Rate limit reached for {q.model} on {unit}: Limit {q.limit}, Requested {q.requested}. "
        f"Please try again in {duration_text(q.wait)}."
    )


def openai_message(error: ProviderError) -> str:
    d = error.detail
    if error.message or d is None:
        return error.message
    if isinstance(d, ModelMissing):
        return f"The model `{d.model}` does not exist or you do not have access to it."
    if isinstance(d, ContextOverflow):
        return (
            f"This model's maximum context length is {d.window} tokens. However, your messages "
            f"resulted in {d.used} tokens. Please reduce the length of the messages."
        )
    if isinstance(d, RateLimited):
        return (
            f"Rate limit reached for {d.model} on requests per min (RPM). "
            f"Please try again in {seconds_text(round(d.wait, 3))}s."
        )
    return _quota_message(d)


# What an OpenAI-family stream sends while it has nothing to say: an SSE comment, which the SDK's
# decoder skips (lines that start with a colon carry no field).
SSE_KEEPALIVE = b": keep-alive\n\n"


def openai_error_json(error: ProviderError) -> dict[str, Any]:
    """OpenAI's error object: `{"error": {"message", "type", "param", "code"}}`."""
    d = error.detail
    param = error.param
    if isinstance(d, ContextOverflow):
        param = "messages"
    return {
        "error": {
            "message": openai_message(error),
            "type": d.what if isinstance(d, QuotaRefusal) else _TYPE[error.kind],
            "param": param,
            "code": error.code or _CODE.get(error.kind),
        }
    }


class OpenAIWire(Dialect):
    """The OpenAI side of the `Dialect` interface, shared by its surfaces."""

    catalogue_api = "openai"

    def tags(self, body: Mapping[str, Any], header_tags: Tags) -> Tags:
        return tags_from(header_tags, body.get("metadata"), body.get("user"))

    def new_request_id(self) -> str:
        return random_lower_id("req_", 32)

    def error_message(self, error: ProviderError) -> str:
        return openai_message(error)

    def error_body(self, error: ProviderError) -> bytes:
        return orjson.dumps(openai_error_json(error))

    def error_headers(self, error: ProviderError, headers: dict[str, str]) -> None:
        retry = error.retry_after
        if retry is None:
            return
        wait = retry.seconds
        if retry.form == "ms":
            headers["retry-after-ms"] = str(round(wait * 1000))
        elif retry.form == "date":
            headers["retry-after"] = email.utils.formatdate(time.time() + wait, usegmt=True)
        elif retry.form == "rounded_up":
            headers["retry-after"] = str(max(1, ceil_clean(wait)))
            headers["retry-after-ms"] = str(max(1, ceil_clean(wait * 1000)))
        else:
            headers["retry-after"] = seconds_text(wait)
            headers["retry-after-ms"] = str(round(wait * 1000))

    def quota_headers(self, levels: list[Headroom]) -> dict[str, str]:
        headers: dict[str, str] = {}
        for level in levels:
            what = level.what
            headers[f"x-ratelimit-limit-{what}"] = str(level.limit)
            headers[f"x-ratelimit-remaining-{what}"] = str(level.remaining)
            headers[f"x-ratelimit-reset-{what}"] = duration_text(level.reset)
        return headers

    def mid_stream_error(self, stream: bool) -> ProviderError:
        return ProviderError(
            500, "server", "The server had an error while processing your request. Sorry about that!"
        )

    def model_json(self, model: ModelInfo, created: int) -> dict[str, object]:
        return {"id": model.id, "object": "model", "created": created, "owned_by": "rehearsal"}

    def model_list(self, data: list[dict[str, object]]) -> dict[str, object]:
        return {"object": "list", "data": data}

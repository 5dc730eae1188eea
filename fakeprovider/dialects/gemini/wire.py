"""Google's side of the `Dialect` interface: keys, response ids, Google's error bodies (with a
`RetryInfo` detail on a 429), the model listing.

Google's APIs answer errors as `{"error": {"code", "message", "status", "details"}}`: `code` is
the HTTP status, `status` the canonical gRPC code's name (`INVALID_ARGUMENT`, `NOT_FOUND`,
`RESOURCE_EXHAUSTED`, `UNAVAILABLE`, ...), and a 429 says when to retry in a
`google.rpc.RetryInfo` detail (`retryDelay: "27s"`), not in a `retry-after` header.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import orjson

from fakeprovider.catalogue.info import ModelInfo
from fakeprovider.dialects.base import Dialect
from fakeprovider.errors import ContextOverflow, ModelMissing, ProviderError, QuotaRefusal, RateLimited
from fakeprovider.generation.ids import random_id

# The canonical status Google names beside each HTTP status it answers with.
_STATUS: dict[int, str] = {
    400: "INVALID_ARGUMENT",
    401: "UNAUTHENTICATED",
    403: "PERMISSION_DENIED",
    404: "NOT_FOUND",
    405: "NOT_FOUND",
    409: "ABORTED",
    413: "INVALID_ARGUMENT",
    429: "RESOURCE_EXHAUSTED",
    499: "CANCELLED",
    500: "INTERNAL",
    501: "UNIMPLEMENTED",
    502: "UNAVAILABLE",
    503: "UNAVAILABLE",
    504: "DEADLINE_EXCEEDED",
    529: "UNAVAILABLE",
}
_RETRY_INFO = "type.googleapis.com/google.rpc.RetryInfo"
_QUOTA_FAILURE = "type.googleapis.com/google.rpc.QuotaFailure"
_HELP = "type.googleapis.com/google.rpc.Help"
_RATE_LIMIT_DOCS = "https://ai.google.dev/gemini-api/docs/rate-limits"
_INTERNAL = (
    "An internal error has occurred. Please retry or report in "
    "https://developers.generativeai.google/guide/troubleshooting"
)


def status_name(status: int) -> str:
    """Google's canonical status for an HTTP status."""
    found = _STATUS.get(status)
    if found is not None:
        return found
    return "INTERNAL" if status >= 500 else "INVALID_ARGUMENT" if status >= 400 else "UNKNOWN"


def duration(seconds: float) -> str:
    """A protobuf `Duration` as JSON writes it: seconds with up to 9 decimals and an `s`."""
    text = f"{seconds:.9f}".rstrip("0").rstrip(".")
    return f"{text}s"


def google_message(error: ProviderError) -> str:
    d = error.detail
    if error.message or d is None:
        return error.message
    if isinstance(d, ModelMissing):
        return (
            f"models/{d.model} is not found for API version v1beta, or is not supported for "
            "generateContent. Call ListModels to see the list of available models and their "
            "supported methods."
        )
    if isinstance(d, ContextOverflow):
        return f"The input token count ({d.used}) exceeds the maximum number of tokens allowed ({d.window})."
    if isinstance(d, QuotaRefusal):
        metric = "input_token_count" if d.what == "tokens" else "generate_content_requests"
        return (
            "You exceeded your current quota, please check your plan and billing details. For more "
            f"information on this error, head to: {_RATE_LIMIT_DOCS}.\n"
            f"* Quota exceeded for metric: generativelanguage.googleapis.com/{metric}, "
            f"limit: {d.limit}, model: {d.model}\n"
            f"Please retry in {duration(round(d.wait, 3))}."
        )
    if isinstance(d, RateLimited):
        return (
            "You exceeded your current quota, please check your plan and billing details. For more "
            f"information on this error, head to: {_RATE_LIMIT_DOCS}.\n"
            f"Please retry in {duration(round(d.wait, 3))}."
        )
    return error.message


def google_error_json(error: ProviderError, message: str) -> dict[str, Any]:
    """`{"error": {"code", "message", "status", "details"}}`; a 429 with its wait carries a
    `QuotaFailure`, a `Help` link and the `RetryInfo` detail."""
    body: dict[str, Any] = {"code": error.status, "message": message, "status": status_name(error.status)}
    if error.status == 429:
        details: list[dict[str, Any]] = []
        d = error.detail
        if isinstance(d, QuotaRefusal):
            metric = "input_token_count" if d.what == "tokens" else "generate_content_requests"
            details.append(
                {
                    "@type": _QUOTA_FAILURE,
                    "violations": [
                        {
                            "quotaMetric": f"generativelanguage.googleapis.com/{metric}",
                            "quotaId": (
                                f"GenerateContent{d.what.capitalize()}PerMinutePer{d.scope.capitalize()}"
                            ),
                            "quotaDimensions": {"location": "global", "model": d.model},
                            "quotaValue": str(d.limit),
                        }
                    ],
                }
            )
        details.append(
            {
                "@type": _HELP,
                "links": [{"description": "Learn more about Gemini API quotas", "url": _RATE_LIMIT_DOCS}],
            }
        )
        if error.retry_after is not None:
            details.append(
                {"@type": _RETRY_INFO, "retryDelay": duration(round(error.retry_after.seconds, 3))}
            )
        body["details"] = details
    elif error.param is not None and error.status == 400:
        body["details"] = [
            {
                "@type": "type.googleapis.com/google.rpc.BadRequest",
                "fieldViolations": [{"field": error.param, "description": message}],
            }
        ]
    return {"error": body}


class GeminiWire(Dialect):
    """Ids, errors, headers and models as the Gemini API gives them."""

    catalogue_api = "google"
    # The SDK sends its key in `x-goog-api-key` (or the URL's `key=`): it marks a Gemini call on
    # paths Gemini shares with OpenAI (`GET /v1/models`) and on unknown ones.
    version_header = "x-goog-api-key"
    key_header = "x-goog-api-key"
    key_query_param = "key"

    def api_key(self, headers: Mapping[str, str]) -> str:
        return headers.get("x-goog-api-key", "")

    def new_request_id(self) -> str:
        return random_id("", 22)

    def error_message(self, error: ProviderError) -> str:
        return google_message(error)

    def error_body(self, error: ProviderError) -> bytes:
        return orjson.dumps(google_error_json(error, self.error_message(error)))

    def mid_stream_error(self, stream: bool) -> ProviderError:
        return ProviderError(500, "server", _INTERNAL)

    def model_json(self, model: ModelInfo, created: int) -> dict[str, object]:
        methods = (
            ["embedContent", "batchEmbedContents", "countTokens"]
            if model.kind == "embedding"
            else ["generateContent", "streamGenerateContent", "countTokens"]
        )
        return {
            "name": f"models/{model.id}",
            "version": "001",
            "displayName": model.id,
            "description": f"{model.id}, served by rehearsal's fake provider",
            "inputTokenLimit": model.context_window,
            "outputTokenLimit": model.max_output_tokens if model.kind == "chat" else 1,
            "supportedGenerationMethods": methods,
        }

    def model_list(self, data: list[dict[str, object]]) -> dict[str, object]:
        return {"models": data}

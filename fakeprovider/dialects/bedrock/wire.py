"""Bedrock's side of the `Dialect` interface: request ids, SigV4 keys, the SDK's attempt
header, and errors as `x-amzn-ErrorType` + `{"message"}` with the status each exception has in
Bedrock's service model.

A neutral error becomes the Bedrock exception that means the same (`EXCEPTIONS`), and is sent
with that exception's status: a quota's 429 is a `ThrottlingException`, an `http_error` 529
(overloaded) is a `ModelNotReadyException` (429, which the AWS SDKs retry), a 502 a
`ServiceUnavailableException` (503), a 504 a `ModelTimeoutException` (408).
"""

from __future__ import annotations

from collections.abc import Mapping

import orjson

from fakeprovider.catalogue.info import ModelInfo
from fakeprovider.dialects.base import Dialect
from fakeprovider.errors import ProviderError, QuotaRefusal
from fakeprovider.generation.ids import random_hex

# The exception Bedrock answers for each neutral error, and its HTTP status: by kind, then by
# status where one kind covers several (`server`: 500, 502, 503, 504).
_BY_KIND: dict[str, tuple[str, int]] = {
    "invalid_request": ("ValidationException", 400),
    "model_not_found": ("ValidationException", 400),
    "context_length": ("ValidationException", 400),
    "too_large": ("ValidationException", 400),
    "not_found": ("ResourceNotFoundException", 404),
    "auth": ("AccessDeniedException", 403),
    "rate_limit": ("ThrottlingException", 429),
    "quota": ("ThrottlingException", 429),
    "overloaded": ("ModelNotReadyException", 429),
    "timeout": ("ModelTimeoutException", 408),
    "server": ("InternalServerException", 500),
}
_SERVER_BY_STATUS: dict[int, tuple[str, int]] = {
    502: ("ServiceUnavailableException", 503),
    503: ("ServiceUnavailableException", 503),
    504: ("ModelTimeoutException", 408),
}
# Bedrock's own words for the errors whose cause it does not spell out.
_WORDS: dict[str, str] = {
    "ThrottlingException": "Too many requests, please wait before trying again.",
    "ModelNotReadyException": "The model is not ready to serve inference requests. Try again later.",
    "ModelTimeoutException": "Model has timed out in processing the request. Try your request again.",
    "InternalServerException": "The system encountered an unexpected error during processing. "
    "Try your request again.",
    "ServiceUnavailableException": "Bedrock is unable to process your request.",
    "AccessDeniedException": "You don't have access to the model with the specified model ID.",
}
_ERROR_TYPE_SUFFIX = ":http://internal.amazon.com/coral/com.amazon.bedrock/"
# The event-stream names of the exceptions a stream can end with (ConverseStreamOutput's members).
_STREAM_EXCEPTIONS = {
    "ValidationException": "validationException",
    "ThrottlingException": "throttlingException",
    "ServiceUnavailableException": "serviceUnavailableException",
    "InternalServerException": "internalServerException",
}


def exception(error: ProviderError) -> tuple[str, int]:
    """(Bedrock exception name, HTTP status) for a neutral `error`."""
    if error.kind == "server":
        return _SERVER_BY_STATUS.get(error.status, _BY_KIND["server"])
    return _BY_KIND[error.kind]


def bedrock_message(error: ProviderError) -> str:
    """The message Bedrock writes for `error`: the cause where the request is at fault,
    Bedrock's fixed words for throttling and outages."""
    name, _ = exception(error)
    if error.kind == "context_length":
        return "Input is too long for requested model."
    if error.kind == "model_not_found":
        return "The provided model identifier is invalid."
    if error.kind == "quota" and isinstance(error.detail, QuotaRefusal) and error.detail.what == "tokens":
        return "Too many tokens, please wait before trying again."
    words = _WORDS.get(name)
    if words is not None:
        return words
    return error.message


def stream_exception(error: ProviderError) -> str:
    """The `:exception-type` of the event that ends a stream with `error`."""
    return _STREAM_EXCEPTIONS.get(exception(error)[0], "modelStreamErrorException")


def new_uuid() -> str:
    """A random version-4 UUID, as Bedrock's request ids are."""
    h = random_hex(32)
    return f"{h[:8]}-{h[8:12]}-4{h[13:16]}-{'89ab'[int(h[16], 16) & 3]}{h[17:20]}-{h[20:]}"


class BedrockWire(Dialect):
    """Ids, keys, retries and errors as Bedrock's runtime API gives them."""

    catalogue_api = "bedrock"
    # What marks a path this provider does not serve (InvokeModel, say) as an AWS SDK's call.
    key_header = "amz-sdk-invocation-id"

    # botocore's `amz-sdk-invocation-id` names one call across its retries, but it is random
    # per call: as the request id it would make a rule's seeded `probability` roll differ from
    # run to run. The body's fingerprint names the request instead, and `amz-sdk-request` says
    # which calls are retries of it (`sdk_retry_count`), so attempts still count 1, 2, 3.
    def sdk_retry_count(self, headers: Mapping[str, str]) -> int | None:
        # botocore: `amz-sdk-request: attempt=1; max=3`, and on a retry with the deadline first
        # (`ttl=20261207T172852Z; attempt=2; max=3`); attempt 1 is the first try.
        given = headers.get("amz-sdk-request")
        start = -1 if given is None else given.find("attempt=")
        if given is None or start < 0:
            return None
        attempt = given[start + 8 :].split(";", 1)[0]
        return int(attempt) - 1 if attempt.isdigit() and attempt != "0" else None

    def api_key(self, headers: Mapping[str, str]) -> str:
        # SigV4 (`AWS4-HMAC-SHA256 Credential=AKID/date/region/bedrock/aws4_request, …`): the
        # access key id, accepted, never verified; or a Bedrock API key as a bearer token.
        auth = headers.get("authorization", "")
        start = auth.find("Credential=")
        if start >= 0:
            return auth[start + 11 :].split("/", 1)[0]
        return auth[7:] if auth[:7].lower() == "bearer " else ""

    def new_request_id(self) -> str:
        return new_uuid()

    def request_id_headers(self, request_id: str) -> dict[str, str]:
        return {"x-amzn-RequestId": request_id}

    def error_status(self, error: ProviderError) -> int:
        return exception(error)[1]

    def error_message(self, error: ProviderError) -> str:
        return bedrock_message(error)

    def error_body(self, error: ProviderError) -> bytes:
        return orjson.dumps({"message": bedrock_message(error)})

    def error_headers(self, error: ProviderError, headers: dict[str, str]) -> None:
        headers["x-amzn-ErrorType"] = exception(error)[0] + _ERROR_TYPE_SUFFIX

    def mid_stream_error(self, stream: bool) -> ProviderError:
        return ProviderError(500, "server", "")

    def model_json(self, model: ModelInfo, created: int) -> dict[str, object]:
        return {"modelId": model.id, "modelArn": f"arn:aws:bedrock:us-east-1::foundation-model/{model.id}"}

    def model_list(self, data: list[dict[str, object]]) -> dict[str, object]:
        return {"modelSummaries": data}

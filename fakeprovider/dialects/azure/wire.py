"""What Azure OpenAI's surfaces share: deployments, `api-version`, keys, request ids, and the
error bodies its gateway writes.

Azure fronts OpenAI's models with its own gateway. The gateway's refusals (no such deployment,
no `api-version`, a rate limit, an outage) are `{"error": {"code", "message"}}`; what the model
itself refuses (a bad parameter, a prompt over the context window) passes through in OpenAI's
shape, so those are left to `OpenAIWire`.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, ClassVar

import orjson

from fakeprovider.catalogue.families import Catalogue
from fakeprovider.catalogue.info import Kind
from fakeprovider.dialects.openai_wire import OpenAIWire
from fakeprovider.errors import ProviderError, QuotaRefusal, RateLimited, invalid
from fakeprovider.generation.ids import random_hex

API_VERSION = "api-version"
_RETRY_AFTER = (
    "Please retry after {} second{}. Please go here: https://aka.ms/oai/quotaincrease if you "
    "would like to further increase the default rate limit."
)
# Codes only Azure's gateway gives: bodies carrying them are in the gateway's shape.
_GATEWAY_CODES = frozenset({"DeploymentNotFound", "OperationNotSupported", "MissingApiVersionParameter"})
_STATUS_CODES = {
    401: "401",
    408: "Timeout",
    500: "InternalServerError",
    502: "BadGateway",
    503: "ServiceUnavailable",
    504: "GatewayTimeout",
}
_STATUS_MESSAGES = {
    401: "Access denied due to invalid subscription key or wrong API endpoint. Make sure to provide "
    "a valid key for an active subscription and use a correct regional API endpoint for your resource.",
    404: "Resource not found",
}


def _uuid4() -> str:
    """A random UUID as Azure's request ids are, at a fraction of `str(uuid.uuid4())`'s cost
    (its hex digits read from the OS a batch at a time, not a system call per id)."""
    h = random_hex(32)
    return f"{h[:8]}-{h[8:12]}-4{h[13:16]}-{_VARIANT[h[16]]}{h[17:20]}-{h[20:]}"


_VARIANT = {c: "89ab"[int(c, 16) & 3] for c in "0123456789abcdef"}


def deployment_not_found() -> ProviderError:
    return ProviderError(
        404,
        "not_found",
        "The API deployment for this resource does not exist. If you created the deployment within "
        "the last 5 minutes, please wait a moment and try again.",
        code="DeploymentNotFound",
    )


def missing_api_version() -> ProviderError:
    # The real service answers 404 "Resource not found"; SPEC §8 asks for a 400 that says why.
    return invalid(
        "The api-version query parameter (?api-version=) is required for all requests.",
        code="MissingApiVersionParameter",
    )


def gateway_json(error: ProviderError, message: str) -> dict[str, Any] | None:
    """The gateway's `{"error": {"code", "message"}}` for `error`, or None where the model's
    own (OpenAI-shaped) error passes through."""
    if error.code in _GATEWAY_CODES:
        return {"error": {"code": error.code, "message": message}}
    if error.kind in ("rate_limit", "quota"):
        return {"error": {"code": "429", "message": message}}
    if error.kind == "not_found" or error.status in _STATUS_CODES:
        words = _STATUS_MESSAGES.get(error.status, message)
        return {"error": {"code": _STATUS_CODES.get(error.status, str(error.status)), "message": words}}
    return None


class AzureWire(OpenAIWire):
    """The Azure side of the `Dialect` interface: OpenAI's, with Azure's gateway in front."""

    operation: ClassVar[str]  # how the gateway names the call in a 429: "ChatCompletions_Create"
    kind: ClassVar[Kind]  # the catalogue models the operation works with
    key_header = "api-key"
    query_params = (API_VERSION,)

    def api_key(self, headers: Mapping[str, str]) -> str:
        auth = headers.get("authorization", "")
        return auth[7:] if auth[:7].lower() == "bearer " else headers.get("api-key", "")

    def new_request_id(self) -> str:
        return _uuid4()

    def request_id_headers(self, request_id: str) -> dict[str, str]:
        return {"x-request-id": request_id, "apim-request-id": request_id}

    def deployment_body(
        self, body: Mapping[str, Any], catalogue: Catalogue, match: Mapping[str, str]
    ) -> tuple[Mapping[str, Any], str | None]:
        """The body with `model` set to the deployment's model, and the deployment:
        the path's, else the body's `model`. Only the v1 API (`/openai/{version:v1}/…`, so the
        route says so in `match`) goes without `api-version`."""
        if match.get("version") != "v1" and not match.get(API_VERSION):
            raise missing_api_version()
        deployment = match.get("deployment")
        if deployment is None:
            deployment = body.get("model")
            if not isinstance(deployment, str):
                return body, None  # OpenAI's parse says what is missing
        info = catalogue.deployment(deployment, self.catalogue_api)
        if info is None:
            raise deployment_not_found()
        if info.kind != self.kind:
            raise ProviderError(
                400,
                "invalid_request",
                f"The {self.operation.split('_')[0].lower()} operation does not work with the "
                f"specified model, {info.id}. Please choose different model and try again.",
                code="OperationNotSupported",
            )
        return {**body, "model": info.id}, deployment

    def error_message(self, error: ProviderError) -> str:
        d = error.detail
        if isinstance(d, RateLimited | QuotaRefusal):
            what = "call" if isinstance(d, RateLimited) or d.what == "requests" else "token"
            wait = max(1, round(d.wait))
            return (
                f"Requests to the {self.operation} Operation under Azure OpenAI API have exceeded "
                f"{what} rate limit of your current OpenAI S0 pricing tier. "
                + _RETRY_AFTER.format(wait, "" if wait == 1 else "s")
            )
        return super().error_message(error)

    def error_body(self, error: ProviderError) -> bytes:
        gateway = gateway_json(error, self.error_message(error))
        return orjson.dumps(gateway) if gateway is not None else super().error_body(error)

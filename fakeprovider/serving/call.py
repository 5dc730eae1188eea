"""One provider call from request to ledger record: the shared request path of every API."""

from __future__ import annotations

import hashlib
import time
from dataclasses import dataclass
from typing import Any

import orjson
from aiohttp import web

from fakeprovider.accounting.ledger import LedgerRecord, Outcome
from fakeprovider.errors import ProviderError, invalid
from fakeprovider.ids import random_id, random_lower_id
from fakeprovider.model_info import ModelInfo
from fakeprovider.request import Tags
from fakeprovider.state import ProviderState

_NO_TAGS = Tags()  # Tags are frozen, so one instance serves every untagged call


@dataclass(slots=True)
class Call:
    """What is known about one call while it is served; becomes a ledger record at the end."""

    api: str
    family: str
    request_id: str
    request_id_given: bool
    idempotency_key: str | None
    sdk_retry_count: int | None
    header_tags: Tags
    api_key: str
    t_start: float
    m_start: float
    fingerprint: str = ""
    attempt: int = 1
    model: str | None = None
    price: ModelInfo | None = None  # the model as read with the request: what it is billed at
    stream: bool = False
    tags: Tags = _NO_TAGS
    input_tokens: int = 0
    cached_tokens: int = 0
    output_tokens: int = 0
    cost_usd: float = 0.0
    status: int = 200
    outcome: Outcome = "ok"
    fault: dict[str, str] | None = None
    ttft_ms: float | None = None
    finish_reason: str | None = None
    error: str | None = None
    holding: bool = False  # sending nothing on purpose (a hang): leaving now is a timeout
    request_key: str = ""  # what identifies the request across its retries
    extra_headers: dict[str, str] | None = None  # e.g. rate-limit headers

    def response_headers(self) -> dict[str, str]:
        if self.family == "anthropic":
            headers = {"request-id": self.request_id, "x-request-id": self.request_id}
        else:
            headers = {"x-request-id": self.request_id}
        if self.extra_headers:
            headers.update(self.extra_headers)
        return headers


def elapsed_ms(start: float, end: float) -> float:
    """Milliseconds from `start` to `end` (seconds), to the microsecond: `round(x, 3)` without
    its exact decimal conversion, which costs several times more."""
    return round((end - start) * 1_000_000) / 1000


def new_request_id(family: str) -> str:
    """A provider-style request id: `req_01` + 22 alphanumerics (Anthropic), else `req_` + 32."""
    if family == "anthropic":
        return random_id("req_01", 22)
    return random_lower_id("req_", 32)


def _header_tags(route: str | None, feature: str | None, tenant: str | None) -> Tags:
    if route is None and feature is None and tenant is None:
        return _NO_TAGS
    return Tags(route, feature, tenant)


def start_call(request: web.Request, api: str, family: str, m_start: float) -> Call:
    h = request.headers
    retry = h.get("x-stainless-retry-count")
    given = h.get("x-request-id")
    request_id = given or new_request_id(family)
    auth = h.get("authorization", "")
    api_key = auth[7:] if auth[:7].lower() == "bearer " else h.get("x-api-key", "")
    # Positional, in field order (cheaper than keywords on the hot path).
    return Call(
        api,
        family,
        request_id,
        bool(given),  # request_id_given
        h.get("idempotency-key"),
        int(retry) if retry is not None and retry.isdigit() else None,  # sdk_retry_count
        _header_tags(h.get("x-route"), h.get("x-feature"), h.get("x-tenant")),
        api_key,
        time.time(),  # t_start
        m_start,
    )


async def read_json(request: web.Request, call: Call, state: ProviderState) -> dict[str, Any]:
    """The request body as a JSON object; sets the call's fingerprint and attempt number."""
    content = request.content
    max_bytes = state.config.max_body_bytes  # the app's `client_max_size` too
    if content.is_eof():
        # The whole body is in (the usual case): take it at once. `request.read()` loops over
        # the chunks and awaits each one, about a tenth of a chat call's CPU.
        raw = content.read_nowait()
        too_large = len(raw) > max_bytes
    else:
        try:
            raw = await request.read()
            too_large = False
        except web.HTTPRequestEntityTooLarge:
            too_large = True
    if too_large:
        call.fingerprint = "oversized"
        call.attempt = _attempt(call, state)
        raise ProviderError(
            413,
            "too_large",
            f"Request body exceeds the maximum size of {max_bytes} bytes.",
        ) from None
    try:
        body = orjson.loads(raw) if raw else None
    except orjson.JSONDecodeError as e:
        call.fingerprint = hashlib.blake2b(raw, digest_size=12).hexdigest()
        call.attempt = _attempt(call, state)
        raise invalid(
            f"We could not parse the JSON body of your request. ({e.msg} at position {e.pos})"
        ) from None
    if not isinstance(body, dict):
        call.fingerprint = hashlib.blake2b(raw, digest_size=12).hexdigest()
        call.attempt = _attempt(call, state)
        raise invalid("The request body must be a JSON object.")
    call.fingerprint = fingerprint(body)
    call.attempt = _attempt(call, state)
    return body


def fingerprint(body: dict[str, Any]) -> str:
    """Hash of the normalised body (keys sorted), identical across retries of one request."""
    return hashlib.blake2b(orjson.dumps(body, option=orjson.OPT_SORT_KEYS), digest_size=12).hexdigest()


def _attempt(call: Call, state: ProviderState) -> int:
    if call.request_id_given:
        key = "r:" + call.request_id
    elif call.idempotency_key:
        key = "i:" + call.idempotency_key
    else:
        key = "f:" + call.fingerprint
    call.request_key = key
    return state.next_attempt(key)


def error_response(call: Call, error: ProviderError) -> web.Response:
    call.status = error.status
    call.outcome = "error"
    call.error = error.message
    headers = call.response_headers()
    headers.update(error.headers)
    if call.family == "anthropic":
        headers["x-should-retry"] = "true" if error.status >= 500 or error.status == 429 else "false"
    return web.Response(
        status=error.status,
        body=error.body_for(call.family),
        content_type="application/json",
        headers=headers,
    )


def finish_call(call: Call, state: ProviderState, m_end: float) -> LedgerRecord:
    """Record the call in the ledger and metrics."""
    # Positional, in field order: a dataclass __init__ matches 23 keywords at 3x the cost.
    record = LedgerRecord(
        state.ledger.next_seq(),  # seq
        call.t_start,  # ts_start
        call.t_start + (m_end - call.m_start),  # ts_end
        call.api,
        call.model,
        call.stream,
        call.request_id,
        call.idempotency_key,
        call.sdk_retry_count,
        call.fingerprint,
        call.attempt,
        call.tags.as_dict(),  # tags
        call.input_tokens,
        call.output_tokens,
        call.cached_tokens,
        call.cost_usd,
        call.status,
        call.fault,
        call.outcome,
        call.ttft_ms,
        elapsed_ms(call.m_start, m_end),  # duration_ms
        call.finish_reason,
        call.error,
    )
    state.ledger.append(record)
    state.metrics.observe(record)
    return record

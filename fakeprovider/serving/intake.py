"""Reading a call's body: the size limit, JSON, and what identifies the request across retries
(its fingerprint and attempt number)."""

from __future__ import annotations

import hashlib
from typing import Any

import orjson
from aiohttp import web

from fakeprovider.errors import ProviderError, invalid
from fakeprovider.serving.call import Call
from fakeprovider.state import RETRY_WINDOW_S, ProviderState


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
    try:
        call.fingerprint = fingerprint(body)
    except orjson.JSONEncodeError:  # orjson writes at most 254 levels (it reads 1,024)
        call.fingerprint = hashlib.blake2b(raw, digest_size=12).hexdigest()
        call.attempt = _attempt(call, state)
        raise invalid("The request body is nested too deeply (at most 254 levels).") from None
    call.attempt = _attempt(call, state)
    return body


def fingerprint(body: dict[str, Any]) -> str:
    """Hash of the normalised body (keys sorted), identical across retries of one request."""
    return hashlib.blake2b(orjson.dumps(body, option=orjson.OPT_SORT_KEYS), digest_size=12).hexdigest()


def _attempt(call: Call, state: ProviderState) -> int:
    """Which attempt of its request this call is. A request id or idempotency key names the
    request across every retry (the route's own, too). Without one, the body's fingerprint
    does, and the SDK says which calls are its retries (`x-stainless-retry-count`: 0 is a new
    request); with no hint at all, the same body within `RETRY_WINDOW_S` is a retry."""
    if call.request_id_given:
        call.request_key = "r:" + call.request_id
        return state.next_attempt(call.request_key)
    if call.idempotency_key:
        call.request_key = "i:" + call.idempotency_key
        return state.next_attempt(call.request_key)
    call.request_key = "f:" + call.fingerprint
    if call.sdk_retry_count is not None:
        return state.next_attempt(call.request_key, new_request=call.sdk_retry_count == 0)
    return state.next_attempt(call.request_key, window_s=RETRY_WINDOW_S)

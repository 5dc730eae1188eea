"""Reading a call's body: whole when already received, the size limit, fingerprint and attempt."""

from __future__ import annotations

import asyncio
import json

import pytest
from aiohttp import streams, web
from aiohttp.base_protocol import BaseProtocol
from aiohttp.test_utils import make_mocked_request

from fakeprovider.dialects import DIALECTS
from fakeprovider.errors import ProviderError
from fakeprovider.serving.call import Call
from fakeprovider.serving.intake import fingerprint, read_json
from fakeprovider.state import ProviderConfig, ProviderState


def _arrived(body: bytes) -> web.Request:
    """A request whose whole body has been received (as for any small body)."""
    loop = asyncio.get_running_loop()
    payload = streams.StreamReader(BaseProtocol(loop), 2**16, loop=loop)
    payload.feed_data(body)
    payload.feed_eof()
    return make_mocked_request("POST", "/v1/chat/completions", payload=payload)


async def test_a_body_already_received_is_read_whole() -> None:
    state = ProviderState(ProviderConfig(latency="none"))
    body = {"model": "gpt-4o", "messages": [{"role": "user", "content": "hi"}]}
    request = _arrived(json.dumps(body).encode())
    call = Call.start(request, DIALECTS["openai.chat"], 0.0)
    assert await read_json(request, call, state) == body
    assert call.fingerprint == fingerprint(body)
    assert call.attempt == 1


async def test_a_body_already_received_over_the_size_limit_is_413() -> None:
    state = ProviderState(ProviderConfig(latency="none", max_body_bytes=64))
    request = _arrived(b'{"model": "gpt-4o", "messages": []}' + b" " * 64)
    call = Call.start(request, DIALECTS["openai.chat"], 0.0)
    with pytest.raises(ProviderError) as raised:
        await read_json(request, call, state)
    assert raised.value.status == 413
    assert "64 bytes" in raised.value.message
    assert call.fingerprint == "oversized"


async def test_a_body_nested_past_what_can_be_fingerprinted_is_a_400_not_a_500() -> None:
    state = ProviderState(ProviderConfig(latency="none"))
    request = _arrived(b'{"model": "gpt-4o", "x": ' + b"[" * 400 + b"]" * 400 + b"}")
    call = Call.start(request, DIALECTS["openai.chat"], 0.0)
    with pytest.raises(ProviderError) as raised:
        await read_json(request, call, state)
    assert (raised.value.status, raised.value.kind) == (400, "invalid_request")
    assert "nested too deeply" in raised.value.message
    assert call.attempt == 1

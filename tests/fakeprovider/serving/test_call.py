"""The shared call path: generated request ids, reading the body."""

from __future__ import annotations

import asyncio
import json
import re
from collections import Counter
from concurrent.futures import ThreadPoolExecutor

import pytest
from aiohttp import streams, web
from aiohttp.base_protocol import BaseProtocol
from aiohttp.test_utils import make_mocked_request

from fakeprovider.errors import ProviderError
from fakeprovider.serving.call import fingerprint, new_request_id, read_json, start_call
from fakeprovider.state import ProviderConfig, ProviderState


def test_openai_request_ids_are_req_and_32_lowercase_alphanumerics() -> None:
    ids = {new_request_id("openai") for _ in range(200)}
    assert len(ids) == 200
    assert all(re.fullmatch(r"req_[a-z0-9]{32}", i) for i in ids)


def test_anthropic_request_ids_are_req_01_and_22_alphanumerics() -> None:
    ids = {new_request_id("anthropic") for _ in range(200)}
    assert len(ids) == 200
    assert all(re.fullmatch(r"req_01[A-Za-z0-9]{22}", i) for i in ids)


def test_request_id_characters_are_evenly_drawn() -> None:
    # 62 characters, each expected 2000 times in 124,000 draws; a skewed mapping is far outside.
    counts = Counter("".join(new_request_id("anthropic")[6:] for _ in range(124_000 // 22 + 1)))
    assert len(counts) == 62
    assert min(counts.values()) > 1700
    assert max(counts.values()) < 2300


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
    call = start_call(request, "openai.chat", "openai", 0.0)
    assert await read_json(request, call, state) == body
    assert call.fingerprint == fingerprint(body)
    assert call.attempt == 1


async def test_a_body_already_received_over_the_size_limit_is_413() -> None:
    state = ProviderState(ProviderConfig(latency="none", max_body_bytes=64))
    request = _arrived(b'{"model": "gpt-4o", "messages": []}' + b" " * 64)
    call = start_call(request, "openai.chat", "openai", 0.0)
    with pytest.raises(ProviderError) as raised:
        await read_json(request, call, state)
    assert raised.value.status == 413
    assert "64 bytes" in raised.value.message
    assert call.fingerprint == "oversized"


def test_request_ids_taken_from_several_threads_are_all_different() -> None:
    # Batches are shared between servers on different threads: no id may go out twice.
    def take() -> list[str]:
        return [new_request_id("openai") for _ in range(3000)]

    with ThreadPoolExecutor(4) as pool:
        ids = [i for batch in pool.map(lambda _: take(), range(4)) for i in batch]
    assert len(set(ids)) == len(ids) == 12_000

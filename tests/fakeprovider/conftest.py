"""Fixtures for the fake provider's end-to-end tests."""

from __future__ import annotations

import logging
from collections.abc import Iterator

import anthropic._base_client
import openai._base_client
import pytest


@pytest.fixture
def fast_retries(monkeypatch: pytest.MonkeyPatch) -> None:
    """The SDKs' own back-off between retries, shortened from 0.5 s to 10 ms (retry-after still rules)."""
    monkeypatch.setattr(openai._base_client, "INITIAL_RETRY_DELAY", 0.01)
    monkeypatch.setattr(anthropic._base_client, "INITIAL_RETRY_DELAY", 0.01)


@pytest.fixture
def quiet_server(caplog: pytest.LogCaptureFixture) -> Iterator[None]:
    """Fail the test if the server logs a warning, an error or a traceback (a cut is not a crash)."""
    caplog.set_level(logging.DEBUG, logger="aiohttp")
    caplog.set_level(logging.DEBUG, logger="asyncio")
    yield
    # In teardown `caplog.records` holds teardown's records only: read the test's own.
    records = caplog.get_records("setup") + caplog.get_records("call") + caplog.records
    noisy = [
        f"{r.name} {r.levelname}: {r.getMessage()}"
        for r in records
        if r.name.startswith(("aiohttp", "asyncio", "fakeprovider"))
        and (r.levelno >= logging.WARNING or r.exc_info is not None)
    ]
    assert noisy == []

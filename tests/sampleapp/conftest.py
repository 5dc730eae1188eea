"""The sampleapp in-process against a real fake provider: faults go in through the provider's
control API, and the provider's ledger says what the app really sent."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Iterable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any

import aiohttp
import pytest
from multidict import CIMultiDictProxy

from fakeprovider import FakeProviderThread
from fakeprovider.accounting.ledger import LedgerRecord
from sampleapp import SampleApp

# Overrides that keep the tests quick without changing what they show: a call timeout shorter
# than the default, yet long enough that a call on a busy machine (4 test workers) is not cut.
QUICK: dict[str, Any] = {"retry": {"call_timeout_s": 3.0}}


@dataclass
class Reply:
    status: int
    headers: CIMultiDictProxy[str]
    text: str

    def json(self) -> Any:
        import json

        return json.loads(self.text)


@dataclass
class Rig:
    provider: FakeProviderThread
    http: aiohttp.ClientSession

    async def fault(self, **rule: Any) -> None:
        """Add one fault rule through the provider's control API."""
        async with self.http.post(self.provider.url + "/control/faults", json=rule) as resp:
            assert resp.status == 201, await resp.text()

    def calls(self, request_id: str | None = None) -> list[LedgerRecord]:
        records = self.provider.state.ledger.records()
        return [r for r in records if request_id is None or r.request_id == request_id]

    async def settled(self, count: int, timeout_s: float = 3.0) -> list[LedgerRecord]:
        """The ledger once it holds `count` records (a stream's record lands just after its last
        byte, and a timed-out call's when the provider notices the caller left)."""
        deadline = time.monotonic() + timeout_s
        while len(records := self.calls()) < count:
            if time.monotonic() > deadline:
                raise AssertionError(f"{len(records)} ledger records after {timeout_s} s, wanted {count}")
            await asyncio.sleep(0.01)
        return records

    @asynccontextmanager
    async def app(
        self, config: dict[str, Any] | None = None, flaws: Iterable[str] = ()
    ) -> AsyncIterator[SampleApp]:
        async with SampleApp(self.provider.url, config=config or QUICK, flaws=flaws, seed=0) as app:
            yield app

    async def post(
        self, app: SampleApp, path: str, body: object, headers: dict[str, str] | None = None
    ) -> Reply:
        async with self.http.post(app.url + path, json=body, headers=headers) as resp:
            return Reply(resp.status, resp.headers, await resp.text())


@pytest.fixture
async def rig(provider: FakeProviderThread) -> AsyncIterator[Rig]:
    async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=20)) as http:
        yield Rig(provider, http)


@pytest.fixture
async def app(rig: Rig) -> AsyncIterator[SampleApp]:
    """The correct app (no flaws) with the quick settings."""
    async with rig.app() as a:
        yield a

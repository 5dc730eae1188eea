"""A client of the fake provider's control API, used by the runner and the pytest plugin."""

from __future__ import annotations

import urllib.parse
from typing import Any

import aiohttp
import orjson

from harness.errors import ProviderError
from harness.record import LedgerCall

# The control API answers from the provider's own loop in milliseconds; one that has not
# answered in this long is stopped or hung, and each later call would wait as long again.
CONTROL_TIMEOUT_S = 10.0


class ProviderAPI:
    def __init__(
        self,
        url: str,
        session: aiohttp.ClientSession,
        token: str | None = None,
        timeout_s: float = CONTROL_TIMEOUT_S,
    ) -> None:
        self.url = url.rstrip("/")
        self._session = session
        self._headers = {"Authorization": f"Bearer {token}"} if token else {}
        self._timeout = aiohttp.ClientTimeout(total=timeout_s)
        self._hung: str | None = None  # why the provider is taken for hung: later calls fail at once

    async def _call(self, method: str, path: str, body: Any = None, ok: tuple[int, ...] = (200, 201)) -> Any:
        if self._hung is not None:
            raise ProviderError(self._hung)
        data = None if body is None else orjson.dumps(body)
        headers = dict(self._headers)
        if data is not None:
            headers["Content-Type"] = "application/json"
        try:
            async with self._session.request(
                method, self.url + path, data=data, headers=headers, timeout=self._timeout
            ) as resp:
                payload = await resp.read()
                if resp.status not in ok:
                    text = payload.decode(errors="replace")
                    raise ProviderError(f"fake provider {method} {path} answered {resp.status}: {text}")
                return orjson.loads(payload) if payload else None
        except aiohttp.ClientError as e:
            raise ProviderError(f"fake provider at {self.url} is not reachable: {e}") from None
        except TimeoutError:
            self._hung = (
                f"fake provider at {self.url} did not answer {method} {path} in "
                f"{self._timeout.total:g} s (stopped or hung); no further calls were tried"
            )
            raise ProviderError(self._hung) from None

    async def health(self) -> dict[str, Any]:
        result: dict[str, Any] = await self._call("GET", "/control/health")
        return result

    async def put_scenario(self, scenario: dict[str, Any]) -> None:
        await self._call("PUT", "/control/scenario", scenario)

    async def get_scenario(self) -> dict[str, Any]:
        result: dict[str, Any] = await self._call("GET", "/control/scenario")
        return result

    async def add_fault(self, rule: dict[str, Any]) -> dict[str, Any]:
        result: dict[str, Any] = await self._call("POST", "/control/faults", rule)
        return result

    async def list_faults(self) -> list[dict[str, Any]]:
        result: list[dict[str, Any]] = (await self._call("GET", "/control/faults"))["faults"]
        return result

    async def remove_fault(self, name: str) -> None:
        """Remove one rule by name (gone already is fine)."""
        await self._call("DELETE", f"/control/faults/{urllib.parse.quote(name, safe='')}", ok=(200, 404))

    async def remove_faults(self) -> None:
        await self._call("DELETE", "/control/faults")

    async def reset(self) -> None:
        await self._call("POST", "/control/reset")

    async def start_clock(self) -> None:
        await self._call("POST", "/control/clock/start")

    async def ledger(self, since: int = 0) -> list[LedgerCall]:
        """Every ledger record after `since`, fetched page by page."""
        records: list[LedgerCall] = []
        while True:
            page = await self._call("GET", f"/control/ledger?since={since}&limit=5000")
            batch = page["records"]
            if not batch:
                return records
            records.extend(LedgerCall.from_dict(r) for r in batch)
            since = page["next"]

"""All proxies of a server by name (Toxiproxy's `ProxyCollection`), with populate and reset."""

from __future__ import annotations

import asyncio
import random
from typing import Any

from harness.network.errors import ApiError, missing_field, proxy_already_exists, proxy_not_found
from harness.network.proxy import Proxy
from harness.network.wire import ProxyBody, parse


class ProxyCollection:
    """The proxies of one server; adding, replacing and removing them keeps names unique."""

    def __init__(self, rng: random.Random | None = None) -> None:
        self.rng = rng or random.Random()
        self._proxies: dict[str, Proxy] = {}
        self._lock = asyncio.Lock()

    def proxies(self) -> list[Proxy]:
        """Sorted by name, as Go marshals a map."""
        return [self._proxies[name] for name in sorted(self._proxies)]

    def get(self, name: str) -> Proxy:
        proxy = self._proxies.get(name)
        if proxy is None:
            raise proxy_not_found()
        return proxy

    def new_proxy(self, fields: ProxyBody, where: str = "") -> Proxy:
        """A proxy (not started) from a create or populate body; name and upstream required."""
        if not fields.name:
            raise missing_field(f"name{where}")
        if not fields.upstream:
            raise missing_field(f"upstream{where}")
        return Proxy(fields.name, fields.listen or "", fields.upstream, self.rng)

    async def add(self, proxy: Proxy, start: bool) -> None:
        async with self._lock:
            if proxy.name in self._proxies:
                raise proxy_already_exists()
            if start:
                await proxy.start()
            self._proxies[proxy.name] = proxy

    async def _add_or_replace(self, proxy: Proxy, start: bool) -> Proxy:
        existing = self._proxies.get(proxy.name)
        if existing is not None:
            if not existing.differs(proxy):
                return existing
            async with existing.lock:
                await existing.stop()
        if start:
            await proxy.start()
        self._proxies[proxy.name] = proxy
        return proxy

    async def populate(self, items: list[Any]) -> tuple[list[Proxy], ApiError | None]:
        """Create or replace each proxy in order; a proxy with the same listen and upstream
        is kept as is (toxics and connections included). Stops at the first failure and
        returns what was done so far with the error, as Toxiproxy's `/populate` does."""
        fields: list[ProxyBody] = []
        for i, item in enumerate(items, start=1):
            if not isinstance(item, dict):
                raise ApiError(f"bad request body: proxy {i}: expected a JSON object", 400)
            fields.append(parse(ProxyBody, item, f"proxy {i}"))
        proxies = [self.new_proxy(f, f" at proxy {i}") for i, f in enumerate(fields, start=1)]
        done: list[Proxy] = []
        async with self._lock:
            for proxy, f in zip(proxies, fields, strict=True):
                try:
                    done.append(await self._add_or_replace(proxy, f.enabled is not False))
                except ApiError as e:
                    return done, e
        return done, None

    async def remove(self, name: str) -> None:
        async with self._lock:
            proxy = self.get(name)
            async with proxy.lock:
                await proxy.stop()
            del self._proxies[name]

    async def clear(self) -> None:
        async with self._lock:
            for proxy in list(self._proxies.values()):
                async with proxy.lock:
                    await proxy.stop()
            self._proxies.clear()

    async def reset(self) -> None:
        """Every proxy enabled again and every toxic removed (`POST /reset`)."""
        for proxy in self.proxies():
            async with proxy.lock:
                await proxy.start()
            await proxy.toxics.reset()

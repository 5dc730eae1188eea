"""The experiment's `network` section: a Toxiproxy proxy between the target and the provider,
its run-wide toxics, and each phase's toxics added at the phase's start and removed at its end.

The Toxiproxy is `TOXIPROXY_URL`, else a `toxiproxy-server` on PATH, else the project's own, in
its own process (its byte path must not share the load generator's interpreter). Whatever
happens, `close` deletes the proxy (and with it every toxic) and stops what it started.
toxiproxy-python is synchronous: its calls run in a worker thread.
"""

from __future__ import annotations

import asyncio
import urllib.parse
from collections.abc import Callable
from typing import Any

import requests

from harness.errors import HarnessError
from harness.experiment.model import Experiment
from harness.network.client import ToxiproxyService, add_toxics, create_proxy
from harness.network.spec import ToxicSpec
from harness.record import PhaseWindow


class NetworkFaults:
    """One run's proxy and toxics."""

    def __init__(self, exp: Experiment, run_tag: str) -> None:
        self.exp = exp
        self.proxy_name = f"rehearsal-{run_tag}"
        self.service: ToxiproxyService | None = None
        self.proxy: Any = None
        self.applied: list[str] = []  # "phase: toxic" as they were added, for the journal

    @property
    def listen_port(self) -> int:
        """Where the proxy listens: the port the target's model base URL points at."""
        network, provider = self.exp.network, self.exp.provider
        if network is not None and network.listen_port is not None:
            return network.listen_port
        return provider.port or 0

    async def open(self, provider_url: str) -> str:
        """Start (or find) Toxiproxy, put a proxy in front of `provider_url`, add the run-wide
        toxics; the URL the target must call the provider at."""
        try:
            self.service = await asyncio.to_thread(ToxiproxyService(embedded="process").start)
            upstream = urllib.parse.urlsplit(provider_url).netloc
            listen = f"127.0.0.1:{self.listen_port}"
            self.proxy = await asyncio.to_thread(
                create_proxy, self.service.client(), self.proxy_name, upstream, listen
            )
            if self.exp.network is not None and self.exp.network.toxics:
                await self._add("run", self.exp.network.toxics)
        except HarnessError:
            raise
        except Exception as e:  # toxiproxy-python raises its own and `requests` errors
            raise HarnessError(f"network: could not set up the proxy: {e}") from e
        return f"http://{self.proxy.listen}"

    async def follow(self, windows: list[PhaseWindow]) -> None:
        """Each phase's toxics on the proxy for that phase (run from the load's start)."""
        loop = asyncio.get_running_loop()
        start = loop.time()
        for phase, window in zip(self.exp.phases, windows, strict=False):
            if not phase.toxics:
                continue
            await asyncio.sleep(max(0.0, start + window.start_s - loop.time()))
            await self._add(phase.name, phase.toxics)
            await asyncio.sleep(max(0.0, start + window.end_s - loop.time()))
            for toxic in phase.toxics:
                await self._call(
                    f"phase {phase.name}: removing a toxic", self.proxy.destroy_toxic, toxic.toxic_name
                )

    async def _add(self, phase: str, toxics: list[ToxicSpec]) -> None:
        await self._call(f"phase {phase}: the proxy refused a toxic", add_toxics, self.proxy, toxics)
        self.applied += [f"{phase}: {t.toxic_name}" for t in toxics]

    async def _call(self, what: str, fn: Callable[..., object], *args: Any) -> None:
        """A toxiproxy-python call in a worker thread; a Toxiproxy that is gone is named as such,
        not left to `requests`' connection error."""
        try:
            await asyncio.to_thread(fn, *args)
        except requests.ConnectionError:
            where = f"the Toxiproxy server at {self.service.url}" if self.service else "the Toxiproxy server"
            raise HarnessError(f"network: {where} stopped answering (crashed or was stopped)") from None
        except Exception as e:  # toxiproxy-python's own errors: the server said no
            raise HarnessError(f"network: {what}: {e}") from e

    async def close(self) -> None:
        """Delete the proxy (its toxics go with it) and stop a Toxiproxy this run started."""
        try:
            if self.proxy is not None:
                await asyncio.to_thread(self.proxy.destroy)
        except Exception:
            pass  # a Toxiproxy that died took the proxy with it
        finally:
            self.proxy = None
            if self.service is not None:
                await asyncio.to_thread(self.service.stop)
                self.service = None

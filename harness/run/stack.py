"""What one run stands on: the fake provider (started here or given by URL), the proxy of a
`network` section, the target (the sampleapp or a URL), and the phase faults put on the provider.

Apart from the run loop so that "remove every fault we added, stop every child we started, in
reverse, whatever happened" is kept in one class that owns that state; the loop only asks it to
start up, to watch its children and to tear down.
"""

from __future__ import annotations

import asyncio
import socket
import time
import urllib.parse
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import aiohttp

from fakeprovider.threaded import is_loopback_host
from harness.errors import HarnessError, TargetError
from harness.experiment.model import Experiment
from harness.procs import Child, spawn_child, start_child
from harness.run.network import NetworkFaults
from harness.run.provider_api import ProviderAPI

READY_TIMEOUT_S = 15.0


@dataclass(slots=True)
class RunOptions:
    """What the command line says on top of each experiment file; mostly where this stack comes
    from, hence kept here (`harness.run.runner` re-exports it)."""

    target_url: str | None = None
    provider_url: str | None = None
    seed: int | None = None
    allow_remote_target: bool = False
    time_scale: float = 1.0  # multiplies every duration (tests run experiments shorter)
    sample_flaws: tuple[str, ...] = ()  # switched on in the sampleapp of `app: sample` targets


def is_loopback_url(url: str) -> bool:
    return is_loopback_host(urllib.parse.urlsplit(url).hostname or "")


async def wait_reachable(url: str, timeout_s: float = READY_TIMEOUT_S) -> None:
    """Wait until something accepts TCP connections at `url`'s host and port."""
    parts = urllib.parse.urlsplit(url)
    host = parts.hostname or "127.0.0.1"
    port = parts.port or (443 if parts.scheme == "https" else 80)
    deadline = time.monotonic() + timeout_s
    last: OSError | None = None
    while time.monotonic() < deadline:
        try:
            _, writer = await asyncio.wait_for(asyncio.open_connection(host, port), 2.0)
        except (OSError, TimeoutError) as e:
            last = e if isinstance(e, OSError) else OSError(str(e))
            await asyncio.sleep(0.1)
            continue
        writer.close()
        return
    raise TargetError(f"target {url} is not reachable after {timeout_s:g} s: {last}")


class Stack:
    """The provider, proxy and target of one run, and the faults it added to the provider."""

    def __init__(self, exp: Experiment, source: Path, options: RunOptions, seed: int) -> None:
        self.exp = exp
        self.source = source
        self.options = options
        self.seed = seed
        self.children: list[Child] = []
        self.added_rules: list[str] = []
        self.network = NetworkFaults(exp, uuid.uuid4().hex[:8]) if exp.uses_network else None

    def check_target_allowed(self) -> None:
        """A given target URL must be loopback unless remote targets are allowed (`app: sample`
        always runs on loopback)."""
        url = self.options.target_url or self.exp.target.url
        if url is not None and not self.options.allow_remote_target and not is_loopback_url(url):
            raise TargetError(
                f"target {url} is not a loopback address; pass --allow-remote-target to send load to it"
            )

    async def start_up(self, session: aiohttp.ClientSession) -> tuple[ProviderAPI, str]:
        """The provider's control API and the target's URL, once both answer.

        A provider started here on a free port listens on a socket bound here first: its URL is
        known at once, so the target starts while the provider loads (each takes seconds of
        start-up) instead of after it. A start-up failure of the provider is the one reported."""
        url, loading = await self._provider()
        # With a `network` section the target calls the provider through the proxy.
        provider_for_target = url if self.network is None else await self.network.open(url)
        target = asyncio.ensure_future(self._target(provider_for_target))
        try:
            if loading is not None:
                await loading.wait_ready()
            api = ProviderAPI(url, session)
            await api.health()
        except BaseException:
            target.cancel()
            await asyncio.gather(target, return_exceptions=True)
            raise
        return api, await target

    async def _provider(self) -> tuple[str, Child | None]:
        """The provider's URL, and the provider child if it is still starting (then it is
        in `children` already, so that the teardown stops it whatever happens)."""
        url = self.options.provider_url or self.exp.provider.url
        if url is not None:
            return url, None
        spec = self.exp.provider
        # A proxy in front of the provider takes over its fixed port (the one the target
        # was configured with) unless the network section names its own.
        port = 0 if self.network is not None and self.network.listen_port == spec.port else spec.port or 0
        args = ["-m", "harness.cli", "serve", "--port", str(port), "--latency", spec.latency]
        args += ["--seed", str(spec.seed if spec.seed is not None else self.seed)]
        if spec.scenario is not None:
            scenario = (self.source.parent / spec.scenario).resolve()
            if not scenario.is_file():
                raise HarnessError(f"{self.source}: provider.scenario: no such file {scenario}")
            args += ["--scenario", str(scenario)]
        if port != 0:  # a fixed port: the provider binds it itself and says if it is taken
            return (await self._start("fake provider", args)).url, None
        with socket.create_server(("127.0.0.1", 0), backlog=1024) as sock:
            fd = sock.fileno()
            child = await spawn_child("fake provider", [*args, "--listen-fd", str(fd)], pass_fds=(fd,))
            url = f"http://127.0.0.1:{sock.getsockname()[1]}"
        self.children.append(child)
        return url, child

    async def _target(self, provider_url: str) -> str:
        url = self.options.target_url or self.exp.target.url
        if url is None:
            args = ["-m", "harness.cli", "sample-app", "--port", "0", "--provider-url", provider_url]
            for flaw in dict.fromkeys([*self.exp.target.sample.flaws, *self.options.sample_flaws]):
                args += ["--flaw", flaw]
            url = (await self._start("sampleapp", args)).url
        await wait_reachable(url)
        return url.rstrip("/")

    async def _start(self, name: str, args: list[str]) -> Child:
        child = await start_child(name, args)
        self.children.append(child)
        return child

    async def add_faults(self, api: ProviderAPI, rules: list[dict[str, Any]]) -> None:
        """Put `rules` on the provider, each remembered for the teardown once it is on."""
        for rule in rules:
            await api.add_fault(rule)
            self.added_rules.append(rule["name"])

    def check_children(self) -> None:
        """Raise if a child has exited: a crash mid-run is an error, with the requests kept."""
        for child in self.children:
            child.check()

    async def watch(self, stop: asyncio.Event, halt: asyncio.Event) -> None:
        """Set `halt` on Ctrl-C or when a child has exited."""
        stopped = asyncio.ensure_future(stop.wait())
        try:
            while not stopped.done() and all(c.alive() for c in self.children):
                await asyncio.wait({stopped}, timeout=0.2)
            halt.set()
        finally:
            stopped.cancel()

    async def teardown(self, api: ProviderAPI | None) -> None:
        if self.network is not None:
            await self.network.close()
        if api is not None and self.added_rules and all(c.alive() for c in self.children):
            try:
                for name in self.added_rules:
                    await api.remove_fault(name)
            except HarnessError:
                pass
        for child in reversed(self.children):
            await child.stop()
        self.children.clear()

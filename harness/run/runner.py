"""Running one experiment: start what it needs, put phase faults on the provider's scenario
clock, drive the load, collect the ledger, evaluate the contract, tear everything down.

Whatever happens (success, a failed clause, an exception, Ctrl-C) the faults this run added
are removed and the children it started are stopped; a run that could not finish still
returns its partial `Run`, with status `error` or `aborted`.
"""

from __future__ import annotations

import asyncio
import ipaddress
import time
import urllib.parse
import uuid
from collections.abc import Coroutine
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

import aiohttp

from harness.contract.base import ClauseResult
from harness.errors import HarnessError, TargetError
from harness.events import RunHandler
from harness.experiment.model import Experiment
from harness.experiment.templates import RequestFactory
from harness.load import drive
from harness.run.children import Child, start_child
from harness.run.model import PhaseWindow, Run
from harness.run.network import NetworkFaults
from harness.run.provider_api import ProviderAPI

READY_TIMEOUT_S = 15.0
LEDGER_SETTLE_S = 0.3
_T = TypeVar("_T")


class _Interrupted(Exception):
    """Ctrl-C while starting up (before the load began)."""


@dataclass(slots=True)
class RunOptions:
    target_url: str | None = None
    provider_url: str | None = None
    seed: int | None = None
    allow_remote_target: bool = False
    time_scale: float = 1.0  # multiplies every duration (tests run experiments shorter)
    sample_flaws: tuple[str, ...] = ()  # switched on in the sampleapp of `app: sample` targets


def scaled(exp: Experiment, scale: float) -> Experiment:
    """The experiment with every duration multiplied by `scale`."""
    if scale == 1.0:
        return exp
    data = exp.model_dump(by_alias=True)
    if data["load"].get("duration_s") is not None:
        data["load"]["duration_s"] *= scale
    for phase in data["phases"]:
        phase["duration_s"] *= scale
    return Experiment.model_validate(data)


def phase_windows(exp: Experiment) -> list[PhaseWindow]:
    if not exp.phases:
        return [PhaseWindow("run", 0.0, exp.duration_s)]
    out: list[PhaseWindow] = []
    t = 0.0
    for p in exp.phases:
        out.append(PhaseWindow(p.name, t, t + p.duration_s))
        t += p.duration_s
    return out


def cut_short(windows: list[PhaseWindow], elapsed_s: float) -> list[PhaseWindow]:
    """The phases of a load stopped after `elapsed_s`: those begun, the last one ended there."""
    return [
        PhaseWindow(w.name, w.start_s, min(w.end_s, max(elapsed_s, w.start_s)))
        for w in windows
        if w.start_s < elapsed_s
    ] or windows[:1]


def phase_rules(exp: Experiment, windows: list[PhaseWindow]) -> list[dict[str, Any]]:
    """Each phase's faults as provider rules whose window is the phase (scenario clock)."""
    rules: list[dict[str, Any]] = []
    for phase, window in zip(exp.phases, windows, strict=False):
        for i, fault in enumerate(phase.faults):
            rule = fault.model_dump(mode="json", exclude_none=True)
            rule["name"] = f"{phase.name}/{fault.name or fault.fault.kind + '-' + str(i + 1)}"
            rule["window"] = {"start_s": window.start_s, "duration_s": window.end_s - window.start_s}
            rules.append(rule)
    return rules


def is_loopback_url(url: str) -> bool:
    host = urllib.parse.urlsplit(url).hostname or ""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


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


class Runner:
    """One experiment, run once."""

    def __init__(self, exp: Experiment, source: Path, options: RunOptions, handler: RunHandler) -> None:
        self.exp = scaled(exp, options.time_scale)
        self.source = source
        self.options = options
        self.handler = handler
        self.seed = options.seed if options.seed is not None else self.exp.seed
        self.children: list[Child] = []
        self.added_rules: list[str] = []
        self.network = NetworkFaults(self.exp, uuid.uuid4().hex[:8]) if self.exp.uses_network else None

    def _new_run(self) -> Run:
        data = self.exp.model_dump(mode="json", by_alias=True, exclude_none=True)
        data["seed"] = self.seed
        return Run(experiment=data, source=str(self.source), started_at=time.time())

    async def run(self, stop: asyncio.Event | None = None) -> tuple[Run, list[ClauseResult]]:
        run = self._new_run()
        stop = stop or asyncio.Event()
        factory = RequestFactory(self.exp.target.request, self.seed)
        async with aiohttp.ClientSession() as session:
            api: ProviderAPI | None = None
            try:
                self._check_target_allowed()  # before anything starts or connects
                started, target_url = await self._unless_stopped(self._start_up(session), stop)
                api = started
                await self._drive(run, started, target_url, factory, stop)
                if stop.is_set():
                    run.status = "aborted"
                    run.error = "interrupted"
            except _Interrupted:
                run.status = "aborted"
                run.error = "interrupted before the load started"
            except HarnessError as e:
                run.status = "error"
                run.error = str(e)
            except asyncio.CancelledError:
                # A second Ctrl-C cancels every task: stop at once, but still clean up and report.
                if not stop.is_set():
                    raise
                run.status = "aborted"
                run.error = "interrupted (twice: stopped at once)"
            finally:
                await self._teardown(api)
        results = [] if run.status != "completed" else evaluate(self.exp, run)
        self.handler.run_finished(run, results)
        return run, results

    async def _start_up(self, session: aiohttp.ClientSession) -> tuple[ProviderAPI, str]:
        api = await self._provider(session)
        # With a `network` section the target calls the provider through the proxy.
        provider_for_target = api.url if self.network is None else await self.network.open(api.url)
        return api, await self._target(provider_for_target)

    @staticmethod
    async def _unless_stopped(work: Coroutine[Any, Any, _T], stop: asyncio.Event) -> _T:
        """`work`'s result, or `_Interrupted` (with `work` cancelled) if `stop` is set first."""
        task = asyncio.ensure_future(work)
        stopped = asyncio.ensure_future(stop.wait())
        try:
            await asyncio.wait({task, stopped}, return_when=asyncio.FIRST_COMPLETED)
        finally:
            stopped.cancel()
            if not task.done():
                task.cancel()
                await asyncio.gather(task, return_exceptions=True)
        if task.cancelled():
            raise _Interrupted
        return task.result()

    async def _provider(self, session: aiohttp.ClientSession) -> ProviderAPI:
        url = self.options.provider_url or self.exp.provider.url
        if url is None:
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
            child = await self._start("fake provider", args)
            url = child.url
        api = ProviderAPI(url, session)
        await api.health()
        return api

    async def _start(self, name: str, args: list[str]) -> Child:
        child = await start_child(name, args)
        self.children.append(child)
        return child

    def _check_target_allowed(self) -> None:
        """A given target URL must be loopback unless remote targets are allowed (`app: sample`
        always runs on loopback)."""
        url = self.options.target_url or self.exp.target.url
        if url is not None and not self.options.allow_remote_target and not is_loopback_url(url):
            raise TargetError(
                f"target {url} is not a loopback address; pass --allow-remote-target to send load to it"
            )

    async def _target(self, provider_url: str) -> str:
        url = self.options.target_url or self.exp.target.url
        if url is None:
            args = ["-m", "harness.cli", "sample-app", "--port", "0", "--provider-url", provider_url]
            for flaw in dict.fromkeys([*self.exp.target.sample.flaws, *self.options.sample_flaws]):
                args += ["--flaw", flaw]
            url = (await self._start("sampleapp", args)).url
        await wait_reachable(url)
        return url.rstrip("/")

    async def _drive(
        self, run: Run, api: ProviderAPI, target_url: str, factory: RequestFactory, stop: asyncio.Event
    ) -> None:
        windows = phase_windows(self.exp)
        run.phases = windows
        for rule in phase_rules(self.exp, windows):
            await api.add_fault(rule)
            self.added_rules.append(rule["name"])
        run.fault_rules = await api.list_faults()
        since = int((await api.health())["ledger_seq"])
        self.handler.run_started(
            self.exp.title, str(self.source), self.exp.duration_s, self.exp.load.max_requests
        )
        # The load stops on Ctrl-C (`stop`, shared with the experiments still to run) or when a
        # child dies (`halt`, this run only).
        halt = asyncio.Event()
        watch = asyncio.create_task(self._watch(stop, halt))
        phase_task = asyncio.create_task(self._announce_phases(windows))
        await api.start_clock()
        run.load_started_at = time.time()
        toxics = None if self.network is None else asyncio.create_task(self.network.follow(windows))
        if toxics is not None:
            toxics.add_done_callback(lambda t: halt.set() if not t.cancelled() and t.exception() else None)
        try:
            if self.exp.load.engine == "locust":
                from harness.load.locust import drive_locust

                # Locust restarts the provider's scenario clock itself, as its load starts.
                result = await drive_locust(
                    target_url, self.exp, self.seed, api.url, on_record=self.handler.request_done, stop=halt
                )
                run.requests = result.records
                run.load_started_at = result.t0 or run.load_started_at
            else:
                run.requests = await drive(
                    target_url,
                    factory,
                    self.exp.load,
                    windows,
                    stream=self.exp.target.stream == "sse",
                    timeout_s=self.exp.target.timeout_s,
                    seed=self.seed,
                    on_record=self.handler.request_done,
                    stop=halt,
                )
        finally:
            watch.cancel()
            phase_task.cancel()
            if toxics is not None:
                toxics.cancel()
            if halt.is_set():  # stopped early: the phases as they ran, not as planned
                run.phases = cut_short(windows, time.time() - run.load_started_at)
        for child in self.children:
            child.check()  # a crash mid-run is an error, with the requests kept
        if toxics is not None and toxics.done() and not toxics.cancelled() and toxics.exception():
            raise HarnessError(str(toxics.exception()))
        await asyncio.sleep(LEDGER_SETTLE_S)  # the provider writes a record after its answer
        run.ledger = await api.ledger(since)

    async def _announce_phases(self, windows: list[PhaseWindow]) -> None:
        start = asyncio.get_running_loop().time()
        for w in windows:
            delay = start + w.start_s - asyncio.get_running_loop().time()
            if delay > 0:
                await asyncio.sleep(delay)
            self.handler.phase_started(w)

    async def _watch(self, stop: asyncio.Event, halt: asyncio.Event) -> None:
        """Set `halt` on Ctrl-C or when a child has exited."""
        stopped = asyncio.ensure_future(stop.wait())
        try:
            while not stopped.done() and all(c.alive() for c in self.children):
                await asyncio.wait({stopped}, timeout=0.2)
            halt.set()
        finally:
            stopped.cancel()

    async def _teardown(self, api: ProviderAPI | None) -> None:
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


def evaluate(exp: Experiment, run: Run) -> list[ClauseResult]:
    """Every contract clause's verdict on `run`; a clause that raises gives verdict `error`."""
    results: list[ClauseResult] = []
    for spec in exp.contract:
        clause = spec.build()
        try:
            results.append(clause.evaluate(run))
        except Exception as e:
            results.append(ClauseResult(spec.name, spec.name, "-", f"could not evaluate: {e!r}", "error"))
    return results

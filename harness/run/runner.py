"""Running one experiment: start what it needs, put phase faults on the provider's scenario
clock, drive the load, collect the ledger, evaluate the contract, tear everything down.

Whatever happens (success, a failed clause, an exception, Ctrl-C) the faults this run added
are removed and the children it started are stopped; a run that could not finish still
returns its partial `Run`, with status `error` or `aborted`.

The timeline lives in `harness.run.phases` and what the run stands on (provider, proxy,
target, their teardown) in `harness.run.stack`; the names callers know are re-exported here.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Coroutine
from pathlib import Path
from typing import Any, TypeVar

import aiohttp

from harness.contract.base import ClauseResult
from harness.contract.evaluate import evaluate
from harness.errors import HarnessError
from harness.events import RunHandler
from harness.experiment.model import Experiment
from harness.experiment.templates import RequestFactory
from harness.load import drive
from harness.load.trace import Trace, trace_of
from harness.record import PhaseWindow, Run
from harness.run.phases import announce_phases, cut_short, phase_rules, phase_windows, scaled
from harness.run.provider_api import ProviderAPI
from harness.run.stack import READY_TIMEOUT_S, RunOptions, Stack, is_loopback_url, wait_reachable

__all__ = [
    "LEDGER_SETTLE_S",
    "READY_TIMEOUT_S",
    "RunOptions",
    "Runner",
    "cut_short",
    "is_loopback_url",
    "phase_rules",
    "phase_windows",
    "scaled",
    "wait_reachable",
]

LEDGER_SETTLE_S = 0.3
_T = TypeVar("_T")


class _Interrupted(Exception):
    """Ctrl-C while starting up (before the load began)."""


class Runner:
    """One experiment, run once."""

    def __init__(self, exp: Experiment, source: Path, options: RunOptions, handler: RunHandler) -> None:
        self.exp = scaled(exp, options.time_scale)
        self.source = source
        self.options = options
        self.handler = handler
        self.seed = options.seed if options.seed is not None else self.exp.seed
        self.stack = Stack(self.exp, source, options, self.seed)
        self.trace: Trace | None = None  # a trace load's arrivals, read when the run starts

    def _new_run(self) -> Run:
        data = self.exp.model_dump(mode="json", by_alias=True, exclude_none=True)
        data["seed"] = self.seed
        return Run(experiment=data, source=str(self.source), started_at=time.time())

    async def run(self, stop: asyncio.Event | None = None) -> tuple[Run, list[ClauseResult]]:
        run = self._new_run()
        stop = stop or asyncio.Event()
        async with aiohttp.ClientSession() as session:
            api: ProviderAPI | None = None
            try:
                self.stack.check_target_allowed()  # before anything starts or connects
                # Read again, as it is now (`validate` read it too); a relative path is the
                # experiment file's (`load_experiment` made it absolute already).
                self.trace = trace_of(self.exp.load, self.source.parent)
                factory = RequestFactory(self.exp.target.request, self.seed, trace=self.trace)
                started, target_url = await _unless_stopped(self.stack.start_up(session), stop)
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
                await self.stack.teardown(api)
        results = [] if run.status != "completed" else evaluate(self.exp, run)
        self.handler.run_finished(run, results)
        return run, results

    async def _drive(
        self, run: Run, api: ProviderAPI, target_url: str, factory: RequestFactory, stop: asyncio.Event
    ) -> None:
        windows = phase_windows(self.exp)
        run.phases = windows
        await self.stack.add_faults(api, phase_rules(self.exp, windows))
        run.fault_rules = await api.list_faults()
        since = int((await api.health())["ledger_seq"])
        self.handler.run_started(
            self.exp.title, str(self.source), self.exp.duration_s, self.exp.load.max_requests
        )
        # The load stops on Ctrl-C (`stop`, shared with the experiments still to run) or when a
        # child dies (`halt`, this run only).
        halt = asyncio.Event()
        watch = asyncio.create_task(self.stack.watch(stop, halt))
        phase_task = asyncio.create_task(announce_phases(windows, self.handler))
        await api.start_clock()
        run.load_started_at = time.time()
        network = self.stack.network
        toxics = None if network is None else asyncio.create_task(network.follow(windows))
        if toxics is not None:
            toxics.add_done_callback(lambda t: halt.set() if not t.cancelled() and t.exception() else None)
        try:
            await self._load(run, api, target_url, factory, windows, halt)
        finally:
            watch.cancel()
            phase_task.cancel()
            if toxics is not None:
                toxics.cancel()
            if halt.is_set():  # stopped early: the phases as they ran, not as planned
                run.phases = cut_short(windows, time.time() - run.load_started_at)
        self.stack.check_children()
        if toxics is not None and toxics.done() and not toxics.cancelled() and toxics.exception():
            raise HarnessError(str(toxics.exception()))
        await asyncio.sleep(LEDGER_SETTLE_S)  # the provider writes a record after its answer
        run.ledger = await api.ledger(since)

    async def _load(
        self,
        run: Run,
        api: ProviderAPI,
        target_url: str,
        factory: RequestFactory,
        windows: list[PhaseWindow],
        halt: asyncio.Event,
    ) -> None:
        """The load itself, its records into `run`; it stops early when `halt` is set."""
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
                trace=self.trace,
            )


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

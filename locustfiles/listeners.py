"""How a rehearsal runs inside locust: its command-line options, and the listeners that load
the experiment, start the load and end it.

Alone (no --master/--worker) one process does everything. Distributed, the master owns the
experiment, the clocks and the sink: when the test starts it starts each provider's scenario
clock (and, with --rehearse-phase-faults, puts the phase faults on), takes time zero, and hands
each worker its lane (`locustfiles.lanes`). When the test stops it prints the LLM timings and
takes the phase faults off again.
"""

from __future__ import annotations

import logging
import secrets
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import gevent  # type: ignore[import-untyped]
from locust import events
from locust.argument_parser import LocustArgumentParser
from locust.env import Environment
from locust.runners import MasterRunner, WorkerRunner

from harness.errors import InvalidExperiment
from harness.experiment.load import load_experiment
from harness.experiment.model import Experiment
from harness.run.phases import phase_rules, phase_windows
from locustfiles import provider
from locustfiles.lanes import hand_over_records, on_idle, on_start, take_records
from locustfiles.session import SESSION
from locustfiles.sink import RecordSink

FLUSH_S = 0.25  # how often the local process writes finished records
log = logging.getLogger("rehearse")


_Handler = TypeVar("_Handler", bound=Callable[..., Any])


def _on(hook: Any) -> Callable[[_Handler], _Handler]:
    """Register a listener on one of locust's event hooks (whose methods carry no type hints)."""

    def register(handler: _Handler) -> _Handler:
        hook.add_listener(handler)
        return handler

    return register


@_on(events.init_command_line_parser)
def _options(parser: LocustArgumentParser) -> None:
    group = parser.add_argument_group("rehearse", "Rehearsal options (on the master, or the only process)")
    group.add_argument(
        "--rehearse-experiment",
        env_var="REHEARSE_EXPERIMENT",
        default="",
        help="experiment file: its request, load and phases drive the test",
    )
    group.add_argument(
        "--rehearse-records",
        env_var="REHEARSE_RECORDS",
        default="",
        help="write every request's record (TTFT, chunks, status) to this JSONL file",
    )
    group.add_argument(
        "--rehearse-provider",
        env_var="REHEARSE_PROVIDER",
        default="",
        help="fake provider URL(s), comma-separated: their scenario clocks start with the load",
    )
    group.add_argument(
        "--rehearse-control-token",
        env_var="REHEARSE_CONTROL_TOKEN",
        default="",
        help="bearer token of those providers' control API (one started with --control-token)",
    )
    group.add_argument(
        "--rehearse-phase-faults",
        env_var="REHEARSE_PHASE_FAULTS",
        action="store_true",
        default=False,
        help="also put the phases' faults on those providers (removed at the end)",
    )


def _providers(environment: Environment) -> list[str]:
    text = getattr(environment.parsed_options, "rehearse_provider", "") or ""
    return [url.strip() for url in text.split(",") if url.strip()]


def _token(environment: Environment) -> str:
    return str(getattr(environment.parsed_options, "rehearse_control_token", "") or "")


@_on(events.init)
def _init(environment: Environment, **_: Any) -> None:
    runner = environment.runner
    if isinstance(runner, WorkerRunner):
        runner.register_message("rehearse_start", on_start)
        runner.register_message("rehearse_drain", lambda environment, msg: SESSION.close())
        _on(environment.events.report_to_master)(hand_over_records)
        return
    options = environment.parsed_options
    path = getattr(options, "rehearse_experiment", "")
    if not path:
        sys.exit("locust: give the experiment with --rehearse-experiment FILE (or REHEARSE_EXPERIMENT)")
    try:
        # The runner's copy, checked before the run; its scenario file stayed where it was.
        SESSION.exp = exp = load_experiment(Path(path), check_files=False)
    except InvalidExperiment as e:
        sys.exit(f"locust: {e}")
    if not environment.host:
        if exp.target.url is None:
            sys.exit("locust: the experiment's target is `app: sample`: give its URL with --host")
        environment.host = exp.target.url
    records = getattr(options, "rehearse_records", "")
    SESSION.sink = RecordSink(Path(records) if records else None)
    if isinstance(runner, MasterRunner):
        runner.register_message("rehearse_idle", on_idle)
        _on(environment.events.worker_report)(take_records)


@_on(events.test_start)
def _test_start(environment: Environment, **_: Any) -> None:
    runner = environment.runner
    exp, sink = SESSION.exp, SESSION.sink
    if isinstance(runner, WorkerRunner) or exp is None or sink is None:
        return
    try:
        _prepare_providers(environment, exp)
    except provider.ProviderUnreachable as e:
        log.error("%s; stopping", e)
        environment.process_exit_code = 2
        SESSION.failed = True  # the shape stops the test at its next tick
        return
    t0, id_prefix = time.time(), f"rh-{secrets.token_hex(4)}-"
    SESSION.started(exp, t0, id_prefix)
    if isinstance(runner, MasterRunner):
        workers = sorted(client.id for client in runner.clients.all)
        SESSION.lanes, SESSION.lane_workers = len(workers), workers
        data = exp.model_dump(mode="json", by_alias=True, exclude_none=True)
        for lane, worker in enumerate(workers):
            start = {
                "experiment": data,
                "t0": t0,
                "id_prefix": id_prefix,
                "lane": lane,
                "lanes": len(workers),
            }
            runner.send_message("rehearse_start", start, client_id=worker)
    else:
        SESSION.lanes = 1
        SESSION.run_lane(0, 1)
        gevent.spawn(_write_records)
    sink.start(t0, id_prefix, SESSION.lanes)
    print(f"rehearse: load started at {t0:.6f}", flush=True)


def _prepare_providers(environment: Environment, exp: Experiment) -> None:
    urls, token = _providers(environment), _token(environment)
    if getattr(environment.parsed_options, "rehearse_phase_faults", False):
        for url in urls:
            for rule in phase_rules(exp, phase_windows(exp)):
                provider.add_fault(url, rule, token)
                SESSION.added_faults.append((url, rule["name"]))
    for url in urls:  # last, and together: the phase windows count from here
        provider.start_clock(url, token)


@_on(events.test_stop)
def _test_stop(environment: Environment, **_: Any) -> None:
    if isinstance(environment.runner, WorkerRunner) or SESSION.sink is None:
        return
    SESSION.close()
    SESSION.flush()
    for url, name in SESSION.added_faults:
        try:
            provider.remove_fault(url, name, _token(environment))
        except provider.ProviderUnreachable as e:
            log.error("could not remove fault %s: %s", name, e)
    SESSION.added_faults.clear()
    SESSION.sink.close()
    print(SESSION.sink.table(), flush=True)


def _write_records() -> None:
    """Local process: write finished records every FLUSH_S until nothing more will come."""
    while not SESSION.idle:
        SESSION.flush()
        gevent.sleep(FLUSH_S)
    SESSION.flush()

"""Distributed runs: the messages between the master and its workers.

The master sends each worker the experiment, time zero and its lane (`rehearse_start`). Workers
pass their finished records with their stats reports, and when the master asks them to drain
(`rehearse_drain`) - or their lane runs out - each says so once it has nothing in flight and
its last records are handed over (`rehearse_idle`). A worker that leaves before that is lost.
"""

from __future__ import annotations

from typing import Any

import gevent  # type: ignore[import-untyped]
from locust.env import Environment
from locust.rpc import Message
from locust.runners import STATE_MISSING, MasterRunner, WorkerRunner

from harness.experiment.model import Experiment
from locustfiles.session import SESSION

IDLE_POLL_S = 0.1


def on_start(environment: Environment, msg: Message) -> None:
    data = msg.data
    SESSION.started(Experiment.model_validate(data["experiment"]), data["t0"], data["id_prefix"])
    SESSION.run_lane(data["lane"], data["lanes"])
    gevent.spawn(_say_when_idle, environment.runner)


def _say_when_idle(runner: WorkerRunner) -> None:
    while not SESSION.idle:
        gevent.sleep(IDLE_POLL_S)
    runner._send_stats()  # the last records go first: messages to the master stay in order
    runner.send_message("rehearse_idle", {"lane": SESSION.lane})


def hand_over_records(client_id: str, data: dict[str, Any]) -> None:
    data["rehearse_records"], SESSION.pending = SESSION.pending, []


def take_records(client_id: str, data: dict[str, Any]) -> None:
    if SESSION.sink is not None:
        SESSION.sink.write(data.get("rehearse_records", []))


def on_idle(environment: Environment, msg: Message) -> None:
    SESSION.idle_lanes.add(int(msg.data["lane"]))


def lost_lanes(environment: Environment) -> list[str]:
    """Master: the workers that left (or stopped answering) before their lane was idle."""
    runner = environment.runner
    if not isinstance(runner, MasterRunner):
        return []
    lost = []
    for lane, worker in enumerate(SESSION.lane_workers):
        node = runner.clients.get(worker)
        if lane not in SESSION.idle_lanes and (node is None or node.state == STATE_MISSING):
            lost.append(f"{worker} (lane {lane})")
    return lost


def all_idle() -> bool:
    """Every lane has nothing more to send and nothing in flight (its records handed over)."""
    if SESSION.tickets is None:  # the master: its workers say
        return len(SESSION.idle_lanes) >= SESSION.lanes
    return SESSION.idle


def drain(environment: Environment) -> None:
    """End the load: nothing new is sent; answers in flight are still awaited."""
    if isinstance(environment.runner, MasterRunner):
        environment.runner.send_message("rehearse_drain")
    else:
        SESSION.close()

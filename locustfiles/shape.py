"""A `LoadTestShape` that follows an experiment's phases.

`load.users` users, started at `load.spawn_rate` per second (default: all at once),
run from the first phase to the end of the last (or `load.duration_s`); each phase change is
logged. Then the load drains: nothing new is sent, answers in flight are awaited for up to the
target's `timeout_s`, and the test stops, also early once `max_requests` are all answered.

Use it with `locustfiles/llm_route.py` (which includes it), or with users of your own:
`locust -f my_users.py,locustfiles/shape.py --rehearse-experiment exp.yaml`.
"""

from __future__ import annotations

import logging
import time

from locust import LoadTestShape

from locustfiles import lanes
from locustfiles.session import SESSION

DRAIN_SLACK_S = 5.0  # beyond the target's timeout, for the last records to come in
LOST_WORKER_EXIT = 3
ALL_AT_ONCE = 20.0  # the default spawn rate, per user: everyone within 50 ms
log = logging.getLogger("rehearse")


class PhaseShape(LoadTestShape):
    _phase = ""  # the phase last announced

    def tick(self) -> tuple[int, float] | None:
        exp = SESSION.exp
        if exp is None or SESSION.failed:
            return None
        users = exp.load.locust_users
        hold = (users, exp.load.spawn_rate or users * ALL_AT_ONCE)
        if SESSION.t0 is None:
            return hold  # the test (and time zero) starts with this first tick
        assert self.runner is not None
        lost = lanes.lost_lanes(self.runner.environment)
        if lost:
            # Its requests and records are gone: a run without them would mislead.
            log.error("rehearse: locust worker lost during the run: %s; stopping", ", ".join(lost))
            self.runner.environment.process_exit_code = LOST_WORKER_EXIT
            return None
        elapsed_s = time.time() - SESSION.t0
        if SESSION.drain_deadline is None:
            if elapsed_s < exp.duration_s and not lanes.all_idle():
                self._announce(elapsed_s)
                return hold
            log.info("rehearse: load over after %.1f s; draining", elapsed_s)
            SESSION.drain_deadline = time.monotonic() + exp.target.timeout_s + DRAIN_SLACK_S
            lanes.drain(self.runner.environment)
        if lanes.all_idle():
            return None
        if time.monotonic() > SESSION.drain_deadline:
            log.warning("rehearse: answers still in flight after the drain deadline; stopping")
            return None
        return hold

    def _announce(self, elapsed_s: float) -> None:
        assert SESSION.exp is not None
        start = 0.0
        for phase in SESSION.exp.phases:
            if start <= elapsed_s < start + phase.duration_s and phase.name != self._phase:
                self._phase = phase.name
                log.info("rehearse: phase %s (%g-%g s)", phase.name, start, start + phase.duration_s)
            start += phase.duration_s

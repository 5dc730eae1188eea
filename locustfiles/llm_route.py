"""Locust users for an LLM-backed route, driven by a rehearsal experiment file.

    locust -f locustfiles/llm_route.py --host http://127.0.0.1:8080 \\
        --rehearse-experiment experiments/sustained-chat-load-locust.yaml [--headless]

Each user sends the experiment's templated request (`target.request`, with `X-Request-Id`),
at the experiment's arrivals (open loop) or back to back (closed loop), and reads a streamed
answer chunk by chunk: TTFT, E2E and ITL are measured from the scheduled send time to the
first content chunk and the last chunk, as `rehearse run` measures them. Locust counts each
request once (its own timing ends at the headers of a stream); the LLM timings are kept apart,
printed per phase when the test stops and, with --rehearse-records FILE, written per request.
The shape (`PhaseShape`) follows the experiment's phases and stops the test when they are over.
See docs/locust.md for distributed runs.
"""

from __future__ import annotations

import gevent  # type: ignore[import-untyped]
from locust import FastHttpUser, constant, task
from locust.env import Environment

import locustfiles.listeners  # noqa: F401  (registers the rehearsal's options and listeners)
from harness.lifeline import watch_parent
from locustfiles.reading import send
from locustfiles.session import SESSION
from locustfiles.shape import PhaseShape

__all__ = ["LLMRouteUser", "PhaseShape"]
# Started by `rehearse run`: stop (master and forked workers) should the runner die. Before
# locust forks its workers, so only the master watches.
watch_parent()
IDLE_S = 0.1  # how long a user with nothing to send waits before asking again


class LLMRouteUser(FastHttpUser):
    """One simulated client of the route: one request in flight at a time."""

    wait_time = constant(0)  # pacing comes from the experiment's arrivals, not from locust

    def __init__(self, environment: Environment) -> None:
        if SESSION.exp is not None:
            # Per socket operation; the whole request is bounded by the same timeout in `send`.
            self.network_timeout = self.connection_timeout = SESSION.exp.target.timeout_s
        super().__init__(environment)

    @task
    def send_request(self) -> None:
        exp = SESSION.exp
        taken = SESSION.take() if exp is not None else None
        if exp is None or taken is None:
            gevent.sleep(IDLE_S)
            return
        request, record = taken
        try:
            send(
                self.client,
                request,
                record,
                SESSION.now_s,
                name=exp.target.request.path,
                stream=exp.target.stream == "sse",
                timeout_s=exp.target.timeout_s,
            )
        finally:
            SESSION.finish(record)

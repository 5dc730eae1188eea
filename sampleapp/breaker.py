"""Circuit breakers, one per provider model, shared by every request of the app.

A per-request retry cap bounds what one request costs, but in an outage the whole fleet of
requests still tries the failing model, each with its own retries: the calls a down model sees
grow with the request rate. A breaker is the shared memory that stops that:

- closed: calls go through; it opens after `failure_threshold` consecutive failures, or when
  at least `min_calls` calls ended in the last `window_s` seconds and `failure_rate` of them
  failed;
- open: no call goes to the model (the policy moves straight to the next model, or answers
  503) until `cooldown_s` has passed;
- half-open: one call at a time is let through as a probe; a success closes the breaker, a
  failure opens it for another `cooldown_s`.

What counts as a failure is the model's, not the caller's: 5xx, timeouts, connection errors,
streams that break before their first chunk, and 429s. A 429 is the model refusing this app's
calls: one is answered by waiting its retry-after, but a run of them is a quota exhausted for
the whole fleet, and every request finding that out by itself keeps the quota exhausted. A 4xx
the request caused is not a failure.
"""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Callable
from enum import StrEnum

from sampleapp.config import BreakerConfig


class State(StrEnum):
    CLOSED = "closed"
    OPEN = "open"
    HALF_OPEN = "half_open"


class CircuitBreaker:
    """One model's breaker. `allow()` before a call; then exactly one of `succeeded()`,
    `failed()` or `released()` (a call that ended neither way, e.g. a cancelled one)."""

    def __init__(self, config: BreakerConfig, clock: Callable[[], float] = time.monotonic) -> None:
        self.config = config
        self._clock = clock
        self._state = State.CLOSED
        self._opened_at = 0.0
        self._consecutive = 0
        self._probing = False
        self._outcomes: deque[tuple[float, bool]] = deque()  # (ended at, failed) within window_s
        self._failures = 0  # of those outcomes

    @property
    def state(self) -> State:
        """The state now (an open breaker whose cool-down is over reads as half-open)."""
        if self._state is State.OPEN and self._clock() - self._opened_at >= self.config.cooldown_s:
            self._state = State.HALF_OPEN
            self._probing = False
        return self._state

    def allow(self) -> bool:
        """Whether a call may go to the model now; a half-open breaker lets one probe through."""
        state = self.state
        if state is State.CLOSED:
            return True
        if state is State.HALF_OPEN and not self._probing:
            self._probing = True
            return True
        return False

    def succeeded(self) -> None:
        self._consecutive = 0
        self._probing = False
        if self._state is not State.CLOSED:
            self._state = State.CLOSED
            self._forget()  # a fresh start: the failures before the outage ended are history
        self._record(failed=False)

    def failed(self) -> None:
        self._probing = False
        if self._state is not State.CLOSED:
            self._open()
            return
        self._consecutive += 1
        self._record(failed=True)
        if self._consecutive >= self.config.failure_threshold or self._rate_tripped():
            self._open()

    def released(self) -> None:
        """A call that said nothing about the model's health: a probe slot is given back."""
        self._probing = False

    def _open(self) -> None:
        self._state = State.OPEN
        self._opened_at = self._clock()
        self._consecutive = 0
        self._forget()

    def _forget(self) -> None:
        self._outcomes.clear()
        self._failures = 0

    def _record(self, *, failed: bool) -> None:
        now = self._clock()
        self._outcomes.append((now, failed))
        self._failures += failed
        horizon = now - self.config.window_s
        while self._outcomes and self._outcomes[0][0] < horizon:
            self._failures -= self._outcomes.popleft()[1]

    def _rate_tripped(self) -> bool:
        calls = len(self._outcomes)
        return calls >= self.config.min_calls and self._failures / calls >= self.config.failure_rate


class Breakers:
    """The app's breakers, one per model, made on first use."""

    def __init__(self, config: BreakerConfig, clock: Callable[[], float] = time.monotonic) -> None:
        self.config = config
        self._clock = clock
        self._by_model: dict[str, CircuitBreaker] = {}

    def __getitem__(self, model: str) -> CircuitBreaker:
        breaker = self._by_model.get(model)
        if breaker is None:
            breaker = self._by_model[model] = CircuitBreaker(self.config, self._clock)
        return breaker

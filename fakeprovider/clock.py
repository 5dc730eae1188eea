"""The scenario clock (fault windows and quotas read it) and a virtual clock for tests.

`ScenarioClock.now()` is seconds since the clock was (re)started; it starts with the server,
restarts on `/control/reset` and on `POST /control/clock/start`. A `VirtualTime` replaces both
the time source and sleeping, so windows, quotas and pacing are tested without waiting.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable


class ScenarioClock:
    def __init__(self, source: Callable[[], float] = time.monotonic) -> None:
        self._source = source
        self._t0 = source()
        # The underlying time source (for sliding windows that outlive a restart, and call
        # timings): the source itself, so reading it on the request path is one C call.
        self.monotonic = source

    def start(self) -> None:
        """Restart at zero."""
        self._t0 = self._source()

    def now(self) -> float:
        """Seconds on the scenario clock."""
        return self._source() - self._t0


class VirtualTime:
    """Time that moves only when told: `advance(s)`, or a `sleep` that advances instead of waiting."""

    def __init__(self, start: float = 1_000.0) -> None:
        self.t = start
        self.slept: list[float] = []

    def __call__(self) -> float:
        return self.t

    def advance(self, seconds: float) -> None:
        self.t += seconds

    async def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.t += max(0.0, seconds)
        await asyncio.sleep(0)

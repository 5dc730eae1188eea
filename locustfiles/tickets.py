"""Which requests one locust process sends, and when: its tickets.

Open loop and trace: the arrivals are the asyncio engine's (`harness.load.open_loop.schedule`),
so the same seed (or trace) gives the same requests due at the same times whichever engine
sends them. A user
takes the next ticket, waits for its due time and sends it; when every user is busy the ticket
waits and goes out late, and its latency still counts from the due time (no coordinated
omission). Closed loop: a ticket is taken when a user is free and is due at once.

With several processes ("lanes") each takes every `lanes`-th request, so together they send
each request once and never more than `max_requests`. Nothing here touches gevent or sockets.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from dataclasses import dataclass

from harness.experiment.model import Load
from harness.load.open_loop import schedule
from harness.load.trace import Trace


@dataclass(frozen=True, slots=True)
class Ticket:
    seq: int  # the request's number in the whole run (templates and X-Request-Id use it)
    due_s: float | None  # seconds from load start; None: closed loop, due when taken


class Tickets:
    """One lane's tickets; `take` hands them out, `close` stops and returns those never taken."""

    def __init__(
        self,
        load: Load,
        duration_s: float,
        seed: int,
        lane: int = 0,
        lanes: int = 1,
        trace: Trace | None = None,
    ) -> None:
        if not 0 <= lane < lanes:
            raise ValueError(f"lane {lane} is not one of {lanes} lanes")
        self._load = load
        self._duration_s = duration_s
        self._lanes = lanes
        self._open: Iterator[tuple[int, float]] | None = None
        if load.mode != "closed":
            due = schedule(load, duration_s, seed, trace)
            self._open = itertools.islice(enumerate(due), lane, None, lanes)
        self._next_seq = lane
        self.taken = 0
        self.exhausted = False  # nothing more will be handed out

    def take(self, now_s: float) -> Ticket | None:
        """The next ticket, or None once there are no more (then never again)."""
        if self.exhausted:
            return None
        if self._open is not None:
            found = next(self._open, None)
            if found is None:
                self.exhausted = True
                return None
            self.taken += 1
            return Ticket(found[0], found[1])
        if now_s >= self._duration_s or self._next_seq >= self._load.max_requests:
            self.exhausted = True
            return None
        seq, self._next_seq = self._next_seq, self._next_seq + self._lanes
        self.taken += 1
        return Ticket(seq, None)

    def close(self) -> list[Ticket]:
        """Hand out nothing more; the open-loop tickets that were due but never taken."""
        self.exhausted = True
        if self._open is None:
            return []
        left = [Ticket(seq, due) for seq, due in self._open]
        self._open = iter(())
        return left

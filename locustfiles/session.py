"""One locust process's share of a rehearsal: the experiment, the load's time zero, the tickets
this process may send, the requests in flight and the records of those finished.

Times are seconds from time zero, the wall-clock moment the master (or the single local
process) started the load and the providers' scenario clocks; every process measures from it,
on its own monotonic clock, so records from several processes share one time line.
"""

from __future__ import annotations

import time
from dataclasses import asdict
from typing import Any

import gevent  # type: ignore[import-untyped]

from harness.experiment.model import Experiment
from harness.experiment.templates import PreparedRequest, RequestFactory
from harness.load.locust import NOT_SENT
from harness.load.records import PhaseLabels
from harness.load.trace import trace_of
from harness.record import RequestRecord
from harness.run.phases import phase_windows
from locustfiles.sink import RecordSink
from locustfiles.tickets import Tickets


class Session:
    def __init__(self) -> None:
        self.exp: Experiment | None = None
        self.t0: float | None = None  # wall clock of time zero, once the load started
        self.id_prefix = ""
        self.lane = 0
        self.failed = False  # the load could not start (e.g. a provider did not answer)
        self.sink: RecordSink | None = None  # the master's or the local process's
        self.added_faults: list[tuple[str, str]] = []  # (provider URL, rule name) to remove
        self.tickets: Tickets | None = None  # processes that run users
        self.inflight = 0  # tickets taken and not finished
        self.pending: list[dict[str, Any]] = []  # finished records not yet handed on
        self.lanes = 0  # master: how many lanes, each worker's, and which went idle
        self.lane_workers: list[str] = []
        self.idle_lanes: set[int] = set()
        self.drain_deadline: float | None = None  # monotonic; set when the load ends
        self._factory: RequestFactory | None = None
        self._labels = PhaseLabels([])
        self._pc0 = 0.0

    # ---- starting -------------------------------------------------------------------------

    def started(self, exp: Experiment, t0: float, id_prefix: str) -> None:
        """The load started at wall clock `t0` (every process)."""
        self.exp, self.t0, self.id_prefix = exp, t0, id_prefix
        self._pc0 = time.perf_counter() - (time.time() - t0)
        self.idle_lanes = set()
        self.drain_deadline = None

    def run_lane(self, lane: int, lanes: int) -> None:
        """This process sends lane `lane` of `lanes` (after `started`)."""
        assert self.exp is not None
        self.lane = lane
        self._labels = PhaseLabels(phase_windows(self.exp))
        # Every process reads a trace itself (its `file` is absolute in the runner's copy): the
        # arrivals are not sent over locust's messages.
        trace = trace_of(self.exp.load)
        self._factory = RequestFactory(self.exp.target.request, self.exp.seed, trace=trace)
        self.tickets = Tickets(self.exp.load, self.exp.duration_s, self.exp.seed, lane, lanes, trace)
        self.inflight = 0

    def now_s(self) -> float:
        """Seconds since time zero."""
        return time.perf_counter() - self._pc0

    # ---- users ----------------------------------------------------------------------------

    def take(self) -> tuple[PreparedRequest, RequestRecord] | None:
        """The next request and its record, once it is due; None if there is none to send."""
        if self.tickets is None or self._factory is None:
            return None
        ticket = self.tickets.take(self.now_s())
        if ticket is None:
            return None
        self.inflight += 1
        try:
            # Rendered before the wait: Faker's time must not fall between due time and send.
            request = self._factory.make(ticket.seq)
            request.headers["X-Request-Id"] = self.id_prefix + str(ticket.seq)
            scheduled_s = ticket.due_s
            if scheduled_s is None:
                scheduled_s = self.now_s()
            else:
                wait = scheduled_s - self.now_s()
                if wait > 0:
                    gevent.sleep(wait)
        except BaseException:
            self.inflight -= 1
            raise
        record = RequestRecord(
            request.headers["X-Request-Id"], ticket.seq, self._labels(scheduled_s), scheduled_s, self.now_s()
        )
        return request, record

    def finish(self, record: RequestRecord) -> None:
        """A taken request is over (answered, failed, or its user was stopped)."""
        self.inflight -= 1
        if record.end_s is None:  # the user was stopped mid-request
            record.error = record.error or "cancelled"
            record.end_s = self.now_s()
        self.pending.append(asdict(record))

    # ---- ending ---------------------------------------------------------------------------

    def close(self) -> None:
        """Send nothing more. Open-loop requests already due and never taken are recorded as
        not sent: the open loop promised them, and a run that silently dropped them would
        look better than it was."""
        if self.tickets is None:
            return
        now = self.now_s()
        for ticket in self.tickets.close():
            if ticket.due_s is not None and ticket.due_s <= now:
                rid = self.id_prefix + str(ticket.seq)
                record = RequestRecord(rid, ticket.seq, self._labels(ticket.due_s), ticket.due_s, now)
                record.error, record.end_s = NOT_SENT, now
                self.pending.append(asdict(record))

    @property
    def idle(self) -> bool:
        """This process will send nothing more and has nothing in flight."""
        return self.tickets is None or (self.tickets.exhausted and self.inflight == 0)

    def flush(self) -> None:
        """Hand finished records to the sink (processes that have one)."""
        if self.sink is not None and self.pending:
            records, self.pending = self.pending, []
            self.sink.write(records)


SESSION = Session()

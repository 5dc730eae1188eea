"""Run lifecycle events fanned out to handlers (progress display, reports). Every method is a
no-op by default, so a handler overrides only what it uses; the runner imports no handler."""

from __future__ import annotations

from collections.abc import Sequence

from harness.contract.base import ClauseResult
from harness.record import PhaseWindow, RequestRecord, Run


class RunHandler:
    def run_started(self, title: str, source: str, duration_s: float, max_requests: int) -> None:
        """The load is about to start."""

    def phase_started(self, phase: PhaseWindow) -> None:
        """A phase began (its faults are in force)."""

    def request_done(self, record: RequestRecord) -> None:
        """One request finished (answered, failed or timed out)."""

    def run_finished(self, run: Run, results: Sequence[ClauseResult]) -> None:
        """The run is over and its contract evaluated (results empty if it could not run)."""


class Handlers(RunHandler):
    """Several handlers as one."""

    def __init__(self, handlers: Sequence[RunHandler] = ()) -> None:
        self.handlers = list(handlers)

    def run_started(self, title: str, source: str, duration_s: float, max_requests: int) -> None:
        for h in self.handlers:
            h.run_started(title, source, duration_s, max_requests)

    def phase_started(self, phase: PhaseWindow) -> None:
        for h in self.handlers:
            h.phase_started(phase)

    def request_done(self, record: RequestRecord) -> None:
        for h in self.handlers:
            h.request_done(record)

    def run_finished(self, run: Run, results: Sequence[ClauseResult]) -> None:
        for h in self.handlers:
            h.run_finished(run, results)

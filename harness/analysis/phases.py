"""Which phase a request or a provider call belongs to. Requests carry their phase; ledger
records carry only wall-clock times, so they are placed by the run's phase windows."""

from __future__ import annotations

from harness.run.model import RequestRecord, Run


def by_phase(run: Run) -> dict[str, list[RequestRecord]]:
    """Requests grouped by phase, phases in run order (also those without requests)."""
    groups: dict[str, list[RequestRecord]] = {p.name: [] for p in run.phases}
    for r in run.requests:
        groups.setdefault(r.phase, []).append(r)
    return groups


def unknown_phase(run: Run, phase: str | None) -> str | None:
    """Why `phase` cannot be evaluated on this run, or None when it can."""
    if phase is None or run.phase(phase) is not None:
        return None
    names = [p.name for p in run.phases]
    return f"no phase named {phase!r} in this run (phases: {', '.join(names) or 'none'})"


def phase_at(run: Run, wall_s: float) -> str | None:
    """The phase running at wall-clock time `wall_s` (ledger timestamps are wall clock)."""
    origin = run.load_started_at if run.load_started_at is not None else run.started_at
    t = wall_s - origin
    for p in run.phases:
        if p.start_s <= t < p.end_s:
            return p.name
    return None

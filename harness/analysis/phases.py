"""Which phase a request or a provider call belongs to. Requests carry their phase; ledger
records carry only wall-clock times, so they are placed by the run's phase windows."""

from __future__ import annotations

from harness.record import RequestRecord, Run


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


def load_origin(run: Run) -> float:
    """The wall-clock time of t=0 of the phase windows (ledger timestamps are wall clock)."""
    return run.load_started_at if run.load_started_at is not None else run.started_at


def phase_window_s(run: Run, phase: str) -> tuple[float, float] | None:
    """A phase's window [start, end) in wall-clock seconds, or None for an unknown phase."""
    window = run.phase(phase)
    if window is None:
        return None
    origin = load_origin(run)
    return origin + window.start_s, origin + window.end_s


def phase_at(run: Run, wall_s: float) -> str | None:
    """The phase running at wall-clock time `wall_s` (ledger timestamps are wall clock)."""
    t = wall_s - load_origin(run)
    for p in run.phases:
        if p.start_s <= t < p.end_s:
            return p.name
    return None

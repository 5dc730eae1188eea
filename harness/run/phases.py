"""An experiment's timeline: durations scaled, phases laid end to end on the provider's scenario
clock, each phase's faults as provider rules whose window is that phase.

Apart from the runner because this is planning, not running (no process, no socket): the locust
side (`locustfiles/`) and `rehearse ledger merge --experiment` lay out the same phases without a
run. `announce_phases` only tells the progress handler when each planned phase begins.
"""

from __future__ import annotations

import asyncio
from typing import Any

from harness.events import RunHandler
from harness.experiment.model import Experiment
from harness.record import PhaseWindow


def scaled(exp: Experiment, scale: float) -> Experiment:
    """The experiment with every duration multiplied by `scale` (and a trace replayed
    1/`scale` times as fast, so that its arrivals keep their places in the phases)."""
    if scale == 1.0:
        return exp
    data = exp.model_dump(by_alias=True)
    if data["load"].get("duration_s") is not None:
        data["load"]["duration_s"] *= scale
    if data["load"]["mode"] == "trace":
        data["load"]["speed"] /= scale
    for phase in data["phases"]:
        phase["duration_s"] *= scale
    return Experiment.model_validate(data)


def phase_windows(exp: Experiment) -> list[PhaseWindow]:
    if not exp.phases:
        return [PhaseWindow("run", 0.0, exp.duration_s)]
    out: list[PhaseWindow] = []
    t = 0.0
    for p in exp.phases:
        out.append(PhaseWindow(p.name, t, t + p.duration_s))
        t += p.duration_s
    return out


def cut_short(windows: list[PhaseWindow], elapsed_s: float) -> list[PhaseWindow]:
    """The phases of a load stopped after `elapsed_s`: those begun, the last one ended there."""
    return [
        PhaseWindow(w.name, w.start_s, min(w.end_s, max(elapsed_s, w.start_s)))
        for w in windows
        if w.start_s < elapsed_s
    ] or windows[:1]


def phase_rules(exp: Experiment, windows: list[PhaseWindow]) -> list[dict[str, Any]]:
    """Each phase's faults as provider rules whose window is the phase (scenario clock)."""
    rules: list[dict[str, Any]] = []
    for phase, window in zip(exp.phases, windows, strict=False):
        for i, fault in enumerate(phase.faults):
            rule = fault.model_dump(mode="json", exclude_none=True)
            rule["name"] = f"{phase.name}/{fault.name or fault.fault.kind + '-' + str(i + 1)}"
            rule["window"] = {"start_s": window.start_s, "duration_s": window.end_s - window.start_s}
            rules.append(rule)
    return rules


async def announce_phases(windows: list[PhaseWindow], handler: RunHandler) -> None:
    """Tell `handler` as each phase begins, counted from the call (the load's start)."""
    start = asyncio.get_running_loop().time()
    for w in windows:
        delay = start + w.start_s - asyncio.get_running_loop().time()
        if delay > 0:
            await asyncio.sleep(delay)
        handler.phase_started(w)

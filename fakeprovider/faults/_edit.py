"""Plan edits shared by the kinds that rewrite content: new events keep the plan's pacing."""

from __future__ import annotations

from dataclasses import replace

from fakeprovider.generation import tokens
from fakeprovider.generation.plan import Event, Plan, TextDelta, ToolArgsDelta, ToolCallStart


def relayout(plan: Plan, events: list[Event]) -> Plan:
    """`plan` with `events`: the first keeps the first delay, the rest the mean of the others."""
    old = plan.delays
    first = old[0] if old else 0.0
    rest = sum(old[1:]) / (len(old) - 1) if len(old) > 1 else 0.0
    delays = [first] + [rest] * (len(events) - 1) if events else []
    return replace(plan, events=events, delays=delays)


def with_text(plan: Plan, text: str, encoding_name: str) -> Plan:
    """Replace the plan's text with `text` (tool calls untouched)."""
    kept: list[Event] = [e for e in plan.events if not isinstance(e, TextDelta)]
    pieces: list[Event] = [TextDelta(t, n) for t, n in tokens.pieces(text, encoding_name)]
    return relayout(plan, pieces + kept)


def with_tool_args(plan: Plan, index: int, args: str, encoding_name: str) -> Plan:
    """Replace the arguments of tool call `index` with the raw text `args`."""
    events: list[Event] = []
    for e in plan.events:
        if isinstance(e, ToolArgsDelta) and e.index == index:
            continue
        events.append(e)
        if isinstance(e, ToolCallStart) and e.index == index:
            events.extend(ToolArgsDelta(index, t, n) for t, n in tokens.pieces(args, encoding_name))
    return relayout(plan, events)


def cut_after_tokens(plan: Plan, n_tokens: int) -> Plan:
    """Keep the events whose tokens fit in `n_tokens` (tool-call starts are free)."""
    total = 0
    for i, e in enumerate(plan.events):
        if isinstance(e, ToolCallStart):
            continue
        if total + e.tokens > n_tokens:
            return replace(plan, events=plan.events[:i], delays=plan.delays[:i])
        total += e.tokens
    return plan

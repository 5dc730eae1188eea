"""Small helpers the clause modules share: titles, 'cannot evaluate' results, formatting."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from harness.contract.base import MAX_OFFENDERS, ClauseResult


def title(name: str, phase: str | None = None) -> str:
    return name if phase is None else f"{name} (phase {phase})"


def cannot_evaluate(
    name: str, title_: str, expected: str, why: str, details: dict[str, Any] | None = None
) -> ClauseResult:
    """Verdict `error`: the run holds nothing this clause could judge."""
    return ClauseResult(name, title_, expected, why, "error", [], details or {})


def first_ids(ids: Iterable[str]) -> list[str]:
    """Up to MAX_OFFENDERS distinct ids, in order."""
    out: list[str] = []
    for i in ids:
        if i not in out:
            out.append(i)
            if len(out) == MAX_OFFENDERS:
                break
    return out


def ms(seconds: float | None) -> float | None:
    return None if seconds is None else round(seconds * 1000, 3)


def share(part: int, whole: int) -> float:
    return part / whole if whole else 0.0


def counts(values: Iterable[int]) -> dict[str, int]:
    """A distribution {value: how many}, keys as strings (JSON) in numeric order."""
    tally: dict[int, int] = {}
    for v in values:
        tally[v] = tally.get(v, 0) + 1
    return {str(k): tally[k] for k in sorted(tally)}


MISSING: Any = object()


def dig(body: Any, path: str) -> Any:
    """The value at a dotted path (`a.b.0.c`, list items by index), or MISSING."""
    node = body
    for key in path.split("."):
        if isinstance(node, dict) and key in node:
            node = node[key]
        elif isinstance(node, list) and key.lstrip("-").isdigit() and -len(node) <= int(key) < len(node):
            node = node[int(key)]
        else:
            return MISSING
    return node

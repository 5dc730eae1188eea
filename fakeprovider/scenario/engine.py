"""The fault engine: the one place that matches rules, checks windows and attempts, rolls the
seeded dice and counts hits. Fault kinds only act on what the engine picked."""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from dataclasses import dataclass, field

from fakeprovider.clock import ScenarioClock
from fakeprovider.faults import FaultKind, build
from fakeprovider.faults.base import FaultContext
from fakeprovider.generation.request import Tags
from fakeprovider.scenario.rules import FaultRule


class RuleError(ValueError):
    """A rule that cannot be added (a duplicate name)."""


@dataclass(slots=True)
class ActiveRule:
    name: str
    rule: FaultRule
    fault: FaultKind
    added: bool = False  # added through the control API, dropped on reset
    hits: int = 0
    _start: float = field(default=0.0)
    _end: float = field(default=float("inf"))

    def __post_init__(self) -> None:
        w = self.rule.window
        if w is not None:
            self._start = w.start_s
            self._end = w.start_s + w.duration_s if w.duration_s is not None else float("inf")

    def describe(self) -> dict[str, object]:
        out = self.rule.model_dump(mode="json", exclude_none=True)
        out["name"] = self.name
        out["hits"] = self.hits
        out["added"] = self.added
        return out


def roll(seed: int, rule: str, request_key: str, attempt: int) -> float:
    """A number in [0, 1) fixed by seed, rule, request and attempt (the same on every replica)."""
    digest = hashlib.blake2b(f"{seed}|{rule}|{request_key}|{attempt}".encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big") / 2**64


_MatchKey = tuple[str, str, str | None, str | None, str | None, bool]
_MAX_MATCH_KEYS = 4096


class Engine:
    """The rules in force. Change them through `add`, `remove`, `clear` and `reset`: which rules
    match a kind of call (api, model, tags, stream) is worked out once per kind and kept."""

    def __init__(self, rules: Iterable[FaultRule], seed: int, clock: ScenarioClock) -> None:
        self.seed = seed
        self.clock = clock
        self.rules: list[ActiveRule] = []
        self._matching: dict[_MatchKey, tuple[ActiveRule, ...]] = {}
        for rule in rules:
            self.add(rule, added=False)
        self._scenario_rules = list(self.rules)

    def __bool__(self) -> bool:
        return bool(self.rules)

    def add(self, rule: FaultRule, added: bool = True) -> ActiveRule:
        taken = {r.name for r in self.rules}
        name = rule.name
        if name is None:
            # Named by position, stepping past names already in use (after a removal, or a
            # user's own `http_error-2`), so an unnamed rule is never refused.
            n = len(self.rules) + 1
            while f"{rule.fault.kind}-{n}" in taken:
                n += 1
            name = f"{rule.fault.kind}-{n}"
        elif name in taken:
            raise RuleError(f"a fault rule named {name!r} already exists")
        active = ActiveRule(name, rule, build(rule.fault), added=added)
        self.rules.append(active)
        self._matching.clear()
        return active

    def remove(self, name: str) -> bool:
        before = len(self.rules)
        self.rules = [r for r in self.rules if r.name != name]
        self._matching.clear()
        return len(self.rules) < before

    def clear(self) -> None:
        self.rules = []
        self._matching.clear()

    def reset(self) -> None:
        """Back to the scenario's own rules (added ones dropped, removed ones restored), hits zeroed."""
        self.rules = list(self._scenario_rules)
        self._matching.clear()
        for r in self.rules:
            r.hits = 0

    def _matching_rules(self, key: _MatchKey, tags: Tags) -> tuple[ActiveRule, ...]:
        """The rules whose `match` takes calls of this kind, in order (kept for the next call)."""
        api, model, _, _, _, stream = key
        found = tuple(r for r in self.rules if r.rule.match.matches(api, model, tags, stream))
        if len(self._matching) >= _MAX_MATCH_KEYS:
            self._matching.clear()  # many tenants or routes: start over rather than grow
        self._matching[key] = found
        return found

    def decide(
        self, ctx: FaultContext, tags: Tags, stream: bool, attempt: int, request_key: str
    ) -> ActiveRule | None:
        """The first rule that matches this call and fires, its hit counted; else None."""
        key = (ctx.api, ctx.model, tags.route, tags.feature, tags.tenant, stream)
        matching = self._matching.get(key)
        if matching is None:
            matching = self._matching_rules(key, tags)
        now: float | None = None
        for r in matching:
            rule = r.rule
            if rule.first_attempts is not None and attempt > rule.first_attempts:
                continue
            if rule.max_hits is not None and r.hits >= rule.max_hits:
                continue
            if rule.window is not None:
                if now is None:
                    now = self.clock.now()
                if not r._start <= now < r._end:
                    continue
            if not r.fault.applies(ctx):
                continue
            p = rule.probability
            # A roll is in [0, 1): at probability 0 nothing fires, and no roll is needed to know it.
            if p < 1.0 and (p <= 0.0 or roll(self.seed, r.name, request_key, attempt) >= p):
                continue
            r.hits += 1
            return r
        return None

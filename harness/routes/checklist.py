"""The readiness checklist: one function per item, registered by name, each judging one route.

An item is `present` when every part of it is declared and consistent, `missing` when a part is
not declared, `inconsistent` when the parts contradict each other or the provider catalogue
(a per-call timeout not shorter than the p99 budget, a fallback pricier than the primary,
retries without idempotency...). Every finding names the field to fix.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Literal, TypeGuard, TypeVar

from fakeprovider.catalogue.families import Catalogue
from fakeprovider.catalogue.info import ModelInfo
from harness.routes.cost import WorstCase
from harness.routes.spec import Route, RoutesFile

Status = Literal["present", "missing", "inconsistent"]
T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class Context:
    """What an item may read: the route, the whole file, the computed worst case."""

    name: str
    route: Route
    spec: RoutesFile
    catalogue: Catalogue
    worst: WorstCase | None
    worst_error: str | None  # why the worst case could not be computed

    def model(self, model_id: str | None) -> ModelInfo | None:
        return None if model_id is None else self.catalogue.resolve(model_id)


@dataclass(slots=True)
class Findings:
    """What one item found: parts not declared, and contradictions."""

    missing: list[str] = field(default_factory=list)
    inconsistent: list[str] = field(default_factory=list)

    def need(self, value: T | None, label: str) -> TypeGuard[T]:
        """Record `label` as missing when `value` is None; True when it is there."""
        if value is None:
            self.missing.append(label)
            return False
        return True

    def need_fields(self, section: str, parts: object, *names: str) -> None:
        """Record each of `names` that `parts` leaves out as `section.name`."""
        for name in names:
            self.need(getattr(parts, name), f"{section}.{name}")

    def contradiction(self, when: bool, message: str) -> None:
        if when:
            self.inconsistent.append(message)


@dataclass(frozen=True, slots=True)
class ItemResult:
    item: str
    status: Status
    findings: list[str]  # missing parts first, then contradictions; empty when present


Check = Callable[[Context, Findings], None]
CHECKLIST: dict[str, Check] = {}


def item(name: str) -> Callable[[Check], Check]:
    def register(check: Check) -> Check:
        if name in CHECKLIST:
            raise ValueError(f"checklist item {name!r} registered twice")
        CHECKLIST[name] = check
        return check

    return register


def judge(name: str, ctx: Context) -> ItemResult:
    found = Findings()
    CHECKLIST[name](ctx, found)
    status: Status = "missing" if found.missing else "inconsistent" if found.inconsistent else "present"
    notes = [f"missing {m}" for m in found.missing] + found.inconsistent
    return ItemResult(name, status, notes)

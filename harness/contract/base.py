"""The contract clause interface and registry.

A clause is a module in this package with one `Clause` subclass decorated by `@register`: a
typed `Params` model and `evaluate(run) -> ClauseResult`. Clauses read the `Run` only: they
never talk to a socket.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any, ClassVar, Literal

from pydantic import BaseModel, ConfigDict

from harness.record import Run

Verdict = Literal["pass", "fail", "error"]
MAX_OFFENDERS = 5


class ClauseParams(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


@dataclass(slots=True)
class ClauseResult:
    clause: str  # the clause's name, e.g. "retries"
    title: str  # one line saying what was checked, e.g. "retries (phase outage)"
    expected: str
    observed: str
    verdict: Verdict
    offenders: list[str] = field(default_factory=list)  # ids of up to 5 offending requests
    details: dict[str, Any] = field(default_factory=dict)  # figures for reports

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


class Clause:
    name: ClassVar[str]
    Params: ClassVar[type[ClauseParams]]

    def __init__(self, params: ClauseParams) -> None:
        self.params = params

    def evaluate(self, run: Run) -> ClauseResult:
        raise NotImplementedError


REGISTRY: dict[str, type[Clause]] = {}


def register(cls: type[Clause]) -> type[Clause]:
    if cls.name in REGISTRY:
        raise ValueError(f"contract clause {cls.name!r} registered twice")
    REGISTRY[cls.name] = cls
    return cls

"""`attribution`: every provider call in the ledger carries each required tag, non-empty.

Tags are what the provider read from the call (`X-Route`/`X-Feature`/`X-Tenant` headers or the
body's metadata). Offenders are the request ids of the calls missing a tag: the route request's
X-Request-Id when forwarded, else the provider's own id for the call. With `phase`, calls
joined to a request count in that request's phase, others by their start time.
"""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from harness.analysis import join, phase_at, unknown_phase
from harness.contract._common import cannot_evaluate, first_ids, title
from harness.contract.base import Clause, ClauseParams, ClauseResult, register
from harness.record import Run

Tag = Literal["route", "feature", "tenant"]
ALL_TAGS: tuple[Tag, ...] = ("route", "feature", "tenant")


class AttributionParams(ClauseParams):
    required_tags: list[Tag] = Field(
        default_factory=lambda: list(ALL_TAGS),
        min_length=1,
        description="tags every call needs",
    )
    phase: str | None = Field(default=None, description="only calls of this phase (default: all)")


@register
class Attribution(Clause):
    name = "attribution"
    Params = AttributionParams

    def evaluate(self, run: Run) -> ClauseResult:
        p = self.params
        assert isinstance(p, AttributionParams)
        name, head = self.name, title(self.name, p.phase)
        required = list(dict.fromkeys(p.required_tags))
        expected = f"every provider call tagged {', '.join(required)}"
        if why := unknown_phase(run, p.phase):
            return cannot_evaluate(name, head, expected, why)
        if not run.ledger:
            return cannot_evaluate(name, head, expected, "the provider recorded no call")
        joined = join(run)
        calls = joined.unjoined + [c for cs in joined.by_request.values() for c in cs]
        if p.phase is not None:
            phase_of = {r.id: r.phase for r in run.requests}
            calls = [
                c
                for c in calls
                if (phase_of[c.request_id] if c.request_id in phase_of else phase_at(run, c.ts_start))
                == p.phase
            ]
        if not calls:
            return cannot_evaluate(name, head, expected, "no provider call in this phase")
        calls.sort(key=lambda c: (c.ts_start, c.seq))
        missing = dict.fromkeys(required, 0)
        untagged: list[str] = []
        for c in calls:
            lacks = [tag for tag in required if not c.tags.get(tag)]
            for tag in lacks:
                missing[tag] += 1
            if lacks:
                untagged.append(c.request_id)
        details = {
            "calls": len(calls),
            "untagged_calls": len(untagged),
            "missing": missing,
            "coverage": joined.coverage.as_dict(),
        }
        if not untagged:
            return ClauseResult(name, head, expected, f"all {len(calls)} calls tagged", "pass", [], details)
        gaps = ", ".join(f"{tag} x{n}" for tag, n in missing.items() if n)
        observed = f"{len(untagged)} of {len(calls)} calls missing a tag ({gaps})"
        return ClauseResult(name, head, expected, observed, "fail", first_ids(untagged), details)

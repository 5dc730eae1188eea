"""`budget`: input tokens, output tokens and cost per route request stay within their caps.

Per route request, from the ledger, every attempt summed: retries and fallback calls spend too.
Calls not joined to a request (X-Request-Id not forwarded) are summed per fingerprint group,
i.e. per provider request and its retries. Requests that made no provider call spent nothing
and are not counted. Input tokens are as the provider billed them (cached tokens included).
"""

from __future__ import annotations

from typing import Any

from pydantic import Field, model_validator

from harness.analysis import join, units, unknown_phase
from harness.contract._common import cannot_evaluate, first_ids, title
from harness.contract.base import Clause, ClauseParams, ClauseResult, register
from harness.run.model import Run

_FIGURES = {
    "max_input_tokens": ("input_tokens", "input tokens"),
    "max_output_tokens": ("output_tokens", "output tokens"),
    "max_cost_usd_per_request": ("cost_usd", "cost USD"),
}


class BudgetParams(ClauseParams):
    max_input_tokens: int | None = Field(default=None, ge=0, description="per request, all attempts")
    max_output_tokens: int | None = Field(default=None, ge=0, description="per request, all attempts")
    max_cost_usd_per_request: float | None = Field(default=None, ge=0, description="all attempts")
    phase: str | None = Field(default=None, description="only requests of this phase (default: all)")

    @model_validator(mode="after")
    def _some_cap(self) -> BudgetParams:
        if not self.caps():
            raise ValueError(f"give at least one cap: {', '.join(_FIGURES)}")
        return self

    def caps(self) -> dict[str, float]:
        return {f: v for f in _FIGURES if (v := getattr(self, f)) is not None}


def _fmt(value: float, field: str) -> str:
    return f"${value:.6g}" if field == "cost_usd" else f"{value:g}"


@register
class Budget(Clause):
    name = "budget"
    Params = BudgetParams

    def evaluate(self, run: Run) -> ClauseResult:
        p = self.params
        assert isinstance(p, BudgetParams)
        name, head = self.name, title(self.name, p.phase)
        caps = p.caps()
        expected = "per request: " + ", ".join(
            f"{_FIGURES[c][1]} <= {_fmt(v, _FIGURES[c][0])}" for c, v in caps.items()
        )
        if why := unknown_phase(run, p.phase):
            return cannot_evaluate(name, head, expected, why)
        if not run.ledger:
            return cannot_evaluate(name, head, expected, "the provider recorded no call")
        joined = join(run)
        counted = units(run, p.phase, joined)
        details: dict[str, Any] = {"coverage": joined.coverage.as_dict(), "units": len(counted)}
        if not counted:
            return cannot_evaluate(name, head, expected, "no provider call in this phase", details)
        spent = [
            (
                u.id,
                {
                    "input_tokens": sum(c.input_tokens for c in u.calls),
                    "output_tokens": sum(c.output_tokens for c in u.calls),
                    "cost_usd": round(sum(c.cost_usd for c in u.calls), 10),
                },
            )
            for u in counted
        ]
        # Offenders: the worst ratio to any cap first.
        over: list[tuple[float, str]] = []
        observed_parts: list[str] = []
        for cap, limit in caps.items():
            field, label = _FIGURES[cap]
            worst = max(s[field] for _, s in spent)
            mean = sum(s[field] for _, s in spent) / len(spent)
            n_over = 0
            for uid, s in spent:
                if s[field] > limit:
                    n_over += 1
                    over.append((s[field] / limit if limit else float("inf"), uid))
            details[field] = {"max": worst, "mean": mean, "over": n_over, "cap": limit}
            observed_parts.append(
                f"max {label} {_fmt(worst, field)}" + (f" ({n_over} over)" if n_over else "")
            )
        fingerprinted = sum(1 for u in counted if not u.correlated)
        details["fingerprint_groups"] = fingerprinted
        observed = "; ".join(observed_parts) + f" over {len(counted)} requests"
        if fingerprinted:
            observed += f" ({fingerprinted} by fingerprint: X-Request-Id not forwarded)"
        offenders = first_ids(uid for _, uid in sorted(over, reverse=True))
        return ClauseResult(name, head, expected, observed, "fail" if over else "pass", offenders, details)

"""`budget`: input tokens, output tokens and cost per route request stay within their caps, and
every single provider call within its per-call caps.

Per route request, from the ledger, every attempt summed: retries and fallback calls spend too.
Calls not joined to a request (X-Request-Id not forwarded) are summed per fingerprint group,
i.e. per provider request and its retries. Requests that made no provider call spent nothing
and are not counted. Input tokens are as the provider billed them (cached tokens included).

The per-call caps (`max_input_tokens_per_call`, `max_output_tokens_per_call`) hold a prompt
assembler to its cap: each call's billed input and output tokens are compared on their own.
A unit (request or fingerprint group) offends when any of its calls is over; the figure
reported is its worst call.
"""

from __future__ import annotations

from typing import Any

from pydantic import Field, model_validator

from harness.analysis import Unit, join, units, unknown_phase
from harness.contract._common import cannot_evaluate, first_ids, title
from harness.contract.base import Clause, ClauseParams, ClauseResult, register
from harness.record import Run

# cap -> (figure, label, per call?)
_FIGURES = {
    "max_input_tokens": ("input_tokens", "input tokens", False),
    "max_output_tokens": ("output_tokens", "output tokens", False),
    "max_cost_usd_per_request": ("cost_usd", "cost USD", False),
    "max_input_tokens_per_call": ("input_tokens", "input tokens per call", True),
    "max_output_tokens_per_call": ("output_tokens", "output tokens per call", True),
}


class BudgetParams(ClauseParams):
    max_input_tokens: int | None = Field(default=None, ge=0, description="per request, all attempts")
    max_output_tokens: int | None = Field(default=None, ge=0, description="per request, all attempts")
    max_cost_usd_per_request: float | None = Field(default=None, ge=0, description="all attempts")
    max_input_tokens_per_call: int | None = Field(
        default=None, ge=0, description="each provider call's billed input tokens (cached included)"
    )
    max_output_tokens_per_call: int | None = Field(default=None, ge=0, description="each provider call")
    phase: str | None = Field(default=None, description="only requests of this phase (default: all)")

    @model_validator(mode="after")
    def _some_cap(self) -> BudgetParams:
        if not self.caps():
            raise ValueError(f"give at least one cap: {', '.join(_FIGURES)}")
        return self

    def caps(self) -> dict[str, float]:
        return {f: v for f in _FIGURES if (v := getattr(self, f)) is not None}


def _spent(unit: Unit, field: str, per_call: bool) -> list[float]:
    """What a unit spent of `field`: each call's figure, or all its calls summed."""
    each = [getattr(c, field) for c in unit.calls]
    return each if per_call else [round(sum(each), 10)]


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
        expected = "; ".join(
            f"{scope}: " + ", ".join(f"{_FIGURES[c][1]} <= {_fmt(v, _FIGURES[c][0])}" for c, v in part)
            for scope, part in (
                ("per request", [(c, v) for c, v in caps.items() if not _FIGURES[c][2]]),
                ("per call", [(c, v) for c, v in caps.items() if _FIGURES[c][2]]),
            )
            if part
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
        # Offenders: the worst ratio to any cap first.
        over: list[tuple[float, str]] = []
        observed_parts: list[str] = []
        for cap, limit in caps.items():
            field, label, per_call = _FIGURES[cap]
            spent = [(u.id, v) for u in counted for v in _spent(u, field, per_call)]
            worst = max(v for _, v in spent)
            mean = sum(v for _, v in spent) / len(spent)
            n_over = 0
            for uid, v in spent:
                if v > limit:
                    n_over += 1
                    over.append((v / limit if limit else float("inf"), uid))
            key = f"{field}_per_call" if per_call else field
            details[key] = {"max": worst, "mean": mean, "over": n_over, "cap": limit}
            observed_parts.append(
                f"max {label} {_fmt(worst, field)}" + (f" ({n_over} over)" if n_over else "")
            )
        fingerprinted = sum(1 for u in counted if not u.correlated)
        details["fingerprint_groups"] = fingerprinted
        observed = "; ".join(observed_parts) + f" over {len(counted)} requests"
        if any(_FIGURES[c][2] for c in caps):
            observed += f" ({sum(len(u.calls) for u in counted)} calls)"
        if fingerprinted:
            observed += f" ({fingerprinted} by fingerprint: X-Request-Id not forwarded)"
        offenders = first_ids(uid for _, uid in sorted(over, key=lambda o: -o[0]))  # ties: in run order
        return ClauseResult(name, head, expected, observed, "fail" if over else "pass", offenders, details)

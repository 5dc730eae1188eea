"""The worst case of one route request: every call at its token caps, every attempt made.

Calls per request = max attempts x (1 + schema re-asks): each re-ask is a model call with the
same retry policy. Each call sends `input_cap` tokens (the assembler's cap holds for re-asks
too) and gets `output_cap` back, none cached. Attempts are priced with the provider
catalogue: `primary_attempts` on the primary model, the rest on the fallback; when the split is
not declared, every attempt at the pricier of the two.
"""

from __future__ import annotations

from dataclasses import dataclass

from fakeprovider.catalogue.families import DEFAULT_CATALOGUE, Catalogue
from fakeprovider.catalogue.info import ModelInfo
from harness.routes.spec import Route


class Uncomputable(ValueError):
    """The spec lacks what the worst case needs; the message says what."""


@dataclass(frozen=True, slots=True)
class WorstCase:
    calls: int  # provider calls per route request
    input_tokens: int
    output_tokens: int
    cost_usd: float
    per_call_usd: dict[str, float]  # model -> one call at the caps

    @property
    def tokens(self) -> int:
        return self.input_tokens + self.output_tokens


def call_cost(model: ModelInfo, input_tokens: int, output_tokens: int) -> float:
    return model.cost_usd(input_tokens, 0, output_tokens)


def resolve(model_id: str, catalogue: Catalogue) -> ModelInfo:
    info = catalogue.resolve(model_id)
    if info is None:
        raise Uncomputable(f"model {model_id!r} is not in the provider catalogue (no price)")
    return info


def reasks(route: Route) -> int:
    so = route.structured_output
    return (so.max_reasks or 0) if so else 0


def max_attempts(route: Route) -> int:
    """Provider calls one model call may take, every model together."""
    if route.retry is None or route.retry.max_attempts is None:
        raise Uncomputable("retry.max_attempts is not declared")
    return route.retry.max_attempts


def calls_per_request(route: Route) -> int:
    return max_attempts(route) * (1 + reasks(route))


def worst_case(route: Route, catalogue: Catalogue = DEFAULT_CATALOGUE) -> WorstCase:
    """The route's worst-case tokens and cost per request; `Uncomputable` says what is missing."""
    tokens, models = route.tokens, route.models
    if tokens is None or tokens.input_cap is None or tokens.output_cap is None:
        raise Uncomputable("tokens.input_cap and tokens.output_cap are needed")
    if models is None or models.primary is None:
        raise Uncomputable("models.primary is not declared")
    calls, attempts = calls_per_request(route), max_attempts(route)
    primary_attempts = route.retry.primary_attempts if route.retry else None
    inp, out = tokens.input_cap, tokens.output_cap
    primary = resolve(models.primary, catalogue)
    per_call = {models.primary: call_cost(primary, inp, out)}
    if models.fallback is None:
        per_model_call = attempts * per_call[models.primary]
    else:
        per_call[models.fallback] = call_cost(resolve(models.fallback, catalogue), inp, out)
        if primary_attempts is None:
            per_model_call = attempts * max(per_call.values())
        else:
            on_primary = min(primary_attempts, attempts)
            per_model_call = (
                on_primary * per_call[models.primary] + (attempts - on_primary) * per_call[models.fallback]
            )
    return WorstCase(
        calls=calls,
        input_tokens=calls * inp,
        output_tokens=calls * out,
        cost_usd=per_model_call * (1 + reasks(route)),
        per_call_usd=per_call,
    )

"""The worst case per request, checked by hand arithmetic against the catalogue's prices
(gpt-4o $2.50 / $10 per M input / output tokens, gpt-4o-mini $0.15 / $0.60,
text-embedding-3-small $0.02)."""

from __future__ import annotations

import pytest

from fakeprovider.catalogue.families import DEFAULT_CATALOGUE
from harness.routes.cost import Uncomputable, worst_case
from harness.routes.load import validate_routes
from harness.routes.spec import Route
from tests.harness.routes.specs import complete_spec, drop_field, set_field


def route_of(data: dict[str, object]) -> Route:
    return validate_routes(data, "t").routes["summarize"]


def test_prices_used_are_the_catalogues() -> None:
    gpt4o, mini = DEFAULT_CATALOGUE.resolve("gpt-4o"), DEFAULT_CATALOGUE.resolve("gpt-4o-mini")
    assert gpt4o is not None
    assert (gpt4o.input_per_m, gpt4o.output_per_m) == (2.50, 10.0)
    assert mini is not None
    assert (mini.input_per_m, mini.output_per_m) == (0.15, 0.60)


def test_two_primary_attempts_and_one_fallback_at_the_caps() -> None:
    w = worst_case(route_of(complete_spec()))
    # One call at 2000 in / 120 out: gpt-4o 2000*2.5e-6 + 120*10e-6 = 0.005 + 0.0012 = 0.0062,
    # gpt-4o-mini 2000*0.15e-6 + 120*0.6e-6 = 0.0003 + 0.000072 = 0.000372.
    assert w.per_call_usd["gpt-4o"] == pytest.approx(0.0062)
    assert w.per_call_usd["gpt-4o-mini"] == pytest.approx(0.000372)
    assert (w.calls, w.input_tokens, w.output_tokens) == (3, 6000, 360)
    assert w.cost_usd == pytest.approx(2 * 0.0062 + 0.000372)  # 0.012772
    assert w.tokens == 6360


def test_schema_reasks_multiply_every_attempt() -> None:
    data = set_field(
        complete_spec(),
        "routes.summarize.structured_output",
        {"kind": "tool_call", "max_reasks": 2, "validation": "jsonschema", "counter": "c"},
    )
    w = worst_case(route_of(data))
    # 3 model calls (first + 2 re-asks), each up to 3 attempts: 9 calls.
    assert (w.calls, w.input_tokens, w.output_tokens) == (9, 18000, 1080)
    assert w.cost_usd == pytest.approx(3 * (2 * 0.0062 + 0.000372))  # 0.038316


def test_without_a_declared_split_every_attempt_is_priced_at_the_pricier_model() -> None:
    data = drop_field(complete_spec(), "routes.summarize.retry.primary_attempts")
    assert worst_case(route_of(data)).cost_usd == pytest.approx(3 * 0.0062)


def test_a_route_without_fallback_spends_every_attempt_on_the_primary() -> None:
    data = complete_spec()
    set_field(data, "routes.summarize.models", {"primary": "text-embedding-3-small"})
    set_field(data, "routes.summarize.tokens", {"input_cap": 8000, "output_cap": 0})
    w = worst_case(route_of(data))
    # 3 attempts x 8000 tokens x $0.02 per M = 0.00048
    assert (w.calls, w.input_tokens, w.output_tokens) == (3, 24000, 0)
    assert w.cost_usd == pytest.approx(3 * 8000 * 0.02e-6)


@pytest.mark.parametrize(
    ("change", "reason"),
    [
        (("routes.summarize.retry", None), "retry.max_attempts is not declared"),
        (("routes.summarize.tokens", {"input_cap": 10}), "tokens.input_cap and tokens.output_cap"),
        (("routes.summarize.models", {"fallback": "gpt-4o-mini"}), "models.primary is not declared"),
        (("routes.summarize.models.primary", "no-such-model"), "'no-such-model' is not in the provider"),
    ],
    ids=["no-attempts", "no-output-cap", "no-primary", "unknown-model"],
)
def test_uncomputable_worst_case_says_what_is_missing(change: tuple[str, object], reason: str) -> None:
    data = complete_spec()
    path, value = change
    if value is None:
        drop_field(data, path)
    else:
        set_field(data, path, value)
    with pytest.raises(Uncomputable, match=reason):
        worst_case(route_of(data))

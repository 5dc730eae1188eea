"""`slow`: re-time the plan's delays (first token, between tokens, jitter), leaving its content."""

from __future__ import annotations

import pydantic
import pytest

from fakeprovider.generation.plan import Plan
from tests.fakeprovider.faults.conftest import CLAUDE, context, fault, plan_for, request


def _slowed(seed: int = 0, model_id: str = "gpt-4o", **params: object) -> tuple[Plan, Plan]:
    req = request(model_id)
    plan = plan_for(req)
    return plan, fault("slow", **params).transform(plan, context(req, seed))


def test_slow_sets_exact_delays_without_jitter() -> None:
    before, after = _slowed(ttft_ms=1500, inter_token_ms=40)
    assert len(after.delays) == len(before.events) > 1
    assert after.delays[0] == pytest.approx(1.5)
    assert after.delays[1:] == pytest.approx([0.04] * (len(after.delays) - 1))


def test_slow_keeps_the_content_and_the_finish() -> None:
    before, after = _slowed(ttft_ms=1500, inter_token_ms=40)
    assert after.events == before.events
    assert after.finish == before.finish
    assert after.ending == "complete"


def test_slow_ttft_only_keeps_the_inter_token_delays() -> None:
    before, after = _slowed(ttft_ms=2000)
    assert after.delays[0] == pytest.approx(2.0)
    assert after.delays[1:] == before.delays[1:]


def test_slow_inter_token_only_keeps_the_first_token_delay() -> None:
    before, after = _slowed(inter_token_ms=100)
    assert after.delays[0] == before.delays[0]
    assert after.delays[1:] == pytest.approx([0.1] * (len(after.delays) - 1))


def test_slow_jitter_stays_within_its_bounds() -> None:
    _, after = _slowed(ttft_ms=1000, inter_token_ms=50, jitter_ms=20)
    assert 0.98 <= after.delays[0] <= 1.02
    assert all(0.03 <= d <= 0.07 for d in after.delays[1:])
    assert len(set(after.delays[1:])) > 1  # jitter actually varies


def test_slow_jitter_never_makes_a_delay_negative() -> None:
    _, after = _slowed(ttft_ms=5, inter_token_ms=0, jitter_ms=50)
    assert all(d >= 0 for d in after.delays)


def test_slow_jitter_is_reproducible_for_the_same_rng_seed() -> None:
    _, a = _slowed(seed=3, ttft_ms=1000, inter_token_ms=50, jitter_ms=20)
    _, b = _slowed(seed=3, ttft_ms=1000, inter_token_ms=50, jitter_ms=20)
    _, c = _slowed(seed=4, ttft_ms=1000, inter_token_ms=50, jitter_ms=20)
    assert a.delays == b.delays
    assert a.delays != c.delays


def test_slow_applies_to_non_realistic_plans_too() -> None:
    req = request(CLAUDE)
    plan = plan_for(req, realistic=False)
    assert set(plan.delays) == {0.0}
    after = fault("slow", ttft_ms=300, inter_token_ms=10).transform(plan, context(req))
    assert after.delays[0] == pytest.approx(0.3)
    assert sum(after.delays) == pytest.approx(0.3 + 0.01 * (len(plan.events) - 1))


def test_slow_on_an_empty_plan_waits_before_the_finish() -> None:
    req = request(max_tokens=0)
    plan = plan_for(req)
    assert plan.events == []
    after = fault("slow", ttft_ms=800).transform(plan, context(req))
    assert after.tail_delay == pytest.approx(0.8)


def test_slow_needs_a_chat_request() -> None:
    ctx = context(request())
    ctx.req = None
    assert not fault("slow", ttft_ms=100).applies(ctx)


@pytest.mark.parametrize("params", [{"ttft_ms": -1}, {"inter_token_ms": -1}, {"jitter_ms": -1}, {"ttft": 1}])
def test_slow_refuses_negative_or_unknown_params(params: dict[str, object]) -> None:
    with pytest.raises(pydantic.ValidationError):
        fault("slow", **params)

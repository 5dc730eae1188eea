"""Plans: the text and token count noted while prose is drawn stand for the events they describe."""

from __future__ import annotations

import dataclasses

from fakeprovider.catalogue.families import DEFAULT_CATALOGUE
from fakeprovider.generation.content import ContentPool
from fakeprovider.generation.plan import Event, Plan, TextDelta, build_plan
from fakeprovider.generation.request import ChatRequest
from fakeprovider.generation.rng import DigestRandom


def _plan(max_tokens: int | None = 50, key: bytes = b"plan") -> Plan:
    info = DEFAULT_CATALOGUE.resolve("gpt-4o-mini")
    assert info is not None
    req = ChatRequest(api="openai.chat", model=info, stream=False, prompt_ids=[1], max_tokens=max_tokens)
    return build_plan(req, ContentPool(0, info.encoding, size=64), DigestRandom(key), None, realistic=False)


def _summed(plan: Plan) -> tuple[str, int]:
    return "".join(e.text for e in plan.events if isinstance(e, TextDelta)), sum(
        e.tokens for e in plan.events
    )


def test_a_prose_plans_noted_text_and_tokens_are_its_events() -> None:
    for max_tokens in (None, 1, 10, 50):
        plan = _plan(max_tokens)
        assert (plan.text(), plan.output_tokens) == _summed(plan)
        assert plan.content() == (plan.text(), [])


def test_the_same_request_key_builds_the_same_plan() -> None:
    assert _plan(key=b"same").events == _plan(key=b"same").events
    assert _plan(key=b"same").events != _plan(key=b"other").events


def test_a_plan_given_other_events_sums_them_afresh() -> None:
    plan = _plan()
    replaced: list[Event] = [TextDelta("Short.", 2)]
    plan.events = replaced
    assert (plan.text(), plan.output_tokens) == ("Short.", 2)


def test_a_plan_rebuilt_by_a_fault_sums_its_own_events() -> None:
    plan = _plan()
    cut = dataclasses.replace(plan, events=plan.events[:3], delays=plan.delays[:3])
    assert (cut.text(), cut.output_tokens) == _summed(cut)
    assert cut.output_tokens < plan.output_tokens
    # Same events list, new plan: nothing noted is carried over, and the sums agree.
    retimed = dataclasses.replace(plan, delays=[0.02] * len(plan.delays))
    assert (retimed.text(), retimed.output_tokens) == (plan.text(), plan.output_tokens)


def test_events_grown_in_place_are_summed_again() -> None:
    plan = _plan()
    before = plan.output_tokens
    plan.events.append(TextDelta(" More.", 2))
    assert plan.output_tokens == before + 2
    assert plan.text().endswith(" More.")

"""Natural answer length: lognormal around a median that grows with the prompt, clipped, seeded,
chosen per model and per route by rule, validated on load; answers end with `stop` inside a cap."""

from __future__ import annotations

import random
import statistics

import openai
import pytest

from fakeprovider.catalogue.families import DEFAULT_CATALOGUE
from fakeprovider.generation.answer_length import DEFAULT_LENGTH, AnswerLength
from fakeprovider.generation.content import ContentPool
from fakeprovider.generation.plan import build_plan
from fakeprovider.generation.request import ChatRequest, Tags
from fakeprovider.scenario import CompiledScenario, ScenarioError, parse_scenario
from fakeprovider.scenario.answer_length_rules import AnswerLengths
from tests.fakeprovider.e2e import serve

HI = [{"role": "user", "content": "hi"}]


def _draws(length: AnswerLength, prompt_tokens: int, n: int = 2000, seed: int = 1) -> list[int]:
    rng = random.Random(seed)
    return [length.draw(rng, prompt_tokens) for _ in range(n)]


def test_default_answers_to_a_short_prompt_are_mostly_well_inside_a_modest_cap() -> None:
    draws = _draws(DEFAULT_LENGTH, prompt_tokens=8)
    assert 6 <= statistics.median(draws) <= 12
    assert sum(d > 20 for d in draws) / len(draws) < 0.05
    assert max(draws) < 50


def test_default_answers_grow_with_the_prompt_and_stay_within_bounds() -> None:
    short, long = _draws(DEFAULT_LENGTH, 8), _draws(DEFAULT_LENGTH, 2000)
    assert statistics.median(long) > 5 * statistics.median(short)
    assert min(short + long) >= DEFAULT_LENGTH.shortest
    assert max(short + long) <= DEFAULT_LENGTH.longest


def test_bounds_clip_and_no_spread_gives_the_median() -> None:
    clipped = AnswerLength(median_tokens=50, spread=2, shortest=20, longest=60)
    assert set(_draws(clipped, 0)) <= set(range(20, 61))
    assert set(_draws(AnswerLength(median_tokens=40, per_prompt_token=0.5, spread=0), 10)) == {45}


def test_the_same_seed_draws_the_same_lengths() -> None:
    assert _draws(DEFAULT_LENGTH, 30, seed=7) == _draws(DEFAULT_LENGTH, 30, seed=7)
    assert _draws(DEFAULT_LENGTH, 30, seed=7) != _draws(DEFAULT_LENGTH, 30, seed=8)


SCENARIO = """
answer_length:
  default: {median_tokens: 10, spread: 0, per_prompt_token: 0}
  models: {gpt-4o-mini: {median_tokens: 20}}
  rules:
    - {match: {route: summarize}, length: {median_tokens: 150}}
    - {match: {model: gpt-4o-mini, stream: true}, length: {median_tokens: 30}}
"""


def test_rules_then_models_then_the_default_choose_the_distribution() -> None:
    lengths = CompiledScenario(parse_scenario(SCENARIO), DEFAULT_CATALOGUE).lengths
    rng = random.Random(0)

    def drawn(model: str, route: str | None = None, stream: bool = False) -> int:
        return lengths.for_call("openai.chat", model, Tags(route=route), stream).draw(rng, 100)

    assert drawn("gpt-4o") == 10
    assert drawn("gpt-4o-mini") == 20
    assert drawn("gpt-4o-mini", stream=True) == 30
    assert drawn("gpt-4o-mini", route="summarize") == 150  # the first rule that matches wins
    assert drawn("gpt-4o", route="search") == 10


def test_no_answer_length_in_the_scenario_is_the_default() -> None:
    lengths = AnswerLengths(parse_scenario("").answer_length)
    assert lengths.for_call("openai.chat", "gpt-4o", Tags(), False) == DEFAULT_LENGTH.sampler()


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            "answer_length: {default: {spread: -1}}",
            r"default\.spread: Input should be greater",
        ),
        ("answer_length: {default: {median_tokens: 0}}", r"answer_length\.default\.median_tokens"),
        ("answer_length: {default: {shortest: 9, longest: 3}}", r"shortest \(9\) is above longest \(3\)"),
        (
            "answer_length: {models: {gpt-4o: {longest: 0}}}",
            r"models\.gpt-4o\.longest: Input should",
        ),
        ("answer_length: {rules: [{length: {speed: 3}}]}", r"rules\.0\.length\.speed: Extra inputs"),
        (
            "answer_length: {rules: [{match: {route: a}, length: {median_tokens: x}}]}",
            r"rules\.0\.length\.median",
        ),
        ("answer_length: {median: 3}", r"answer_length\.median: unknown field"),
    ],
)
def test_bad_values_are_refused_on_load_naming_the_field(text: str, expected: str) -> None:
    with pytest.raises(ScenarioError, match=expected):
        parse_scenario(text, "s.yaml")


def _plan_finish(max_tokens: int | None, length: AnswerLength) -> tuple[str, int]:
    info = DEFAULT_CATALOGUE.resolve("gpt-4o")
    assert info is not None
    req = ChatRequest(api="openai.chat", model=info, stream=False, prompt_ids=[1] * 8, max_tokens=max_tokens)
    pool = ContentPool(0, info.encoding, size=64)
    plan = build_plan(req, pool, random.Random(3), None, False, length.sampler())
    return plan.finish, plan.output_tokens


def test_an_answer_ends_with_stop_at_its_length_and_max_tokens_still_caps() -> None:
    fixed = AnswerLength(median_tokens=30, per_prompt_token=0, spread=0)
    finish, n = _plan_finish(None, fixed)
    assert finish == "stop"
    assert 25 <= n <= 30  # cut at the last piece boundary at or under the drawn length
    assert _plan_finish(40, fixed)[0] == "stop"
    assert _plan_finish(12, fixed) == ("length", 12)


def test_the_sdk_stream_helper_gets_a_natural_answer_to_hi_inside_20_tokens() -> None:
    with serve() as s:
        client: openai.OpenAI = s.openai()
        with client.chat.completions.stream(model="gpt-4o", messages=HI, max_tokens=20) as stream:
            final = stream.get_final_completion()
        record = s.last()
    assert final.choices[0].finish_reason == "stop"
    assert final.choices[0].message.content
    assert (record.finish_reason, record.status) == ("stop", 200)
    assert 1 <= record.output_tokens < 20


def test_a_route_rule_in_the_scenario_sets_the_length_end_to_end() -> None:
    scenario = {"answer_length": {"rules": [{"match": {"route": "long"}, "length": {"median_tokens": 300}}]}}
    with serve(scenario) as s:
        client = s.openai()
        short = client.chat.completions.create(model="gpt-4o", messages=HI, max_tokens=100)
        long = client.chat.completions.create(
            model="gpt-4o", messages=HI, max_tokens=100, extra_headers={"X-Route": "long"}
        )
    assert short.choices[0].finish_reason == "stop"
    assert long.choices[0].finish_reason == "length"
    assert long.usage is not None
    assert long.usage.completion_tokens == 100

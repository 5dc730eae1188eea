"""The fault engine: ordered rules, matching, windows, seeded probability, attempts and hits."""

from __future__ import annotations

from typing import Any

import pytest

from fakeprovider.clock import ScenarioClock, VirtualTime
from fakeprovider.faults.base import FaultContext
from fakeprovider.generation.request import Tags, ToolSpec
from fakeprovider.scenario.engine import ActiveRule, Engine, RuleError, roll
from fakeprovider.scenario.rules import FaultRule
from tests.fakeprovider.faults.conftest import CLAUDE, context, request

TAGS = Tags(route="summarize", feature="digest", tenant="acme")


def rule(kind: str = "http_error", **fields: Any) -> FaultRule:
    return FaultRule.model_validate({"fault": {"kind": kind}, **fields})


def engine(*rules: FaultRule, seed: int = 7, time: VirtualTime | None = None) -> Engine:
    return Engine(rules, seed, ScenarioClock(time or VirtualTime()))


def ctx(model_id: str = "gpt-4o", **fields: Any) -> FaultContext:
    return context(request(model_id, **fields))


def decide(
    e: Engine,
    c: FaultContext | None = None,
    tags: Tags = TAGS,
    stream: bool = False,
    attempt: int = 1,
    key: str = "req-1",
) -> str | None:
    fired = e.decide(c or ctx(), tags, stream, attempt, key)
    return None if fired is None else fired.name


# --- order and matching ------------------------------------------------------------------------


def test_the_first_matching_rule_wins() -> None:
    e = engine(rule(name="a"), rule(name="b"))
    assert decide(e) == "a"


def test_a_rule_that_does_not_match_falls_through_to_the_next() -> None:
    e = engine(rule(name="a", match={"model": "gpt-4o-mini"}), rule(name="b"))
    assert decide(e) == "b"


def test_no_matching_rule_decides_nothing() -> None:
    assert decide(engine(rule(match={"tenant": "globex"}))) is None
    assert decide(engine()) is None


def test_an_empty_engine_is_falsy() -> None:
    assert not engine()
    assert engine(rule())


@pytest.mark.parametrize(
    ("match", "hit", "miss"),
    [
        ({"api": "openai.chat"}, ("gpt-4o", TAGS, False), (CLAUDE, TAGS, False)),
        ({"api": "anthropic.messages"}, (CLAUDE, TAGS, False), ("gpt-4o", TAGS, False)),
        ({"model": "gpt-4o"}, ("gpt-4o", TAGS, False), ("gpt-4o-mini", TAGS, False)),
        ({"route": "summarize"}, ("gpt-4o", TAGS, False), ("gpt-4o", Tags(route="search"), False)),
        ({"feature": "digest"}, ("gpt-4o", TAGS, False), ("gpt-4o", Tags(feature="chat"), False)),
        ({"tenant": "acme"}, ("gpt-4o", TAGS, False), ("gpt-4o", Tags(tenant="globex"), False)),
        ({"stream": True}, ("gpt-4o", TAGS, True), ("gpt-4o", TAGS, False)),
        ({"stream": False}, ("gpt-4o", TAGS, False), ("gpt-4o", TAGS, True)),
    ],
)
def test_a_rule_matches_on_each_field(
    match: dict[str, Any], hit: tuple[str, Tags, bool], miss: tuple[str, Tags, bool]
) -> None:
    e = engine(rule(name="r", match=match))
    assert decide(e, ctx(hit[0]), tags=hit[1], stream=hit[2]) == "r"
    assert decide(e, ctx(miss[0]), tags=miss[1], stream=miss[2]) is None


def test_an_untagged_call_does_not_match_a_tag() -> None:
    assert decide(engine(rule(match={"route": "summarize"})), tags=Tags()) is None


def test_every_given_match_field_must_hold() -> None:
    e = engine(rule(name="r", match={"model": "gpt-4o", "route": "summarize", "tenant": "acme"}))
    assert decide(e) == "r"
    assert decide(e, tags=Tags(route="summarize", tenant="globex")) is None


def test_the_api_family_matches_every_api_of_the_provider() -> None:
    e = engine(
        rule(name="openai", match={"api": "openai"}), rule(name="anthropic", match={"api": "anthropic"})
    )
    assert decide(e, ctx("gpt-4o")) == "openai"
    embeddings = ctx("gpt-4o")
    embeddings.api = "openai.embeddings"
    embeddings.req = None
    assert decide(e, embeddings) == "openai"
    assert decide(e, ctx(CLAUDE)) == "anthropic"


def test_the_api_family_is_not_a_mere_string_prefix() -> None:
    c = ctx("gpt-4o")
    c.api = "openaix.chat"
    assert decide(engine(rule(match={"api": "openai"})), c) is None


# --- windows -----------------------------------------------------------------------------------


def test_a_window_is_active_only_between_its_start_and_end() -> None:
    t = VirtualTime()
    e = engine(rule(name="w", window={"start_s": 10, "duration_s": 20}), time=t)
    assert decide(e) is None
    t.advance(9.999)
    assert decide(e) is None
    t.advance(0.001)
    assert decide(e) == "w"
    t.advance(19.99)
    assert decide(e) == "w"
    t.advance(0.01)
    assert decide(e) is None
    t.advance(1000)
    assert decide(e) is None


def test_a_window_without_duration_lasts_until_the_end() -> None:
    t = VirtualTime()
    e = engine(rule(name="w", window={"start_s": 5}), time=t)
    assert decide(e) is None
    t.advance(5)
    assert decide(e) == "w"
    t.advance(1e6)
    assert decide(e) == "w"


def test_restarting_the_clock_reopens_a_window() -> None:
    t = VirtualTime()
    e = engine(rule(name="w", window={"start_s": 0, "duration_s": 10}), time=t)
    assert decide(e) == "w"
    t.advance(15)
    assert decide(e) is None
    e.clock.start()
    assert decide(e) == "w"


def test_a_rule_outside_its_window_falls_through() -> None:
    e = engine(rule(name="later", window={"start_s": 60}), rule(name="always"))
    assert decide(e) == "always"


# --- probability -------------------------------------------------------------------------------

KEYS = [f"req-{i}" for i in range(1000)]


def _fired(seed: int, probability: float = 0.3) -> list[bool]:
    e = engine(rule(name="flaky", probability=probability), seed=seed)
    return [decide(e, key=k) is not None for k in KEYS]


def test_probability_fires_about_that_share_of_requests() -> None:
    assert 250 <= sum(_fired(7)) <= 350


def test_probability_decisions_are_the_same_on_every_replica_with_the_seed() -> None:
    assert _fired(7) == _fired(7)


def test_probability_decisions_differ_for_another_seed() -> None:
    a, b = _fired(7), _fired(8)
    assert a != b
    assert 250 <= sum(b) <= 350


def test_probability_rolls_again_for_each_attempt() -> None:
    e = engine(rule(name="flaky", probability=0.5))
    first = [decide(e, key=k, attempt=1) is not None for k in KEYS[:200]]
    second = [decide(e, key=k, attempt=2) is not None for k in KEYS[:200]]
    assert first != second


def test_probability_zero_never_fires_and_one_always_does() -> None:
    assert not any(_fired(7, 0.0))
    assert all(_fired(7, 1.0))


def test_roll_is_in_the_unit_interval_and_depends_on_every_input() -> None:
    base = roll(1, "r", "k", 1)
    assert 0 <= base < 1
    assert base == roll(1, "r", "k", 1)
    assert (
        len({base, roll(2, "r", "k", 1), roll(1, "s", "k", 1), roll(1, "r", "j", 1), roll(1, "r", "k", 2)})
        == 5
    )


def test_a_rule_whose_roll_misses_falls_through() -> None:
    e = engine(rule(name="rare", probability=0.3), rule(name="always"))
    names = {decide(e, key=k) for k in KEYS[:100]}
    assert names == {"rare", "always"}


# --- attempts and hits -------------------------------------------------------------------------


def test_first_attempts_fires_only_for_the_first_n_attempts() -> None:
    e = engine(rule(name="r", first_attempts=2))
    assert decide(e, attempt=1) == "r"
    assert decide(e, attempt=2) == "r"
    assert decide(e, attempt=3) is None
    assert decide(e, attempt=4) is None


def test_max_hits_stops_a_rule_after_n_firings() -> None:
    e = engine(rule(name="r", max_hits=3), rule(name="after"))
    assert [decide(e, key=f"k{i}") for i in range(5)] == ["r", "r", "r", "after", "after"]
    assert e.rules[0].hits == 3
    assert e.rules[1].hits == 2


def test_a_call_that_does_not_fire_is_not_a_hit() -> None:
    e = engine(rule(name="r", probability=0.3, max_hits=1000))
    fired = sum(decide(e, key=k) is not None for k in KEYS)
    assert e.rules[0].hits == fired < len(KEYS)


def test_a_kind_that_does_not_apply_falls_through_to_the_next_rule() -> None:
    e = engine(rule("malformed_tool_call", name="tools"), rule(name="fallback"))
    assert decide(e, ctx()) == "fallback"
    assert e.rules[0].hits == 0
    weather = ToolSpec("get_weather", {"type": "object", "properties": {}})
    assert decide(e, ctx(tools=[weather])) == "tools"


# --- adding, removing, reset -------------------------------------------------------------------


def test_reset_drops_added_rules_and_zeroes_hits() -> None:
    e = engine(rule(name="base", match={"tenant": "acme"}))
    e.add(rule(name="extra"))
    assert decide(e) == "base"
    assert decide(e, tags=Tags()) == "extra"
    e.reset()
    assert [r.name for r in e.rules] == ["base"]
    assert e.rules[0].hits == 0
    assert decide(e, tags=Tags()) is None


def test_an_added_rule_comes_after_the_scenario_rules() -> None:
    e = engine(rule(name="base"))
    added = e.add(rule(name="extra"))
    assert isinstance(added, ActiveRule)
    assert added.added
    assert not e.rules[0].added
    assert decide(e) == "base"


def test_a_duplicate_rule_name_is_refused() -> None:
    with pytest.raises(RuleError, match="'x' already exists"):
        engine(rule(name="x"), rule(name="x"))
    e = engine(rule(name="x"))
    with pytest.raises(RuleError):
        e.add(rule("slow", name="x"))
    assert len(e.rules) == 1


def test_unnamed_rules_are_named_after_their_kind_and_position() -> None:
    e = engine(rule(), rule("slow"))
    assert [r.name for r in e.rules] == ["http_error-1", "slow-2"]


def test_an_automatic_name_never_clashes_with_an_existing_rule() -> None:
    e = engine(rule(), rule())
    assert e.remove("http_error-1")
    added = e.add(rule())
    assert added.name not in {"http_error-2"}
    assert len({r.name for r in e.rules}) == 2


def test_an_automatic_name_steps_around_a_user_name() -> None:
    e = engine(rule(name="http_error-2"))
    assert e.add(rule()).name != "http_error-2"


def test_remove_drops_a_rule_by_name() -> None:
    e = engine(rule(name="a"), rule(name="b"))
    assert e.remove("a")
    assert not e.remove("a")
    assert decide(e) == "b"


def test_clear_drops_every_rule() -> None:
    e = engine(rule(name="a"))
    e.clear()
    assert decide(e) is None


def test_a_kind_of_call_already_decided_sees_every_change_to_the_rules() -> None:
    # Which rules match a kind of call is kept between calls: each change must start it over.
    e = engine(rule(name="base", match={"tenant": "globex"}))
    assert decide(e) is None
    e.add(rule(name="added"))
    assert decide(e) == "added"
    e.add(rule(name="second"))
    assert e.remove("added")
    assert decide(e) == "second"
    e.reset()
    assert decide(e) is None
    e.add(rule(name="again"))
    assert decide(e) == "again"
    e.clear()
    assert decide(e) is None


def test_many_kinds_of_call_are_each_matched_right() -> None:
    e = engine(rule(name="even", match={"tenant": "t0"}), rule(name="odd", match={"tenant": "t1"}))
    for i in range(5000):  # past the number of kinds kept, so the store starts over on the way
        assert decide(e, tags=Tags(tenant=f"t{i % 2}", route=f"r{i}")) == ("even" if i % 2 == 0 else "odd")


def test_describe_shows_the_rule_its_name_hits_and_origin() -> None:
    e = engine(rule(name="r", max_hits=5, fault={"kind": "http_error", "status": 502}))
    decide(e)
    out = e.rules[0].describe()
    assert out["name"] == "r"
    assert out["hits"] == 1
    assert out["added"] is False
    assert out["fault"] == {"kind": "http_error", "status": 502}
    assert out["max_hits"] == 5

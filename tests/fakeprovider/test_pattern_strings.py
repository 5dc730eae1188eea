"""Strings sampled from a regular expression: every sample matches it, or there is none."""

from __future__ import annotations

import random
import re

import pytest

from fakeprovider.generation.schema.patterns import sample_pattern

PATTERNS = [
    r"^[A-Z]{3}-\d{4}$",
    r"^(foo|bar)+[^abc]\w\s.x*?$",
    r"^[\D\W]{2,5}$",
    r"^\+?[1-9]\d{1,14}$",
    r"^[a-z0-9._%+-]+@[a-z0-9.-]+\.[a-z]{2,}$",
    r"^(?=.*\d)[a-f0-9]{6}$",
    r"a++b(?:x|y)*+z",
]


@pytest.mark.parametrize("pattern", PATTERNS)
def test_every_sample_matches_its_pattern(pattern: str) -> None:
    samples = [sample_pattern(pattern, random.Random(seed)) for seed in range(50)]
    made = [s for s in samples if s is not None]
    assert len(made) >= 25, samples  # look-arounds may refuse some; most samples are made
    assert all(re.search(pattern, s) for s in made)
    assert len(set(made)) > 1  # drawn, not one fixed string


def test_a_sample_is_the_same_for_the_same_seed() -> None:
    pattern = PATTERNS[0]
    assert sample_pattern(pattern, random.Random(7)) == sample_pattern(pattern, random.Random(7))


ATOMIC_AND_POSSESSIVE = [
    r"(?>ab|a)c",
    r"^(?>foo|foobar)baz$",  # "foobarbaz" is refused: the group keeps "foo" and never retries
    r"(?>\d+)-[a-z]{2,4}",
    r"(?>(?:ab)+)c",
    r"^[a-z]++\d*+$",
    r"x(?>y|yz)?+z",
]


@pytest.mark.parametrize("pattern", ATOMIC_AND_POSSESSIVE)
def test_atomic_groups_and_possessive_repeats_are_sampled_whole(pattern: str) -> None:
    # Not ECMA-262 (JSON Schema's regex dialect), but Python's `re` has both since 3.11.
    samples = [sample_pattern(pattern, random.Random(seed)) for seed in range(50)]
    made = [s for s in samples if s is not None]
    assert len(made) >= 20, samples
    assert all(re.fullmatch(pattern, s) for s in made)


def test_a_sample_the_atomic_group_would_have_to_give_back_is_refused() -> None:
    # The walk may choose "foobar" then "baz"; the engine's group keeps "foo", so no match.
    samples = {sample_pattern(r"^(?>foo|foobar)baz$", random.Random(seed)) for seed in range(50)}
    assert samples == {"foobaz", None}


@pytest.mark.parametrize("pattern", [r"(?>a*)a", r"a*+a"])
def test_a_pattern_nothing_can_match_gives_none(pattern: str) -> None:
    assert {sample_pattern(pattern, random.Random(seed)) for seed in range(20)} == {None}


@pytest.mark.parametrize("pattern", [r"(?P<a>x)(?P=a)", r"(x)\1", "[", "[^\\x00-\\U0010ffff]"])
def test_back_references_empty_classes_and_bad_regexes_give_none(pattern: str) -> None:
    assert sample_pattern(pattern, random.Random(0)) is None

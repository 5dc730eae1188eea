"""Strings for a string schema: its format, else its pattern, else words, within its lengths."""

from __future__ import annotations

import datetime
import random
import re
import uuid
from typing import Any

import pytest

from fakeprovider.generation.schema.strings import string_value

WORDS = ("alpha", "beta", "gamma", "delta")
SEEDS = range(50)


def _strings(schema: dict[str, Any]) -> list[str]:
    return [string_value(schema, WORDS, random.Random(seed)) for seed in SEEDS]


@pytest.mark.parametrize(
    ("fmt", "valid"),
    [
        ("date-time", lambda s: datetime.datetime.fromisoformat(s).tzinfo is not None),
        ("date", lambda s: datetime.date.fromisoformat(s) is not None),
        ("time", lambda s: datetime.time.fromisoformat(s) is not None),
        ("email", lambda s: re.fullmatch(r"[a-z]+@example\.com", s) is not None),
        ("uri", lambda s: s.startswith("https://example.com/")),
        ("uuid", lambda s: uuid.UUID(s).version == 4),
    ],
)
def test_a_common_format_is_written_in_that_format(fmt: str, valid: Any) -> None:
    assert all(valid(s) for s in _strings({"format": fmt}))


def test_free_text_is_words_of_the_pool() -> None:
    for s in _strings({}):
        assert 1 <= len(s.split(" ")) <= 4
        assert set(s.split(" ")) <= set(WORDS)


def test_length_bounds_are_kept() -> None:
    assert all(40 <= len(s) <= 50 for s in _strings({"minLength": 40, "maxLength": 50}))


def test_a_pattern_wins_over_a_format_it_does_not_match() -> None:
    assert all(re.fullmatch(r"X\d{3}", s) for s in _strings({"format": "date", "pattern": r"^X\d{3}$"}))


def test_a_format_that_matches_the_pattern_is_kept() -> None:
    assert all(re.fullmatch(r"2025-\d\d-\d\d", s) for s in _strings({"format": "date", "pattern": "^2025"}))


def test_a_pattern_no_sample_fits_falls_back_to_words_cut_to_length() -> None:
    for s in _strings({"pattern": r"^\d{10}$", "maxLength": 5}):
        assert len(s) <= 5
        assert not s.isdigit()

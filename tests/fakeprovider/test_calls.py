"""The shared call path: generated request ids."""

from __future__ import annotations

import re
from collections import Counter

from fakeprovider.calls import new_request_id


def test_openai_request_ids_are_req_and_32_lowercase_alphanumerics() -> None:
    ids = {new_request_id("openai") for _ in range(200)}
    assert len(ids) == 200
    assert all(re.fullmatch(r"req_[a-z0-9]{32}", i) for i in ids)


def test_anthropic_request_ids_are_req_01_and_22_alphanumerics() -> None:
    ids = {new_request_id("anthropic") for _ in range(200)}
    assert len(ids) == 200
    assert all(re.fullmatch(r"req_01[A-Za-z0-9]{22}", i) for i in ids)


def test_request_id_characters_are_evenly_drawn() -> None:
    # 62 characters, each expected 2000 times in 124,000 draws; a skewed mapping is far outside.
    counts = Counter("".join(new_request_id("anthropic")[6:] for _ in range(124_000 // 22 + 1)))
    assert len(counts) == 62
    assert min(counts.values()) > 1700
    assert max(counts.values()) < 2300

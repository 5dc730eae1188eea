"""Request ids as each dialect generates them: format, even characters, unique across threads."""

from __future__ import annotations

import re
from collections import Counter
from concurrent.futures import ThreadPoolExecutor

from fakeprovider.dialects import DIALECTS

OPENAI = DIALECTS["openai.chat"]
ANTHROPIC = DIALECTS["anthropic.messages"]


def test_openai_request_ids_are_req_and_32_lowercase_alphanumerics() -> None:
    ids = {OPENAI.new_request_id() for _ in range(200)}
    assert len(ids) == 200
    assert all(re.fullmatch(r"req_[a-z0-9]{32}", i) for i in ids)


def test_anthropic_request_ids_are_req_01_and_22_alphanumerics() -> None:
    ids = {ANTHROPIC.new_request_id() for _ in range(200)}
    assert len(ids) == 200
    assert all(re.fullmatch(r"req_01[A-Za-z0-9]{22}", i) for i in ids)


def test_request_id_characters_are_evenly_drawn() -> None:
    # 62 characters, each expected 2000 times in 124,000 draws; a skewed mapping is far outside.
    counts = Counter("".join(ANTHROPIC.new_request_id()[6:] for _ in range(124_000 // 22 + 1)))
    assert len(counts) == 62
    assert min(counts.values()) > 1700
    assert max(counts.values()) < 2300


def test_request_ids_taken_from_several_threads_are_all_different() -> None:
    # Batches are shared between servers on different threads: no id may go out twice.
    def take() -> list[str]:
        return [OPENAI.new_request_id() for _ in range(3000)]

    with ThreadPoolExecutor(4) as pool:
        ids = [i for batch in pool.map(lambda _: take(), range(4)) for i in batch]
    assert len(set(ids)) == len(ids) == 12_000

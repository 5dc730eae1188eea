"""The prompt assembler: real token counts, refusal over budget, trimming that fits."""

from __future__ import annotations

import pytest

from sampleapp.errors import RouteError
from sampleapp.prompt import Assembler, Turn, encoding_name, warm

SYSTEM = Turn("system", "Summarise.")


@pytest.fixture(scope="module")
def assembler() -> Assembler:
    warm("gpt-4o")
    return Assembler("gpt-4o")


def test_models_map_to_their_encodings() -> None:
    assert encoding_name("gpt-4o") == encoding_name("gpt-4o-mini") == "o200k_base"
    assert encoding_name("gpt-4.1-nano") == encoding_name("o3-mini") == encoding_name("gpt-5") == "o200k_base"
    assert encoding_name("gpt-4") == encoding_name("gpt-3.5-turbo") == "cl100k_base"
    assert encoding_name("text-embedding-3-small") == "cl100k_base"


def test_a_prompt_costs_its_text_plus_the_chat_framing(assembler: Assembler) -> None:
    text = "The quick brown fox jumps over the lazy dog."
    turns = [SYSTEM, Turn("user", text)]
    # 3 per message plus its role (1 token each here), plus 3 priming the reply.
    expected = (3 + 1 + assembler.count_text("Summarise.")) + (3 + 1 + assembler.count_text(text)) + 3
    assert assembler.count(turns) == expected
    assert assembler.count_text(text) == 10


def test_over_budget_is_refused_with_both_numbers(assembler: Assembler) -> None:
    turns = [SYSTEM, Turn("user", "word " * 50)]
    with pytest.raises(RouteError) as caught:
        assembler.check(turns, 20)
    e = caught.value
    assert (e.status, e.code, e.extra["max_input_tokens"]) == (413, "input_too_long", 20)
    assert e.extra["input_tokens"] == assembler.count(turns)


@pytest.mark.parametrize("text", ["plain words " * 200, "日本語のテキストと絵文字 🎉🎊 " * 80])
def test_trim_keeps_a_prefix_of_the_text_that_fits_exactly_within_budget(
    assembler: Assembler, text: str
) -> None:
    prompt = assembler.trim([SYSTEM, Turn("user", text)], 1, 100)
    assert prompt.trimmed
    assert 95 <= prompt.input_tokens <= 100
    assert prompt.input_tokens == assembler.count(prompt.turns)
    kept = prompt.turns[1].text
    assert kept
    assert text.startswith(kept)
    assert "\ufffd" not in kept


def test_trim_refuses_when_even_an_empty_text_does_not_fit(assembler: Assembler) -> None:
    with pytest.raises(RouteError):
        assembler.trim([Turn("system", "long instructions " * 30), Turn("user", "text")], 1, 20)


def test_drop_oldest_removes_history_from_the_front_and_never_the_message(assembler: Assembler) -> None:
    history = [
        Turn("user", "old question " * 20),
        Turn("assistant", "old answer " * 20),
        Turn("user", "recent"),
    ]
    turns = [SYSTEM, *history, Turn("user", "now")]
    prompt = assembler.drop_oldest(turns, 1, 4, 60)
    assert prompt.trimmed
    assert [t.text for t in prompt.turns] == ["Summarise.", "recent", "now"]
    assert prompt.input_tokens == assembler.count(prompt.turns)
    with pytest.raises(RouteError):
        assembler.drop_oldest([SYSTEM, Turn("user", "now " * 100)], 1, 1, 60)


def test_without_a_cap_nothing_is_refused_or_trimmed() -> None:
    uncapped = Assembler("gpt-4o", cap=False)
    turns = [SYSTEM, Turn("user", "word " * 500)]
    assert uncapped.check(turns, 10).input_tokens == uncapped.count(turns)
    assert not uncapped.trim(turns, 1, 10).trimmed

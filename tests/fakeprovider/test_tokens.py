"""Real BPE token counts, and token pieces that rebuild the text exactly."""

from __future__ import annotations

import random
import subprocess
import sys

import pytest

from fakeprovider.generation import tokens

ENCODINGS = ["cl100k_base", "o200k_base"]

TEXTS = [
    "hello world",
    "The quick brown fox jumps over the lazy dog.",
    "Straße naïve café 😀😃😄",
    "日本語のテキストと絵文字 🎉👩\u200d👩\u200d👧",
    "    indented\n\tcode()  // ok\r\n",
    "",
]


@pytest.mark.parametrize("encoding", ENCODINGS)
@pytest.mark.parametrize("text", TEXTS)
def test_pieces_join_back_to_the_text_and_sum_to_the_count(text: str, encoding: str) -> None:
    pieces = tokens.pieces(text, encoding)
    assert "".join(p for p, _ in pieces) == text
    assert sum(n for _, n in pieces) == tokens.count(text, encoding)
    assert all(n >= 1 for _, n in pieces)


@pytest.mark.parametrize("encoding", ENCODINGS)
def test_token_split_inside_a_character_is_merged_into_one_piece(encoding: str) -> None:
    pieces = tokens.pieces("😃", encoding)
    assert pieces == [("😃", tokens.count("😃", encoding))]
    assert pieces[0][1] >= 2


@pytest.mark.parametrize(
    ("text", "cl100k", "o200k"),
    [
        ("hello world", 2, 2),
        ("The quick brown fox jumps over the lazy dog.", 10, 10),
        ("日本語のテキストと絵文字 🎉👩\u200d👩\u200d👧", 28, 20),
    ],
)
def test_counts_are_the_real_bpe_counts(text: str, cl100k: int, o200k: int) -> None:
    assert tokens.count(text, "cl100k_base") == cl100k
    assert tokens.count(text, "o200k_base") == o200k


def test_encoding_is_shared_between_calls() -> None:
    assert tokens.encoding("o200k_base") is tokens.encoding("o200k_base")


def test_importing_and_loading_the_tokenizer_warns_nothing() -> None:
    # A user's suite with `filterwarnings = error` imports fakeprovider (the pytest plugin does).
    code = (
        "from fakeprovider.generation import tokens; "
        "tokens.count('hi', 'cl100k_base'); tokens.count('hi', 'o200k_base')"
    )
    proc = subprocess.run(
        [sys.executable, "-W", "error", "-c", code], capture_output=True, text=True, timeout=60
    )
    assert proc.returncode == 0, proc.stderr


# --- texts longer than the tokenizer takes in one call -----------------------------------------

# Every kind of character the pre-split treats differently: words, caps, contractions, accents
# and combining marks, CJK, emoji, digits, punctuation, runs of spaces, tabs and newlines.
MIXED = [
    "word", "Hello", "ABC", "abcDEF", "don't", "it\u2019s", "'ll", "naïve", "e\u0301te\u0301", "日本語",
    "中文。", "テキスト", "😀", "👩\u200d👧", "123456", "3.14", "...", "--", "/", "\n", "\r\n", "\t",
    "  ", "   ", "ß", "Ⅻ", "½", "(", '"', "\u00a0", "\u3000", "#",
]  # fmt: skip


def _mixed_text(seed: int, parts: int) -> str:
    rng = random.Random(seed)
    return "".join(rng.choice(MIXED) + rng.choice(["", "", " "]) for _ in range(parts))


@pytest.mark.parametrize("encoding", ENCODINGS)
@pytest.mark.parametrize("seed", range(20))
def test_chunks_are_cut_where_the_tokens_are_cut(seed: int, encoding: str) -> None:
    # Chunks far smaller than the real ones, so a short text (one the tokenizer takes whole)
    # is cut at a few hundred places, each checked against the whole text's count.
    text = _mixed_text(seed, 300)
    chunks = list(tokens.chunks(text, max_chars=40))
    assert "".join(chunks) == text
    assert all(0 < len(c) <= 40 for c in chunks)
    assert len(chunks) > 10
    inner = tokens.encoding(encoding)
    assert sum(len(inner.encode_ordinary(c)) for c in chunks) == len(inner.encode_ordinary(text))


def test_a_text_with_no_boundary_is_still_cut_within_the_limit() -> None:
    text = "😀" * 100
    chunks = list(tokens.chunks(text, max_chars=30))
    assert "".join(chunks) == text
    assert [len(c) for c in chunks] == [30, 30, 30, 10]


LONG_WORDS = [
    "The",
    "ledger",
    "records",
    "every",
    "call,",
    "its",
    "tokens",
    "and",
    "cost.",
    "Naïve",
    "日本語",
]
SHORT_WORDS = ["a", "I", "x", "7", "é", "中", "?"]


@pytest.mark.parametrize("encoding", ENCODINGS)
@pytest.mark.parametrize(
    ("vocabulary", "words"),
    [
        (LONG_WORDS, 210_000),  # ~1.3M characters: over bpe-openai's 1M-character limit
        (SHORT_WORDS, 300_000),  # 600k characters, but over its 200k-token limit
    ],
)
def test_a_text_too_long_for_one_call_counts_as_the_sum_of_its_whitespace_split_parts(
    vocabulary: list[str], words: int, encoding: str
) -> None:
    text = " ".join(vocabulary[i % len(vocabulary)] for i in range(words))
    # Parts of 30,000 characters or so, each starting at a space after a word (every part
    # is short enough for the tokenizer to take whole).
    cuts = [0]
    while len(text) - cuts[-1] > 30_000:
        cuts.append(text.index(" ", cuts[-1] + 29_000))
    parts = [text[a:b] for a, b in zip(cuts, [*cuts[1:], len(text)], strict=True)]
    assert "".join(parts) == text
    n = tokens.count(text, encoding)
    assert n == sum(tokens.count(p, encoding) for p in parts)
    assert n > 200_000 or len(text) >= 1_000_000


@pytest.mark.parametrize("text", ["😀" * 300_000, "1" * 1_200_000, " " * 1_000_001])
def test_a_long_text_without_word_boundaries_is_counted_without_error(text: str) -> None:
    n = tokens.count(text, "cl100k_base")
    pieces = [text[i : i + 30_000] for i in range(0, len(text), 30_000)]
    # Cut mid-run, a few tokens per cut may fall either side; the count is still about right.
    assert abs(n - sum(tokens.count(p, "cl100k_base") for p in pieces)) <= 2 * len(pieces)

"""Real BPE token counts, and token pieces that rebuild the text exactly."""

from __future__ import annotations

import subprocess
import sys

import pytest

from fakeprovider import tokens

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
        "from fakeprovider import tokens; tokens.count('hi', 'cl100k_base'); tokens.count('hi', 'o200k_base')"
    )
    proc = subprocess.run(
        [sys.executable, "-W", "error", "-c", code], capture_output=True, text=True, timeout=60
    )
    assert proc.returncode == 0, proc.stderr

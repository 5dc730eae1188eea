"""Real BPE token counts, offline: cl100k_base and o200k_base through bpe-openai.

Which encoding a model uses is a catalogue field (cl100k for gpt-3.5/gpt-4/embeddings and, as a
documented stand-in, Claude; o200k for gpt-4o and newer OpenAI families).
"""

from __future__ import annotations

import unicodedata
import warnings
from collections.abc import Callable, Iterator
from functools import cache
from typing import Protocol

# bpe-openai refuses a text of 1,000,000 characters or more, and one of over 200,000 tokens, in
# one call. A character is at most 4 UTF-8 bytes and a token at least 1 byte, so a chunk of this
# many characters is under both limits whatever it holds.
SAFE_CHARS = 40_000


class Encoding(Protocol):
    name: str

    def encode_ordinary(self, text: str) -> list[int]: ...

    def decode_single_token_bytes(self, token: int) -> bytes: ...


class _ChunkedEncoding:
    """An encoding that takes a text of any length: a long one is encoded in chunks cut where
    the tokenizer's own pre-split cuts it too, so the ids are those of the whole text."""

    def __init__(self, inner: Encoding) -> None:
        self.name = inner.name
        self._encode = inner.encode_ordinary
        # Bound once: `pieces` calls it per token of every generated text.
        self.decode_single_token_bytes: Callable[[int], bytes] = inner.decode_single_token_bytes

    def encode_ordinary(self, text: str) -> list[int]:
        if len(text) <= SAFE_CHARS:
            return self._encode(text)
        ids: list[int] = []
        for chunk in chunks(text):
            ids += self._encode(chunk)
        return ids


@cache
def encoding(name: str) -> Encoding:
    """The (shared, cached) encoding called `name`; it encodes texts of any length."""
    # Imported here: bpe-openai takes half a second to import, which modules that only need the
    # fault and rule models (experiment files, locust workers) should not pay. It reads its data
    # through the legacy `importlib.resources.open_binary`, which warns; a user's test suite
    # with `filterwarnings = error` must not fail for that.
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", "open_binary is deprecated", DeprecationWarning)
        import bpe_openai

        inner: Encoding = bpe_openai.get_encoding(name)
    return _ChunkedEncoding(inner)


def chunks(text: str, max_chars: int = SAFE_CHARS) -> Iterator[str]:
    """`text` in consecutive chunks of at most `max_chars` characters, cut at token boundaries
    (see `_cut`) wherever the text has one, so the chunks' token counts sum to the text's."""
    start, end = 0, len(text)
    while end - start > max_chars:
        cut = _cut(text, start, start + max_chars)
        yield text[start:cut]
        start = cut
    yield text[start:]


def _cut(text: str, lo: int, hi: int) -> int:
    """The latest i in (lo, hi] where cl100k's and o200k's pre-split ends a piece whatever
    follows: before a space that follows a non-space (no piece runs from a non-space into a
    space), else between a letter and what cannot go on a letter run (a letter, a combining
    mark, an apostrophe starting a contraction). A text with neither, as long as a chunk (a
    run of digits, punctuation or emoji), is cut at `hi`: its count may then be off by a
    token or two."""
    i = text.rfind(" ", lo + 1, hi + 1)
    while i > lo:
        if not text[i - 1].isspace():
            return i
        i = text.rfind(" ", lo + 1, i)
    for i in range(hi, lo, -1):
        after = text[i]
        if (
            text[i - 1].isalpha()
            and not after.isalnum()
            and after not in "'\u2019"
            and not unicodedata.category(after).startswith("M")
        ):
            return i
    return hi


def count(text: str, encoding_name: str) -> int:
    return len(encoding(encoding_name).encode_ordinary(text))


def pieces(text: str, encoding_name: str) -> list[tuple[str, int]]:
    """Split `text` into its tokens as (text, token count) pieces, in order.

    A token that ends inside a multi-byte character is merged with the next, so every piece
    is valid text; the counts always sum to the text's real token count.
    """
    enc = encoding(encoding_name)
    out: list[tuple[str, int]] = []
    buf = b""
    n = 0
    for token in enc.encode_ordinary(text):
        buf += enc.decode_single_token_bytes(token)
        n += 1
        try:
            piece = buf.decode("utf-8")
        except UnicodeDecodeError:
            continue
        out.append((piece, n))
        buf, n = b"", 0
    if buf:
        out.append((buf.decode("utf-8", errors="replace"), n))
    return out


# Chat framing as OpenAI documents it: every message costs 3 tokens beyond its content, a
# name 1 more, and the reply is primed with 3.
MESSAGE_OVERHEAD = 3
NAME_OVERHEAD = 1
REPLY_PRIMING = 3
IMAGE_TOKENS = 85

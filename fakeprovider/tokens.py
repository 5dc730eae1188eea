"""Real BPE token counts, offline: cl100k_base and o200k_base through bpe-openai.

Which encoding a model uses is a catalogue field (cl100k for gpt-3.5/gpt-4/embeddings and, as a
documented stand-in, Claude; o200k for gpt-4o and newer OpenAI families).
"""

from __future__ import annotations

import warnings
from functools import cache
from typing import Protocol


class Encoding(Protocol):
    name: str

    def encode_ordinary(self, text: str) -> list[int]: ...

    def decode_single_token_bytes(self, token: int) -> bytes: ...


@cache
def encoding(name: str) -> Encoding:
    """The (shared, cached) encoding called `name`."""
    # Imported here: bpe-openai takes half a second to import, which modules that only need the
    # fault and rule models (experiment files, locust workers) should not pay. It reads its data
    # through the legacy `importlib.resources.open_binary`, which warns; a user's test suite
    # with `filterwarnings = error` must not fail for that.
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", "open_binary is deprecated", DeprecationWarning)
        import bpe_openai

        enc: Encoding = bpe_openai.get_encoding(name)
    return enc


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

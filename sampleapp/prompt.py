"""The prompt assembler: builds a route's messages and enforces its input-token budget with the
model's real tokenizer (bpe-openai), counted the way OpenAI bills a chat prompt.

The budget is a contract: over it, a route either refuses (413 `input_too_long`, before any
provider call) or trims what it may trim; the caller is told which.
"""

from __future__ import annotations

import re
import warnings
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cache
from typing import Literal, Protocol

from openai.types.chat import ChatCompletionMessageParam

from sampleapp.errors import RouteError

# bpe-openai reads its data through the legacy `importlib.resources.open_binary`, which warns.
_LEGACY_RESOURCES = "open_binary is deprecated"
with warnings.catch_warnings():
    warnings.filterwarnings("ignore", _LEGACY_RESOURCES, DeprecationWarning)
    import bpe_openai

Role = Literal["system", "user", "assistant"]

# OpenAI's documented chat framing: every message costs 3 tokens plus its role, and the reply
# is primed with 3 more.
MESSAGE_OVERHEAD = 3
REPLY_PRIMING = 3

# Model families on o200k_base; everything older (gpt-4, gpt-3.5, embeddings) is cl100k_base.
_O200K = re.compile(r"^(chatgpt-4o|gpt-4o|gpt-4\.\d|gpt-[5-9]|gpt-\d\d|o\d)")


class _Encoding(Protocol):
    def encode_ordinary(self, text: str) -> list[int]: ...

    def decode(self, tokens: list[int]) -> str: ...


def encoding_name(model: str) -> str:
    return "o200k_base" if _O200K.match(model) else "cl100k_base"


@cache
def _encoding(name: str) -> _Encoding:
    # Loading an encoding takes about a second: once per process, never per request.
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", _LEGACY_RESOURCES, DeprecationWarning)
        enc: _Encoding = bpe_openai.get_encoding(name)
    return enc


@dataclass(frozen=True, slots=True)
class Turn:
    role: Role
    text: str

    def message(self) -> ChatCompletionMessageParam:
        if self.role == "system":
            return {"role": "system", "content": self.text}
        if self.role == "assistant":
            return {"role": "assistant", "content": self.text}
        return {"role": "user", "content": self.text}


@dataclass(frozen=True, slots=True)
class Prompt:
    turns: tuple[Turn, ...]
    input_tokens: int
    trimmed: bool = False

    def messages(self) -> list[ChatCompletionMessageParam]:
        return [t.message() for t in self.turns]


def input_too_long(input_tokens: int, max_input_tokens: int, what: str = "the input") -> RouteError:
    return RouteError(
        413,
        "input_too_long",
        f"{what} is {input_tokens} tokens; this route takes at most {max_input_tokens}",
        extra={"input_tokens": input_tokens, "max_input_tokens": max_input_tokens},
    )


class Assembler:
    """Counts and fits prompts for one model. `cap=False` (the `no_token_cap` flaw) counts but
    never refuses or trims."""

    def __init__(self, model: str, *, cap: bool = True) -> None:
        self._enc = _encoding(encoding_name(model))
        self.cap = cap
        self._role_tokens = {r: len(self._enc.encode_ordinary(r)) for r in ("system", "user", "assistant")}

    def count_text(self, text: str) -> int:
        return len(self._enc.encode_ordinary(text)) if text else 0

    def count(self, turns: Sequence[Turn], extra_tokens: int = 0) -> int:
        n = REPLY_PRIMING + extra_tokens
        for t in turns:
            n += MESSAGE_OVERHEAD + self._role_tokens[t.role] + self.count_text(t.text)
        return n

    def check(self, turns: Sequence[Turn], max_input_tokens: int, extra_tokens: int = 0) -> Prompt:
        """The prompt as is, or 413 when it is over budget."""
        n = self.count(turns, extra_tokens)
        if self.cap and n > max_input_tokens:
            raise input_too_long(n, max_input_tokens)
        return Prompt(tuple(turns), n)

    def trim(self, turns: Sequence[Turn], index: int, max_input_tokens: int) -> Prompt:
        """The prompt with `turns[index]`'s text cut to fit the budget (413 if nothing fits)."""
        n = self.count(turns)
        if not self.cap or n <= max_input_tokens:
            return Prompt(tuple(turns), n)
        target = turns[index]
        ids = self._enc.encode_ordinary(target.text)
        keep = len(ids) - (n - max_input_tokens)
        while keep > 0:
            # A cut inside a multi-byte character decodes to a replacement character, which
            # can count differently: recount, and shorten until the whole prompt fits.
            cut = Turn(target.role, self._enc.decode(ids[:keep]).rstrip("\ufffd"))
            fitted = [*turns[:index], cut, *turns[index + 1 :]]
            m = self.count(fitted)
            if m <= max_input_tokens:
                return Prompt(tuple(fitted), m, trimmed=True)
            keep -= m - max_input_tokens
        raise input_too_long(n, max_input_tokens, "even without the text, the prompt")

    def drop_oldest(self, turns: Sequence[Turn], first: int, last: int, max_input_tokens: int) -> Prompt:
        """The prompt without the oldest of `turns[first:last]` (history) until it fits; 413
        when it does not fit even without them."""
        n = self.count(turns)
        if not self.cap or n <= max_input_tokens:
            return Prompt(tuple(turns), n)
        kept = list(turns)
        dropped = 0
        for t in turns[first:last]:
            n -= MESSAGE_OVERHEAD + self._role_tokens[t.role] + self.count_text(t.text)
            dropped += 1
            if n <= max_input_tokens:
                break
        if n > max_input_tokens:
            raise input_too_long(n, max_input_tokens, "the message")
        del kept[first : first + dropped]
        return Prompt(tuple(kept), n, trimmed=True)


def warm(*models: str) -> None:
    """Load the encodings these models use (call at start, off the event loop)."""
    for m in models:
        _encoding(encoding_name(m))

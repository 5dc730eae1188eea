"""Strings valid against a JSON Schema string node: free text, a common `format`, a `pattern`.

Kept apart from the generator's walk over a schema's structure: a string is made from one node
alone, out of the content pool's words, and a `pattern` hands over to `patterns`.
"""

from __future__ import annotations

import random
import re
import uuid
from typing import TYPE_CHECKING, Any

from fakeprovider.generation.schema.patterns import sample_pattern

if TYPE_CHECKING:
    from fakeprovider.generation.schema.values import Schema


def string_value(s: Schema, words: tuple[str, ...], rng: random.Random) -> str:
    """A string within `s`'s length bounds: its `format`, else its `pattern`, else words."""
    lo = int(s.get("minLength", 0))
    hi = s.get("maxLength")
    text = _formatted(s.get("format"), words, rng)
    pattern = s.get("pattern")
    if isinstance(pattern, str) and (text is None or not re.search(pattern, text)):
        for _ in range(16):
            sample = sample_pattern(pattern, rng)
            if sample is not None and len(sample) >= lo and (hi is None or len(sample) <= int(hi)):
                return sample
    if text is None:
        text = " ".join(rng.choice(words) for _ in range(rng.randint(1, 4)))
    while len(text) < lo:
        text += " " + rng.choice(words)
    if hi is not None:
        text = text[: int(hi)]
    return text


def _formatted(fmt: Any, words: tuple[str, ...], rng: random.Random) -> str | None:
    """A string in a common `format`, or None for free text."""
    if fmt in ("date-time", "date"):
        day = f"2025-{rng.randint(1, 12):02d}-{rng.randint(1, 28):02d}"
        return day + "T12:00:00Z" if fmt == "date-time" else day
    if fmt == "time":
        return f"{rng.randint(0, 23):02d}:{rng.randint(0, 59):02d}:00"
    if fmt == "email":
        return f"{rng.choice(words)}@example.com"
    if fmt in ("uri", "url"):
        return f"https://example.com/{rng.choice(words)}"
    if fmt == "uuid":
        return str(uuid.UUID(int=rng.getrandbits(128), version=4))
    return None

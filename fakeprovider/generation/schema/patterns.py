"""Strings that a regular expression (a JSON Schema `pattern`) accepts, sampled from its parse tree.

A regex sampler is its own small interpreter over Python's parser output, unrelated to the rest
of a schema; `re.fullmatch` has the last word on every sample, so a construct sampled loosely
(anchors, look-arounds, atomic groups and possessive repeats, which the engine never backtracks
into) never yields a string the pattern refuses.
"""

from __future__ import annotations

import importlib
import random
import re
import string
from typing import Any

# Python's own regex parser (public as `sre_parse` until 3.11, which now warns on that name).
_re_parser: Any = importlib.import_module("re._parser")
_ALPHABET = string.ascii_letters + string.digits + " -_.,:/@"
_CATEGORY_TEST = {
    "CATEGORY_DIGIT": str.isdigit,
    "CATEGORY_WORD": lambda c: c.isalnum() or c == "_",
    "CATEGORY_SPACE": str.isspace,
}


class _Unsupported(Exception):
    """A regex construct the sampler does not write strings for (back-references)."""


def sample_pattern(pattern: str, rng: random.Random) -> str | None:
    """A string the whole of which `pattern` matches (so `re.search` accepts it too), or None
    when none could be made."""
    try:
        parsed = _re_parser.parse(pattern)
        out: list[str] = []
        _emit(parsed, rng, out)
    except (re.error, _Unsupported, RecursionError, IndexError):
        return None
    text = "".join(out)
    return text if re.fullmatch(pattern, text) else None


def _emit(items: Any, rng: random.Random, out: list[str]) -> None:
    for op, arg in items:
        name = str(op)
        if name == "LITERAL":
            out.append(chr(arg))
        elif name == "NOT_LITERAL":
            out.append(rng.choice([c for c in string.ascii_letters if ord(c) != arg]))
        elif name == "ANY":
            out.append(rng.choice(string.ascii_letters))
        elif name == "IN":
            out.append(_class_char(arg, rng))
        elif name in ("MAX_REPEAT", "MIN_REPEAT", "POSSESSIVE_REPEAT"):
            lo, hi, sub = arg
            for _ in range(rng.randint(lo, max(lo, min(hi, lo + 8)))):
                _emit(sub, rng, out)
        elif name == "SUBPATTERN":
            _emit(arg[-1], rng, out)  # (group, add flags, del flags, items)
        elif name == "ATOMIC_GROUP":
            # Its items bare, not in a tuple. Once the group has matched, the engine never goes
            # back into it, so a sample that needed it to (`(?>a|ab)c` as "abc") fails the check.
            _emit(arg, rng, out)
        elif name == "BRANCH":
            _emit(rng.choice(arg[1]), rng, out)
        elif name in ("AT", "ASSERT", "ASSERT_NOT"):
            continue  # anchors and look-arounds write nothing; the final check decides
        else:
            raise _Unsupported(name)


def _class_char(items: list[tuple[Any, Any]], rng: random.Random) -> str:
    negate = bool(items) and str(items[0][0]) == "NEGATE"
    extra = [chr(arg) for op, arg in items if str(op) == "LITERAL"]
    extra += [chr(arg[0]) for op, arg in items if str(op) == "RANGE"]

    def member(c: str) -> bool:
        for op, arg in items:
            name = str(op)
            if name == "LITERAL" and ord(c) == arg:
                return True
            if name == "RANGE" and arg[0] <= ord(c) <= arg[1]:
                return True
            if name == "CATEGORY":
                cat = str(arg)
                test = _CATEGORY_TEST.get(cat.replace("_NOT", ""))
                if test is not None and test(c) != ("_NOT_" in cat):
                    return True
        return False

    candidates = [c for c in dict.fromkeys(_ALPHABET + "".join(extra)) if member(c) != negate]
    if not candidates:
        raise _Unsupported("empty character class")
    return rng.choice(candidates)

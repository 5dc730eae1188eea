"""Provider-style random ids (`chatcmpl-…`, `msg_01…`, `req_…`), cheap on the request path."""

from __future__ import annotations

import os
import random
import string

ALNUM = string.ascii_letters + string.digits
# os.urandom bytes mapped onto the 62 characters: bytes 0..247 (4 x 62) map evenly, 248..255 are
# dropped, so every character is equally likely, as with `secrets.choice`, at a 30th of the cost.
_REJECT = bytes(range(248, 256))
_TO_ALNUM = bytes(ord(ALNUM[b % 62]) for b in range(248)) + _REJECT
_TO_LOWER = bytes(ord(ALNUM[b % 62].lower()) for b in range(248)) + _REJECT


def _alnum(n: int, table: bytes) -> str:
    out = b""
    while len(out) < n:
        out += os.urandom(n + 8).translate(table, _REJECT)
    return out[:n].decode("ascii")


def random_id(prefix: str, n: int, rng: random.Random | None = None) -> str:
    """`prefix` and `n` alphanumerics: from `rng` when given (reproducible), else the OS."""
    if rng is not None:
        return prefix + "".join(rng.choices(ALNUM, k=n))
    return prefix + _alnum(n, _TO_ALNUM)


def random_lower_id(prefix: str, n: int) -> str:
    return prefix + _alnum(n, _TO_LOWER)

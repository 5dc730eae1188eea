"""Provider-style random ids (`chatcmpl-…`, `msg_01…`, `req_…`), cheap on the request path."""

from __future__ import annotations

import os
import random
import string
import threading

ALNUM = string.ascii_letters + string.digits
# os.urandom bytes mapped onto the 62 characters: bytes 0..247 (4 x 62) map evenly, 248..255 are
# dropped, so every character is equally likely, as with `secrets.choice`, at a 30th of the cost.
_REJECT = bytes(range(248, 256))
_TO_ALNUM = bytes(ord(ALNUM[b % 62]) for b in range(248)) + _REJECT
_TO_LOWER = bytes(ord(ALNUM[b % 62].lower()) for b in range(248)) + _REJECT
# One system call serves about a hundred ids.
_BATCH = 4096


class _Characters:
    """Random characters of one alphabet, read from the OS a batch at a time."""

    def __init__(self, table: bytes) -> None:
        self._table = table
        self._buf = ""
        self._pos = 0
        self._lock = threading.Lock()

    def take(self, n: int) -> str:
        with self._lock:
            pos = self._pos
            end = pos + n
            if end > len(self._buf):
                fresh = self._buf[pos:]
                while len(fresh) < n:
                    fresh += os.urandom(max(_BATCH, 2 * n)).translate(self._table, _REJECT).decode("ascii")
                self._buf = fresh
                pos, end = 0, n
            self._pos = end
            return self._buf[pos:end]

    def forget(self) -> None:
        """Drop the batch: a forked child must not hand out its parent's characters."""
        self._lock = threading.Lock()
        self._buf = ""
        self._pos = 0


_ALNUM_CHARS = _Characters(_TO_ALNUM)
_LOWER_CHARS = _Characters(_TO_LOWER)


def _after_fork() -> None:
    _ALNUM_CHARS.forget()
    _LOWER_CHARS.forget()


os.register_at_fork(after_in_child=_after_fork)


def random_id(prefix: str, n: int, rng: random.Random | None = None) -> str:
    """`prefix` and `n` alphanumerics: from `rng` when given (reproducible), else the OS."""
    if rng is not None:
        return prefix + "".join(rng.choices(ALNUM, k=n))
    return prefix + _ALNUM_CHARS.take(n)


def random_lower_id(prefix: str, n: int) -> str:
    return prefix + _LOWER_CHARS.take(n)

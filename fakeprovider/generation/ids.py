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
_TO_HEX = bytes(ord("0123456789abcdef"[b % 16]) for b in range(256))  # 16 divides 256: none dropped
# One system call serves a batch of ids.
_IDS_PER_BATCH = 128


class _Characters:
    """Random strings of one alphabet, cut a batch at a time from bytes read from the OS."""

    def __init__(self, table: bytes, reject: bytes = _REJECT) -> None:
        self._table = table
        self._reject = reject
        self._ready: dict[int, list[str]] = {}  # strings of each length, not handed out yet
        self._lock = threading.Lock()

    def take(self, n: int) -> str:
        ready = self._ready.get(n)
        if ready:
            try:
                # One C call, atomic under the GIL: no two threads get the same string, and
                # the common case takes no lock.
                return ready.pop()
            except IndexError:
                pass  # another thread took the last one
        return self._refill(n)

    def _refill(self, n: int) -> str:
        with self._lock:
            need = n * _IDS_PER_BATCH
            chars = ""
            while len(chars) < need:
                # About 3% of the bytes are dropped: an eighth more is nearly always enough.
                chars += os.urandom(need + need // 8).translate(self._table, self._reject).decode("ascii")
            strings = [chars[i : i + n] for i in range(0, need, n)]
            taken = strings.pop()
            self._ready[n] = strings
            return taken

    def forget(self) -> None:
        """Drop the batch: a forked child must not hand out its parent's characters."""
        self._lock = threading.Lock()
        self._ready = {}


_ALNUM_CHARS = _Characters(_TO_ALNUM)
_LOWER_CHARS = _Characters(_TO_LOWER)
_HEX_CHARS = _Characters(_TO_HEX, reject=b"")


def _after_fork() -> None:
    _ALNUM_CHARS.forget()
    _LOWER_CHARS.forget()
    _HEX_CHARS.forget()


os.register_at_fork(after_in_child=_after_fork)


def random_id(prefix: str, n: int, rng: random.Random | None = None) -> str:
    """`prefix` and `n` alphanumerics: from `rng` when given (reproducible), else the OS."""
    if rng is not None:
        return prefix + "".join(rng.choices(ALNUM, k=n))
    return prefix + _ALNUM_CHARS.take(n)


def random_lower_id(prefix: str, n: int) -> str:
    return prefix + _LOWER_CHARS.take(n)


def random_hex(n: int) -> str:
    """`n` random lower-case hex digits, from the OS a batch at a time."""
    return _HEX_CHARS.take(n)

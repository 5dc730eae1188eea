"""Per-request random numbers read from a BLAKE2b stream of the request's key.

A plan needs a dozen draws per request. Seeding a Mersenne Twister for them costs about 4 µs
(its 624-word state is built whatever the seed); hashing the key costs a tenth of that, and
every draw is a step of C iterators, not a Python call.
"""

from __future__ import annotations

import hashlib
import operator
import random
import struct
from collections.abc import Iterator
from itertools import chain, count, repeat
from typing import Any, NoReturn

_WORDS = struct.Struct("<8Q")
_BITS = 53  # random bits in one draw: a double's precision, as `random.Random.random` gives
# Endless repeats have no state to advance, so every stream of draws can share these two.
_SHIFTS = repeat(64 - _BITS)
_SCALES = repeat(2.0**-_BITS)
_blake2b = hashlib.blake2b


def _units(digest: bytes) -> Iterator[float]:
    """The eight draws of one 64-byte digest: each word's top 53 bits over 2**53, lazily (C
    iterators all the way, so a draw costs no Python call)."""
    return map(operator.mul, map(operator.rshift, _WORDS.unpack(digest), _SHIFTS), _SCALES)


def _block(key: bytes, i: int) -> Iterator[float]:
    """The draws of block `i` (1, 2, ...): the key hashed with salt i; block 0's salt is zero."""
    return _units(_blake2b(key, salt=i.to_bytes(16, "little")).digest())


class DigestRandom(random.Random):
    """A `random.Random` whose draws are fixed by its key: for the same key, `random()` gives
    the same numbers on any machine (they come from BLAKE2b, not from the interpreter's
    generator).

    Every method of `random.Random` works on top of `random()` and `getrandbits()`.
    """

    def __init__(self, key: bytes = b"") -> None:
        # No super().__init__(): it would seed the Mersenne Twister this class never reads.
        self.rekey(key)

    def rekey(self, key: bytes) -> None:
        """Start over with the draws of `key` (as a new `DigestRandom(key)` would)."""
        later = chain.from_iterable(map(_block, repeat(key), count(1)))
        # An attribute, not a method: a draw is then a C call (`random.Random`'s own methods
        # look `self.random` up, so they use it too).
        self.random = chain(_units(_blake2b(key).digest()), later).__next__  # type: ignore[method-assign]
        self.gauss_next = None

    def getrandbits(self, k: int) -> int:
        if k < 0:
            raise ValueError("number of bits must be non-negative")
        out = 0
        got = 0
        while got < k:
            out = (out << _BITS) | int(self.random() * (1 << _BITS))
            got += _BITS
        return out >> (got - k)

    def seed(self, *args: Any, **kwargs: Any) -> NoReturn:
        raise TypeError("a DigestRandom is fixed by its key; rekey it instead")

    def getstate(self) -> NoReturn:
        raise TypeError("a DigestRandom has no Mersenne Twister state")

    def setstate(self, state: Any) -> NoReturn:
        raise TypeError("a DigestRandom has no Mersenne Twister state")

"""Decoding the AWS event stream (`application/vnd.amazon.eventstream`) a Bedrock stream is
framed in: the recorder's and the tests' way from bytes to `RecordedEvent`s.

The encoder is `fakeprovider.dialects.bedrock.eventstream` (the framing is described there).
`EventStreamDecoder.feed` takes bytes as they arrive, in pieces of any size, and gives the
messages completed so far, both CRCs checked; a recorded event is then `event` = the message's
`:event-type` (or `:exception-type`) and `data` = its JSON payload.
"""

from __future__ import annotations

import struct
import zlib
from dataclasses import dataclass

import orjson

from fakeprovider.replay.cassette import RecordedEvent

_PRELUDE = struct.Struct(">III")  # total length, headers length, prelude CRC
_U16 = struct.Struct(">H")
_U32 = struct.Struct(">I")
MAX_MESSAGE = 16 * 1024 * 1024  # AWS caps a message at 16 MiB; a longer prelude is garbage
# Fixed widths of the header value types that are not length-prefixed (type byte: width).
_FIXED = {0: 0, 1: 0, 2: 1, 3: 2, 4: 4, 5: 8, 8: 8, 9: 16}


class EventStreamError(ValueError):
    """Bytes that are no AWS event stream: a bad length, a CRC mismatch, a bad header."""


@dataclass(frozen=True, slots=True)
class Message:
    headers: dict[str, object]
    payload: bytes

    def recorded(self, t_ms: float) -> RecordedEvent:
        """As a cassette keeps it: the event (or exception) type, the payload as JSON."""
        name = self.headers.get(":event-type") or self.headers.get(":exception-type")
        try:
            data: object = orjson.loads(self.payload) if self.payload else None
        except orjson.JSONDecodeError:
            data = self.payload.decode("utf-8", "replace")
        return RecordedEvent(t_ms, name if isinstance(name, str) else None, data)


def _headers(raw: bytes) -> dict[str, object]:
    out: dict[str, object] = {}
    i = 0
    while i < len(raw):
        size = raw[i]
        name = raw[i + 1 : i + 1 + size].decode()
        i += 1 + size
        if i >= len(raw):
            raise EventStreamError(f"header {name!r}: no value type")
        kind = raw[i]
        i += 1
        if kind in (6, 7):  # bytes, string: a uint16 length, then the value
            (length,) = _U16.unpack_from(raw, i)
            value = raw[i + 2 : i + 2 + length]
            out[name] = value.decode() if kind == 7 else value
            i += 2 + length
        elif kind in _FIXED:
            width = _FIXED[kind]
            out[name] = kind == 0 if kind in (0, 1) else int.from_bytes(raw[i : i + width], "big")
            i += width
        else:
            raise EventStreamError(f"header {name!r}: unknown value type {kind}")
    if i != len(raw):
        raise EventStreamError("headers run past their length")
    return out


class EventStreamDecoder:
    """Messages out of a byte stream fed in pieces; what is left is kept for the next `feed`."""

    def __init__(self) -> None:
        self._buffer = bytearray()

    def feed(self, data: bytes) -> list[Message]:
        self._buffer += data
        out: list[Message] = []
        while len(self._buffer) >= 12:
            total, head_len, prelude_crc = _PRELUDE.unpack_from(self._buffer)
            if zlib.crc32(self._buffer[:8]) != prelude_crc:
                raise EventStreamError("prelude CRC mismatch")
            if total < 16 + head_len or total > MAX_MESSAGE:
                raise EventStreamError(f"message length {total} is impossible")
            if len(self._buffer) < total:
                break
            message = bytes(self._buffer[:total])
            del self._buffer[:total]
            (crc,) = _U32.unpack_from(message, total - 4)
            if zlib.crc32(message[:-4]) != crc:
                raise EventStreamError("message CRC mismatch")
            out.append(Message(_headers(message[12 : 12 + head_len]), message[12 + head_len : -4]))
        return out

    @property
    def pending(self) -> int:
        """Bytes of a message not yet complete (a stream that ends with some was cut)."""
        return len(self._buffer)

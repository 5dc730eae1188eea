"""AWS event stream framing (`application/vnd.amazon.eventstream`), as botocore decodes it.

A message is a prelude (total length, headers length: big-endian uint32s), the prelude's CRC32,
the headers, the payload, and the CRC32 of everything before it. A header is its name's length
(one byte), the name, a type byte (7: string), the value's length (uint16) and the value.

Every event of one kind carries the same headers, so they are encoded once per event type
(`event_headers`); a frame then costs two `zlib.crc32` calls and a join.
"""

from __future__ import annotations

import struct
import zlib

CONTENT_TYPE = "application/vnd.amazon.eventstream"
_STRING = 7
_PRELUDE = struct.Struct(">II")
_CRC = struct.Struct(">I")


def encode_headers(headers: dict[str, str]) -> bytes:
    """Headers as the event stream writes them: every value a string."""
    out = bytearray()
    for name, value in headers.items():
        raw_name, raw_value = name.encode(), value.encode()
        out += bytes((len(raw_name),)) + raw_name + bytes((_STRING,)) + struct.pack(">H", len(raw_value))
        out += raw_value
    return bytes(out)


def frame(headers: bytes, payload: bytes) -> bytes:
    """One message: prelude, prelude CRC, `headers` (already encoded), `payload`, message CRC."""
    prelude = _PRELUDE.pack(16 + len(headers) + len(payload), len(headers))
    head = prelude + _CRC.pack(zlib.crc32(prelude)) + headers
    crc = zlib.crc32(payload, zlib.crc32(head))
    return head + payload + _CRC.pack(crc)


def event_headers(event_type: str) -> bytes:
    """The encoded headers of an `event` message of `event_type` with a JSON payload."""
    return encode_headers(
        {":event-type": event_type, ":content-type": "application/json", ":message-type": "event"}
    )


def exception_headers(exception_type: str) -> bytes:
    """The encoded headers of an `exception` message (a modelled error ending the stream)."""
    return encode_headers(
        {
            ":exception-type": exception_type,
            ":content-type": "application/json",
            ":message-type": "exception",
        }
    )


# --- decoding (the recording proxy reads a real stream with it) ---------------------------------

MAX_MESSAGE_BYTES = 16 * 1024 * 1024 + 128 * 1024  # botocore's payload and headers caps
_MIN_MESSAGE = 16  # prelude, prelude CRC, message CRC
_HEADER_SIZES = {2: 1, 3: 2, 4: 4, 5: 8, 8: 8, 9: 16}  # fixed-size value types
_HEADER_INTS = {2: ">b", 3: ">h", 4: ">i", 5: ">q", 8: ">q"}


class EventStreamError(ValueError):
    """Bytes that are not an AWS event stream: a bad length, a CRC mismatch, an unknown type."""


HeaderValue = str | bytes | bool | int


def decode_headers(raw: bytes) -> dict[str, HeaderValue]:
    """The headers of one message, every type botocore reads (strings as `str`, byte arrays and
    UUIDs as `bytes`, timestamps as milliseconds)."""
    out: dict[str, HeaderValue] = {}
    i, end = 0, len(raw)
    while i < end:
        n = raw[i]
        name = raw[i + 1 : i + 1 + n].decode("utf-8", "replace")
        i += 1 + n
        if i >= end:
            raise EventStreamError(f"header {name!r}: no value type")
        kind = raw[i]
        i += 1
        value: HeaderValue
        if kind in (0, 1):
            value = kind == 0
        elif kind in (6, 7):
            (length,) = struct.unpack_from(">H", raw, i)
            data = raw[i + 2 : i + 2 + length]
            i += 2 + length
            value = data.decode("utf-8", "replace") if kind == _STRING else data
        elif kind in _HEADER_SIZES:
            size = _HEADER_SIZES[kind]
            data = raw[i : i + size]
            i += size
            value = struct.unpack(_HEADER_INTS[kind], data)[0] if kind in _HEADER_INTS else data
        else:
            raise EventStreamError(f"header {name!r}: unknown value type {kind}")
        if i > end:
            raise EventStreamError(f"header {name!r}: value runs past the headers")
        out[name] = value
    return out


class Decoder:
    """Messages out of a byte stream fed in pieces as they arrive: `feed` returns the messages the
    new bytes completed, each `(headers, payload)`, both CRCs checked."""

    def __init__(self) -> None:
        self._buf = bytearray()

    @property
    def pending(self) -> int:
        """Bytes of a message not yet complete (non-zero at the end: the stream was cut)."""
        return len(self._buf)

    def feed(self, data: bytes) -> list[tuple[dict[str, HeaderValue], bytes]]:
        self._buf += data
        out: list[tuple[dict[str, HeaderValue], bytes]] = []
        buf = self._buf
        start = 0
        while len(buf) - start >= 12:
            total, headers_len = _PRELUDE.unpack_from(buf, start)
            if not _MIN_MESSAGE <= total <= MAX_MESSAGE_BYTES or headers_len > total - _MIN_MESSAGE:
                raise EventStreamError(f"a message of {total} bytes with {headers_len} of headers")
            if len(buf) - start < total:
                break
            message = bytes(buf[start : start + total])
            (prelude_crc,) = _CRC.unpack_from(message, 8)
            if zlib.crc32(message[:8]) != prelude_crc:
                raise EventStreamError("prelude CRC mismatch")
            (message_crc,) = _CRC.unpack_from(message, total - 4)
            if zlib.crc32(message[: total - 4]) != message_crc:
                raise EventStreamError("message CRC mismatch")
            headers = decode_headers(message[12 : 12 + headers_len])
            out.append((headers, message[12 + headers_len : total - 4]))
            start += total
        del buf[:start]
        return out

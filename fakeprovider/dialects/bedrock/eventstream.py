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

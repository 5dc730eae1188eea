"""Splitting a recorded stream into events: SSE lines and AWS event stream frames, with timings."""

from __future__ import annotations

import struct
import zlib

import pytest

from fakeprovider.dialects.bedrock.eventstream import (
    Decoder,
    EventStreamError,
    encode_headers,
    event_headers,
    frame,
)
from fakeprovider.replay.cassette import RecordedEvent
from fakeprovider.replay.frames import eventstream_events, sse_events


def test_sse_events_are_stamped_when_their_blank_line_arrives() -> None:
    chunks = [
        (1.0, b'event: delta\ndata: {"a"'),
        (2.0, b": 1}\n"),
        (3.0, b"\n: keep-alive\r\ndata: one\r\ndata: two\r\n\r\n"),
        (4.0, b"data: [DONE]\n\n"),
    ]
    assert sse_events(chunks) == [
        RecordedEvent(3.0, "delta", {"a": 1}),
        RecordedEvent(3.0, comment="keep-alive"),
        RecordedEvent(3.0, None, "one\ntwo"),
        RecordedEvent(4.0, None, "[DONE]"),
    ]


def test_an_sse_event_cut_before_its_blank_line_is_kept() -> None:
    assert sse_events([(5.0, b"data: {}\n\ndata: partial")]) == [
        RecordedEvent(5.0, None, {}),
        RecordedEvent(5.0, None, "partial"),
    ]


def test_aws_event_stream_frames_split_across_chunks_are_decoded() -> None:
    body = frame(event_headers("messageStart"), b'{"role":"assistant"}') + frame(
        event_headers("metadata"), b'{"usage":{"inputTokens":3}}'
    )
    chunks = [(1.0, body[:7]), (2.0, body[7:60]), (3.0, body[60:])]
    events = eventstream_events(chunks)
    assert [(e.event, e.data) for e in events] == [
        ("messageStart", {"role": "assistant"}),
        ("metadata", {"usage": {"inputTokens": 3}}),
    ]
    assert events[-1].t_ms == 3.0


def test_a_corrupt_frame_is_refused_by_its_crc() -> None:
    good = frame(event_headers("messageStop"), b"{}")
    bad = good[:-5] + bytes([good[-5] ^ 1]) + good[-4:]
    with pytest.raises(EventStreamError, match="message CRC"):
        Decoder().feed(bad)
    events = eventstream_events([(1.0, good), (2.0, bad)])
    assert events[0].event == "messageStop"
    assert events[1].comment is not None
    assert "CRC" in events[1].comment


def test_header_types_other_than_strings_are_read() -> None:
    raw = encode_headers({":event-type": "x"})
    raw += bytes((4,)) + b"flag" + bytes((0,))  # bool true
    raw += bytes((3,)) + b"num" + bytes((4,)) + struct.pack(">i", -7)  # int32
    prelude = struct.pack(">II", 16 + len(raw), len(raw))
    head = prelude + struct.pack(">I", zlib.crc32(prelude)) + raw
    message = head + struct.pack(">I", zlib.crc32(head))
    [(headers, payload)] = Decoder().feed(message)
    assert headers == {":event-type": "x", "flag": True, "num": -7}
    assert payload == b""

"""The AWS event-stream decoder the recorder uses: what botocore decodes, fed in pieces of any
size; a half message waits; bad bytes refused."""

from __future__ import annotations

import pytest
from botocore.eventstream import EventStreamBuffer

from fakeprovider.dialects.bedrock.eventstream import (
    Decoder,
    EventStreamError,
    event_headers,
    exception_headers,
    frame,
)
from fakeprovider.replay.cassette import RecordedEvent
from fakeprovider.replay.frames import eventstream_events

FRAMES = [
    frame(event_headers("messageStart"), b'{"role":"assistant"}'),
    frame(event_headers("contentBlockDelta"), b'{"contentBlockIndex":0,"delta":{"text":"h\xc3\xa9"}}'),
    frame(exception_headers("throttlingException"), b'{"message":"slow down"}'),
]
DATA = b"".join(FRAMES)


@pytest.mark.parametrize("piece", [1, 7, 64, len(DATA)])
def test_messages_fed_in_pieces_decode_as_botocore_decodes_them(piece: int) -> None:
    decoder = Decoder()
    messages = []
    for i in range(0, len(DATA), piece):
        messages += decoder.feed(DATA[i : i + piece])
    assert decoder.pending == 0
    buffer = EventStreamBuffer()
    buffer.add_data(DATA)
    assert messages == [(b.headers, b.payload) for b in buffer]
    pieces = [(5.0, DATA[i : i + piece]) for i in range(0, len(DATA), piece)]
    assert eventstream_events(pieces) == [
        RecordedEvent(5.0, "messageStart", {"role": "assistant"}),
        RecordedEvent(5.0, "contentBlockDelta", {"contentBlockIndex": 0, "delta": {"text": "hé"}}),
        RecordedEvent(5.0, "throttlingException", {"message": "slow down"}),
    ]


def test_a_half_message_waits_for_the_rest() -> None:
    decoder = Decoder()
    assert decoder.feed(FRAMES[0][:-3]) == []
    assert decoder.pending == len(FRAMES[0]) - 3
    assert len(decoder.feed(FRAMES[0][-3:])) == 1


@pytest.mark.parametrize(("at", "match"), [(9, "prelude CRC"), (-1, "message CRC")])
def test_a_corrupted_frame_is_refused(at: int, match: str) -> None:
    bad = bytearray(FRAMES[1])
    bad[at] ^= 0xFF
    with pytest.raises(EventStreamError, match=match):
        Decoder().feed(bytes(bad))

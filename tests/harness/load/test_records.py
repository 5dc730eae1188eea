"""Reading answers: JSON bodies, headers, and SSE chunk times with first-content detection."""

from __future__ import annotations

import json

import pytest

from harness.experiment.model import Load, RequestSpec
from harness.experiment.templates import RequestFactory
from harness.load import drive
from harness.load.records import BODY_CAP, EventStream, PhaseLabels, has_content
from harness.record import TAIL_BYTES, PhaseWindow, RequestRecord

from .conftest import ANTHROPIC_EVENTS, FIRST_DELAY_S, NEXT_DELAY_S, OPENAI_CHUNKS, Target, run_load

TOLERANCE_S = 0.5  # upper slack for a busy machine; lower bounds are exact (sleeps never end early)


def _record() -> RequestRecord:
    return RequestRecord(id="r", seq=0, phase="", scheduled_s=0.0, sent_s=0.0)


def test_event_stream_stamps_each_event_when_its_last_byte_arrives() -> None:
    record = _record()
    events = EventStream(record)
    events.feed(b'data: {"choices":[{"delta":{"role":"assistant","content":""}}]}\n\nda', 1.0)
    events.feed(b'ta: {"choices":[{"delta":{"content":"Hi"}}]}\r\n', 2.0)
    events.feed(b"\r\n", 3.0)
    events.feed(b"data: [DONE]\n\n", 4.0)
    events.close(5.0)
    assert record.chunk_s == [1.0, 3.0]
    assert record.first_content_s == 3.0
    assert events.size > 0


def test_event_stream_joins_multi_line_data_and_ignores_comments_and_ids() -> None:
    record = _record()
    events = EventStream(record)
    events.feed(b": keep-alive\n\nid: 7\nretry: 10\n\ndata: first\ndata: second\n\n", 1.0)
    events.feed(b"event: ping\ndata:\n\n", 2.0)  # empty data: not a chunk
    events.feed(b"data: last, with no blank line after", 3.0)
    events.close(4.0)
    assert record.chunk_s == [1.0, 4.0]
    assert record.first_content_s == 1.0


def _stream(*events: bytes) -> RequestRecord:
    record = _record()
    stream = EventStream(record)
    for i, event in enumerate(events):
        stream.feed(event, float(i))
    stream.close(float(len(events)))
    return record


OPENAI_DELTA = b'data: {"choices":[{"delta":{"content":"Hi"}}]}\n\n'


@pytest.mark.parametrize(
    ("events", "end"),
    [
        ((OPENAI_DELTA, b"data: [DONE]\n\n"), "terminator"),
        ((OPENAI_DELTA,), "unterminated"),
        ((b'event: message_stop\ndata: {"type":"message_stop"}\n\n',), "terminator"),
        (
            (b'event: content_block_delta\ndata: {"type":"content_block_delta","delta":{"text":"x"}}\n\n',),
            "unterminated",
        ),
        (
            (b'event: response.completed\ndata: {"type":"response.completed","response":{}}\n\n',),
            "terminator",
        ),
        ((b'data: {"type":"response.output_text.delta","delta":"x"}\n\n',), "unterminated"),
        ((OPENAI_DELTA, b'data: {"error":{"message":"overloaded"}}\n\n'), "error"),
        (
            (b'data: {"delta":"x"}\n\n', b'event: error\ndata: {"error":{"code":"stream_interrupted"}}\n\n'),
            "error",
        ),
        ((b'event: error\ndata: {"type":"error","error":{}}\n\n', b"data: [DONE]\n\n"), "error"),
        ((b'data: {"delta":"x"}\n\n', b'data: {"done":true}\n\n'), "open"),  # the sampleapp's own shape
        ((), "open"),
    ],
)
def test_event_stream_records_how_the_stream_ended(events: tuple[bytes, ...], end: str) -> None:
    record = _stream(*events)
    assert record.stream_end == end
    assert record.tail == b"".join(events).decode()


def test_event_stream_keeps_only_the_last_bytes_as_its_tail() -> None:
    chunk = b'data: {"choices":[{"delta":{"content":"' + "é".encode() * 600 + b'"}}]}\n\n'
    record = _stream(chunk, chunk, b"data: [DONE]\n\n")
    assert record.tail is not None
    assert len(record.tail.encode()) <= TAIL_BYTES
    assert record.tail.endswith('"}}]}\n\ndata: [DONE]\n\n')
    assert record.stream_end == "terminator"


@pytest.mark.parametrize(
    ("data", "event", "expected"),
    [
        (b'{"choices":[{"delta":{"content":"x"}}]}', b"", True),
        (b'{"choices":[{"delta":{"role":"assistant","content":""}}]}', b"", False),
        (b'{"choices":[{"delta":{}, "finish_reason":"stop"}]}', b"", False),
        (b'{"choices":[],"usage":{"completion_tokens":2}}', b"", False),
        (b'{"type":"content_block_delta","delta":{"type":"text_delta","text":"x"}}', b"", True),
        (b'{"type":"content_block_delta","delta":{"type":"text_delta","text":""}}', b"", False),
        (b'{"type":"ping"}', b"", False),
        (b'{"type":"message_start","message":{}}', b"", False),
        (b'{"delta":{"text":"x"}}', b"content_block_delta", True),
        (b'{"delta":{}}', b"message_stop", False),
        (b'{"token":"x"}', b"", True),
        (b'{"type":"token","text":"x"}', b"", True),
        (b"plain words", b"", True),
        (b'""', b"", False),
        (b"[1, 2]", b"", True),
    ],
)
def test_has_content(data: bytes, event: bytes, expected: bool) -> None:
    assert has_content(data, event) is expected


def test_phase_labels_by_time() -> None:
    label = PhaseLabels([PhaseWindow("b", 1.0, 2.0), PhaseWindow("a", 0.0, 1.0)])
    assert [label(t) for t in (-0.1, 0.0, 0.99, 1.0, 1.5, 2.5)] == ["a", "a", "a", "b", "b", "b"]
    assert PhaseLabels([])(1.0) == ""


async def test_openai_style_stream_chunk_times_and_first_content(target: Target) -> None:
    (record,) = await run_load(
        target.url, path="/sse/openai", stream=True, mode="open", rate=1, duration_s=0.5
    )
    assert record.status == 200
    assert record.error is None
    assert record.headers["content-type"] == "text/event-stream"
    assert len(record.chunk_s) == len(OPENAI_CHUNKS)  # [DONE] is not a chunk
    assert record.first_content_s == record.chunk_s[1]
    assert FIRST_DELAY_S <= record.chunk_s[1] - record.chunk_s[0] < FIRST_DELAY_S + TOLERANCE_S
    assert NEXT_DELAY_S <= record.chunk_s[2] - record.chunk_s[1] < NEXT_DELAY_S + TOLERANCE_S
    assert record.ttft_s is not None
    assert record.ttft_s >= FIRST_DELAY_S
    assert record.end_s is not None
    assert record.end_s >= record.chunk_s[-1]
    assert record.body is None
    assert record.body_bytes > 0
    assert record.stream_end == "terminator"
    assert record.tail is not None
    assert record.tail.endswith("data: [DONE]\n\n")


async def test_anthropic_style_stream_first_content_is_the_first_text_delta(target: Target) -> None:
    (record,) = await run_load(
        target.url, path="/sse/anthropic", stream=True, mode="open", rate=1, duration_s=0.5
    )
    assert record.error is None
    assert len(record.chunk_s) == len(ANTHROPIC_EVENTS)
    first_delta = [name for _, name, _ in ANTHROPIC_EVENTS].index("content_block_delta")
    assert record.first_content_s == record.chunk_s[first_delta]
    assert record.first_content_s - record.sent_s >= FIRST_DELAY_S
    assert record.chunk_s[first_delta] - record.chunk_s[first_delta - 1] >= FIRST_DELAY_S
    assert record.chunk_s[first_delta + 1] - record.chunk_s[first_delta] >= NEXT_DELAY_S
    assert record.stream_end == "terminator"  # message_stop


async def test_any_other_stream_counts_its_first_data_as_content(target: Target) -> None:
    (record,) = await run_load(
        target.url, path="/sse/plain", stream=True, mode="open", rate=1, duration_s=0.5
    )
    assert len(record.chunk_s) == 1
    assert record.first_content_s == record.chunk_s[0]
    assert FIRST_DELAY_S <= record.first_content_s - record.sent_s < FIRST_DELAY_S + TOLERANCE_S


async def test_json_body_and_lower_cased_headers_are_kept(target: Target) -> None:
    (record,) = await run_load(target.url, mode="open", rate=1, duration_s=0.5)
    assert record.body == {"id": record.id, "got": {"q": "0"}}
    assert record.headers["x-degraded"] == "no"
    assert all(k == k.lower() for k in record.headers)
    assert record.body_bytes == len(json.dumps(record.body))  # aiohttp's json_response: default separators


async def test_a_streamed_target_that_answers_json_keeps_the_body(target: Target) -> None:
    (record,) = await run_load(target.url, stream=True, mode="open", rate=1, duration_s=0.5)
    assert record.body is not None
    assert record.chunk_s == []


async def test_large_and_non_json_bodies_are_counted_not_kept(target: Target) -> None:
    records = []
    for path in ("/big", "/text"):
        factory = RequestFactory(RequestSpec.model_validate({"method": "GET", "path": path}), 0)
        (record,) = await drive(
            target.url,
            factory,
            Load(mode="open", rate=1, duration_s=0.5),
            [],
            stream=False,
            timeout_s=5.0,
            seed=0,
        )
        records.append(record)
    big, text = records
    assert (big.status, big.body) == (200, None)
    assert big.body_bytes > BODY_CAP
    assert big.tail == "x" * (TAIL_BYTES - 2) + '"}'  # only the end of what was not kept
    assert (text.status, text.body, text.body_bytes) == (200, None, len("plain words"))
    assert text.tail == "plain words"
    assert (text.stream_end, big.stream_end) == (None, None)

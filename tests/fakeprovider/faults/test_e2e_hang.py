"""`hang` end to end: an answer that comes late (virtual time) or never (the SDK times out)."""

from __future__ import annotations

import anthropic
import httpx2
import openai
import pytest

from fakeprovider.clock import VirtualTime
from tests.fakeprovider.e2e import chat, faults, message, serve

pytestmark = pytest.mark.usefixtures("quiet_server")


@pytest.mark.parametrize("stream", [False, True])
def test_hang_after_s_answers_normally_after_the_wait(stream: bool) -> None:
    vt = VirtualTime()
    with serve(faults({"name": "stall", "fault": {"kind": "hang", "after_s": 30}}), clock=vt) as s:
        reply = chat(s.openai(), stream=stream)
        assert reply
        assert vt.slept == [30.0]
        message(s.anthropic(), stream=stream)
        assert vt.slept == [30.0, 30.0]
        for r in s.records(2):
            assert (r.status, r.outcome) == (200, "ok")
            assert r.fault == {"rule": "stall", "kind": "hang"}
            assert r.ttft_ms is not None
            assert r.ttft_ms >= 30_000


@pytest.mark.parametrize("stream", [False, True])
def test_hang_forever_makes_the_openai_sdk_time_out(stream: bool) -> None:
    with serve(faults({"name": "stall", "fault": {"kind": "hang"}})) as s:
        with pytest.raises(openai.APITimeoutError) as info:
            chat(s.openai(timeout=0.5), stream=stream)
        assert isinstance(info.value.__cause__, httpx2.ReadTimeout)
        r = s.last()  # written when the server sees the caller leave
        assert (r.status, r.outcome, r.stream) == (499, "timeout", stream)
        assert r.fault == {"rule": "stall", "kind": "hang"}
        assert (r.output_tokens, r.ttft_ms, r.finish_reason) == (0, None, None)
        assert r.duration_ms >= 400  # about the caller's 0.5 s (its timer starts before ours)


@pytest.mark.parametrize("stream", [False, True])
def test_hang_forever_makes_the_anthropic_sdk_time_out(stream: bool) -> None:
    with serve(faults({"name": "stall", "fault": {"kind": "hang"}})) as s:
        with pytest.raises(anthropic.APITimeoutError):
            message(s.anthropic(timeout=0.5), stream=stream)
        r = s.last()
        assert (r.status, r.outcome) == (499, "timeout")


@pytest.mark.usefixtures("fast_retries")
def test_hang_timeouts_are_retried_by_the_sdk_and_each_recorded() -> None:
    with serve(faults({"kind": "hang"})) as s:
        with pytest.raises(openai.APITimeoutError):
            chat(s.openai(timeout=0.2, max_retries=1))
        recs = s.records(2)
        assert [(r.attempt, r.sdk_retry_count, r.outcome) for r in recs] == [
            (1, 0, "timeout"),
            (2, 1, "timeout"),
        ]

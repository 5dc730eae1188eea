"""`stall`: a streamed answer pauses after N tokens (for `for_s`, or for ever); a whole answer
is held back instead. Params, the plan's stall point, and where a stream is split, no sockets."""

from __future__ import annotations

from dataclasses import replace

import pydantic
import pytest

from fakeprovider.dialects import DIALECTS
from fakeprovider.dialects.base import ChatDialect, Chunk
from fakeprovider.faults.base import Hold
from fakeprovider.generation.plan import Stall
from fakeprovider.scenario import ScenarioError, parse_scenario
from fakeprovider.serving.delivery import through_tokens
from tests.fakeprovider.faults.conftest import CLAUDE, context, fault, plan_for, request


def test_stall_marks_a_streamed_plan_and_keeps_its_events_and_timing() -> None:
    req = request()
    plan = plan_for(req)
    stalled = fault("stall", after_tokens=3, for_s=0.3, keepalive_s=0.1).transform(plan, context(req))
    assert stalled.stall == Stall(after_tokens=3, seconds=0.3, keepalive_s=0.1)
    assert (stalled.events, stalled.delays, stalled.finish) == (plan.events, plan.delays, plan.finish)
    assert (stalled.ending, stalled.cut) == ("complete", False)  # it resumes, or the caller leaves


def test_stall_without_for_s_never_resumes_and_sends_no_keepalive_unless_asked() -> None:
    req = request(CLAUDE)
    stalled = fault("stall", after_tokens=5).transform(plan_for(req), context(req))
    assert stalled.stall == Stall(after_tokens=5, seconds=None, keepalive_s=None)


def test_stall_after_more_tokens_than_the_answer_has_stalls_before_its_end() -> None:
    req = request()
    plan = plan_for(req)
    short = replace(plan, events=plan.events[:4], delays=plan.delays[:4])
    stalled = fault("stall", after_tokens=10_000).transform(short, context(req))
    assert stalled.stall is not None
    assert stalled.stall.after_tokens == short.output_tokens


def test_stall_streamed_does_not_answer_first() -> None:
    req = request()
    assert fault("stall", for_s=2).answer(context(req)) is None


@pytest.mark.parametrize(("for_s", "held"), [(2.5, Hold(2.5)), (None, Hold(None))])
def test_stall_not_streamed_holds_the_whole_answer_like_hang(for_s: float | None, held: Hold) -> None:
    req = replace(request(), stream=False)
    kind = fault("stall", after_tokens=3, keepalive_s=1) if for_s is None else fault("stall", for_s=for_s)
    assert kind.answer(context(req)) == held
    plan = plan_for(req)
    assert kind.transform(plan, context(req)) is plan  # nothing left to pause mid-way


def test_stall_does_not_apply_to_embeddings() -> None:
    ctx = context(request())
    ctx.req = None
    assert not fault("stall").applies(ctx)


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"after_tokens": -1}, "after_tokens"),
        ({"after_tokens": 2.5}, "after_tokens"),
        ({"after_tokens": "3"}, "after_tokens"),
        ({"after_tokens": True}, "after_tokens"),
        ({"for_s": 0}, "for_s"),
        ({"for_s": 3601}, "for_s"),
        ({"for_s": float("inf")}, "for_s"),
        ({"keepalive_s": 0}, "keepalive_s"),
        ({"keepalive_s": 0.001}, "keepalive_s"),
        ({"keepalive_s": 301}, "keepalive_s"),
    ],
)
def test_stall_refuses_bad_params_naming_the_field(params: dict[str, object], field: str) -> None:
    with pytest.raises(pydantic.ValidationError, match=field):
        fault("stall", **params)


def test_a_scenario_with_a_bad_stall_names_the_file_and_field_path() -> None:
    with pytest.raises(ScenarioError, match=r"^s\.yaml: faults\.0\.fault\.stall\.keepalive_s: .*0\.01"):
        parse_scenario("faults: [{fault: {kind: stall, keepalive_s: 0}}]", "s.yaml")


def _chunks(*tokens: int) -> list[Chunk]:
    return [Chunk(0.0, str(i).encode(), n) for i, n in enumerate(tokens)]


def test_a_stream_is_split_after_the_chunk_that_reaches_the_stall_point() -> None:
    chunks = iter(_chunks(0, 1, 1, 2, 1, 0))  # a head, four text pieces, a tail
    before = list(through_tokens(chunks, 3))
    assert [c.data for c in before] == [b"0", b"1", b"2", b"3"]  # 1 + 1 + 2 = 4 >= 3
    assert [c.data for c in chunks] == [b"4", b"5"]  # the rest is left to play after the stall


def test_a_stall_at_zero_tokens_comes_before_the_first_byte() -> None:
    chunks = iter(_chunks(0, 1))
    assert list(through_tokens(chunks, 0)) == []
    assert len(list(chunks)) == 2


@pytest.mark.parametrize(
    ("api", "keepalive"),
    [
        ("openai.chat", b": keep-alive\n\n"),
        ("openai.responses", b": keep-alive\n\n"),
        ("azure.chat", b": keep-alive\n\n"),
        ("azure.responses", b": keep-alive\n\n"),
        ("anthropic.messages", b'event: ping\ndata: {"type": "ping"}\n\n'),
        ("gemini.generate", None),
        ("bedrock.converse", None),
    ],
)
def test_each_chat_dialect_owns_its_keepalive(api: str, keepalive: bytes | None) -> None:
    dialect = DIALECTS[api]
    assert isinstance(dialect, ChatDialect)
    assert dialect.keepalive() == keepalive

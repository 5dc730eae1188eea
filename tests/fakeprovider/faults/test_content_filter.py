"""`content_filter`: the answer stops early, as a provider's safety filter stops it."""

from __future__ import annotations

import pydantic
import pytest

from tests.fakeprovider.faults.conftest import CLAUDE, GPT, context, fault, plan_for, request


@pytest.mark.parametrize("model_id", [GPT, CLAUDE])
def test_content_filter_finishes_with_content_filter_after_fewer_events(model_id: str) -> None:
    req = request(model_id)
    before = plan_for(req)
    after = fault("content_filter").transform(before, context(req))
    assert after.finish == "content_filter"
    assert after.ending == "complete"
    assert 0 < len(after.events) < len(before.events)
    assert after.events == before.events[: len(after.events)]
    assert after.delays == before.delays[: len(after.events)]
    assert after.output_tokens < before.output_tokens


def test_content_filter_needs_a_chat_request() -> None:
    ctx = context(request())
    assert fault("content_filter").applies(ctx)
    ctx.req = None
    assert not fault("content_filter").applies(ctx)


def test_content_filter_takes_no_params() -> None:
    with pytest.raises(pydantic.ValidationError, match="extra"):
        fault("content_filter", category="violence")

"""Azure OpenAI end to end under faults, quotas and scripted replies: the SDK's error family and
the ledger, as for OpenAI chat."""

from __future__ import annotations

from typing import Any

import openai
import pytest

from tests.fakeprovider.dialects.azure.test_sdk import azure
from tests.fakeprovider.e2e import HELLO, Served, faults, serve


def _chat(served: Served, stream: bool, **kwargs: Any) -> Any:
    client = azure(served, **kwargs)
    if stream:
        return list(client.chat.completions.create(model="gpt-4o", messages=HELLO, stream=True))
    return client.chat.completions.create(model="gpt-4o", messages=HELLO)


@pytest.mark.parametrize(
    ("fault", "stream", "error", "status"),
    [
        ({"kind": "http_error", "status": 503}, False, openai.InternalServerError, 503),
        ({"kind": "http_error", "status": 500}, True, openai.InternalServerError, 500),
        ({"kind": "context_length"}, False, openai.BadRequestError, 400),
        ({"kind": "rate_limit", "code": "insufficient_quota"}, False, openai.RateLimitError, 429),
        ({"kind": "partial", "after_tokens": 2, "mode": "error_event"}, True, openai.APIError, 200),
        ({"kind": "connection_reset"}, False, openai.APIConnectionError, 0),
    ],
)
def test_a_fault_reaches_the_sdk_as_its_error_family(
    fault: dict[str, Any], stream: bool, error: type[Exception], status: int
) -> None:
    with serve(faults({"match": {"api": "azure"}, "fault": fault})) as served:
        with pytest.raises(error):
            _chat(served, stream)
        record = served.last()
        assert (record.api, record.status) == ("azure.chat", status)
        assert record.fault is not None
        assert record.fault["kind"] == fault["kind"]


def test_a_stream_cut_after_two_tokens_bills_what_was_sent() -> None:
    rule = {"kind": "partial", "after_tokens": 2, "mode": "length"}
    with serve(faults(rule)) as served:
        chunks = _chat(served, stream=True)
        finish = [c.choices[0].finish_reason for c in chunks if c.choices and c.choices[0].finish_reason]
        assert finish == ["length"]
        assert served.last().output_tokens == 2


def test_a_quota_answers_429_with_azures_body_and_quota_headers() -> None:
    with serve({"limits": [{"scope": "key", "match": {"api": "azure.chat"}, "rpm": 1}]}) as served:
        _chat(served, stream=False)
        with pytest.raises(openai.RateLimitError) as info:
            _chat(served, stream=False)
        assert info.value.code == "429"
        assert "exceeded call rate limit" in info.value.message
        assert info.value.response.headers["x-ratelimit-remaining-requests"] == "0"
        assert [r.status for r in served.records(2)] == [200, 429]


def test_a_scripted_reply_and_tags_apply_to_azure_calls() -> None:
    scenario = {
        "responses": [{"match": {"api": "azure.chat", "route": "faq"}, "reply": {"content": "Scripted."}}]
    }
    with serve(scenario) as served:
        client = azure(served, default_headers={"X-Route": "faq"})
        answer = client.chat.completions.create(model="gpt-4o", messages=HELLO)
        assert answer.choices[0].message.content == "Scripted."
        assert served.last().tags["route"] == "faq"

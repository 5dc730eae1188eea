"""Attribution tags (headers, body metadata, user) and attempt counting across retries."""

from __future__ import annotations

import json
import urllib.request

import anthropic
import openai

from fakeprovider import FakeProviderThread
from fakeprovider.accounting.ledger import LedgerRecord
from fakeprovider.clock import VirtualTime
from fakeprovider.serving.intake import fingerprint
from fakeprovider.state import RETRY_WINDOW_S

HI = [{"role": "user", "content": "hi"}]


def _records(provider: FakeProviderThread) -> list[LedgerRecord]:
    return provider.state.ledger.records()


def _tags(provider: FakeProviderThread) -> dict[str, str | None]:
    return _records(provider)[-1].tags


def test_tags_come_from_headers(provider: FakeProviderThread, openai_client: openai.OpenAI) -> None:
    openai_client.chat.completions.create(
        model="gpt-4o",
        messages=HI,
        extra_headers={"X-Route": "search", "X-Feature": "rerank", "X-Tenant": "acme"},
    )
    assert _tags(provider) == {"route": "search", "feature": "rerank", "tenant": "acme"}


def test_tags_come_from_body_metadata(provider: FakeProviderThread, openai_client: openai.OpenAI) -> None:
    openai_client.chat.completions.create(
        model="gpt-4o",
        messages=HI,
        metadata={"route": "summarize", "feature": "digest", "tenant": "globex"},
    )
    assert _tags(provider) == {"route": "summarize", "feature": "digest", "tenant": "globex"}


def test_openai_user_becomes_the_tenant(provider: FakeProviderThread, openai_client: openai.OpenAI) -> None:
    openai_client.chat.completions.create(model="gpt-4o", messages=HI, user="initech")
    assert _tags(provider) == {"route": None, "feature": None, "tenant": "initech"}


def test_metadata_tenant_wins_over_user(provider: FakeProviderThread, openai_client: openai.OpenAI) -> None:
    openai_client.chat.completions.create(
        model="gpt-4o", messages=HI, user="initech", metadata={"tenant": "acme"}
    )
    assert _tags(provider)["tenant"] == "acme"


def test_anthropic_metadata_user_id_becomes_the_tenant(
    provider: FakeProviderThread, anthropic_client: anthropic.Anthropic
) -> None:
    anthropic_client.messages.create(
        model="claude-haiku-4-5", max_tokens=16, messages=HI, metadata={"user_id": "tenant-42"}
    )
    assert _tags(provider) == {"route": None, "feature": None, "tenant": "tenant-42"}


def test_anthropic_tags_come_from_headers(
    provider: FakeProviderThread, anthropic_client: anthropic.Anthropic
) -> None:
    anthropic_client.messages.create(
        model="claude-haiku-4-5",
        max_tokens=16,
        messages=HI,
        metadata={"user_id": "from-body"},
        extra_headers={"X-Route": "chat", "X-Feature": "assist", "X-Tenant": "from-header"},
    )
    assert _tags(provider) == {"route": "chat", "feature": "assist", "tenant": "from-header"}


def test_headers_win_over_body(provider: FakeProviderThread, openai_client: openai.OpenAI) -> None:
    openai_client.chat.completions.create(
        model="gpt-4o",
        messages=HI,
        user="body-user",
        metadata={"route": "body-route", "feature": "body-feature", "tenant": "body-tenant"},
        extra_headers={"X-Route": "header-route", "X-Tenant": "header-tenant"},
    )
    # Headers win field by field; a field the headers leave out still comes from the body.
    assert _tags(provider) == {"route": "header-route", "feature": "body-feature", "tenant": "header-tenant"}


def test_embedding_calls_are_tagged_too(provider: FakeProviderThread, openai_client: openai.OpenAI) -> None:
    openai_client.embeddings.create(
        model="text-embedding-3-small", input="x", user="acme", extra_headers={"X-Route": "embed"}
    )
    assert _tags(provider) == {"route": "embed", "feature": None, "tenant": "acme"}


def test_attempt_counts_repeats_of_one_request_id(
    provider: FakeProviderThread, openai_client: openai.OpenAI
) -> None:
    for i in range(3):
        # Different bodies: the request id alone ties them together.
        openai_client.chat.completions.create(
            model="gpt-4o",
            messages=[{"role": "user", "content": f"try {i}"}],
            extra_headers={"X-Request-Id": "req-A", "Idempotency-Key": f"idem-{i}"},
        )
    assert [r.attempt for r in _records(provider)] == [1, 2, 3]


def test_attempt_counts_repeats_of_one_idempotency_key_without_request_id(
    provider: FakeProviderThread, openai_client: openai.OpenAI
) -> None:
    for i in range(2):
        openai_client.chat.completions.create(
            model="gpt-4o",
            messages=[{"role": "user", "content": f"try {i}"}],
            extra_headers={"Idempotency-Key": "idem-B"},
        )
    assert [r.attempt for r in _records(provider)] == [1, 2]


def test_independent_sdk_calls_with_one_body_are_each_a_first_attempt(
    provider: FakeProviderThread, openai_client: openai.OpenAI
) -> None:
    # Each says `x-stainless-retry-count: 0`: a new request, not a retry of the one before.
    for _ in range(3):
        openai_client.chat.completions.create(model="gpt-4o", messages=HI)
    assert [(r.attempt, r.sdk_retry_count) for r in _records(provider)] == [(1, 0)] * 3
    assert len({r.fingerprint for r in _records(provider)}) == 1
    summary = provider.state.ledger.summary()["totals"]
    assert summary["calls"] == 3
    assert summary.get("retries", 0) == 0


def _raw_chat(provider: FakeProviderThread, headers: dict[str, str] | None = None) -> None:
    req = urllib.request.Request(
        provider.url + "/v1/chat/completions",
        data=json.dumps({"model": "gpt-4o", "messages": HI}).encode(),
        headers={"Content-Type": "application/json", **(headers or {})},
    )
    with urllib.request.urlopen(req, timeout=10) as resp:
        resp.read()


def test_an_sdk_retry_count_above_zero_continues_the_request() -> None:
    with FakeProviderThread(latency="none") as provider:
        for count in ("0", "1", "2", "0"):
            _raw_chat(provider, {"x-stainless-retry-count": count})
        assert [r.attempt for r in provider.state.ledger.records()] == [1, 2, 3, 1]


def test_without_any_hint_a_repeat_is_a_retry_only_within_the_window() -> None:
    clock = VirtualTime()
    with FakeProviderThread(latency="none", clock=clock) as provider:
        _raw_chat(provider)
        clock.advance(RETRY_WINDOW_S / 2)
        _raw_chat(provider)
        clock.advance(RETRY_WINDOW_S + 1)
        _raw_chat(provider)
        assert [r.attempt for r in provider.state.ledger.records()] == [1, 2, 1]


def test_fingerprint_ignores_key_order() -> None:
    a = fingerprint({"model": "gpt-4o", "messages": HI, "max_tokens": 5})
    b = fingerprint({"max_tokens": 5, "messages": HI, "model": "gpt-4o"})
    assert a == b


def test_distinct_requests_start_at_attempt_one(
    provider: FakeProviderThread, openai_client: openai.OpenAI
) -> None:
    for i in range(3):
        openai_client.chat.completions.create(
            model="gpt-4o", messages=[{"role": "user", "content": f"distinct {i}"}]
        )
    openai_client.chat.completions.create(model="gpt-4o", messages=HI, extra_headers={"X-Request-Id": "r1"})
    openai_client.chat.completions.create(model="gpt-4o", messages=HI, extra_headers={"X-Request-Id": "r2"})
    assert [r.attempt for r in _records(provider)] == [1, 1, 1, 1, 1]


def test_sdk_retries_count_as_attempts(provider: FakeProviderThread) -> None:
    client = openai.OpenAI(base_url=provider.url + "/v1", api_key="sk-test", max_retries=0)
    try:
        # The same body sent twice with the retry header the SDK sets on its own retries.
        for n in range(2):
            client.chat.completions.create(
                model="gpt-4o", messages=HI, extra_headers={"x-stainless-retry-count": str(n)}
            )
    finally:
        client.close()
    recs = _records(provider)
    assert [(r.attempt, r.sdk_retry_count) for r in recs] == [(1, 0), (2, 1)]

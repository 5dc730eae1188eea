"""Anthropic prompt caching through the official SDK: only prefixes up to a `cache_control`
breakpoint are cached, written first (5-minute or 1-hour entries) and read later, each billed at
its price; a prompt under the model's minimum is not cached at all."""

from __future__ import annotations

from typing import Any

import anthropic
import pytest

from fakeprovider import FakeProviderThread

# Over 2,000 tokens: past Sonnet's 1,024-token minimum, under Haiku 4.5's 4,096.
HANDBOOK = " ".join(f"Rule {i}: answer politely and cite the handbook section {i}." for i in range(200))
SONNET = {"input": 3.00, "output": 15.0, "read": 0.30, "write_5m": 3.75, "write_1h": 6.00}


def _system(ttl: str | None = None) -> list[dict[str, Any]]:
    block: dict[str, Any] = {"type": "text", "text": HANDBOOK}
    if ttl is not None:
        block["cache_control"] = {"type": "ephemeral"} if ttl == "5m" else {"type": "ephemeral", "ttl": ttl}
    return [block]


def _ask(
    client: anthropic.Anthropic, system: list[dict[str, Any]], question: str, **kw: Any
) -> anthropic.types.Message:
    return client.messages.create(
        model=kw.pop("model", "claude-sonnet-4"),
        max_tokens=10,
        system=system,  # type: ignore[arg-type]
        messages=[{"role": "user", "content": question}],
        **kw,
    )


def _cost(uncached: int, output: int, read: int = 0, write_5m: int = 0, write_1h: int = 0) -> float:
    p = SONNET
    return (
        uncached * p["input"]
        + output * p["output"]
        + read * p["read"]
        + write_5m * p["write_5m"]
        + write_1h * p["write_1h"]
    ) / 1e6


def test_without_a_breakpoint_nothing_is_cached(
    provider: FakeProviderThread, anthropic_client: anthropic.Anthropic
) -> None:
    for question in ("What is rule 3?", "And rule 7?"):
        usage = _ask(anthropic_client, _system(), question).usage
        assert (usage.cache_creation_input_tokens, usage.cache_read_input_tokens) == (0, 0)
    rec = provider.state.ledger.records()[-1]
    assert (rec.cached_tokens, rec.cache_creation_tokens) == (0, 0)
    assert rec.cost_usd == pytest.approx(_cost(rec.input_tokens, rec.output_tokens))


def test_a_breakpoint_is_written_once_then_read_each_billed_at_its_price(
    provider: FakeProviderThread, anthropic_client: anthropic.Anthropic
) -> None:
    first = _ask(anthropic_client, _system("5m"), "What is rule 3?").usage
    second = _ask(anthropic_client, _system("5m"), "And rule 7?").usage
    written = first.cache_creation_input_tokens
    assert written is not None
    assert written > 2000
    assert first.cache_read_input_tokens == 0
    assert first.cache_creation is not None
    assert (
        first.cache_creation.ephemeral_5m_input_tokens,
        first.cache_creation.ephemeral_1h_input_tokens,
    ) == (written, 0)
    assert (second.cache_read_input_tokens, second.cache_creation_input_tokens) == (written, 0)
    r1, r2 = provider.state.ledger.records()
    # The ledger holds the whole prompt; Anthropic's input_tokens are what came after the breakpoint.
    assert r1.input_tokens == first.input_tokens + written
    assert r2.input_tokens == second.input_tokens + written
    assert (r1.cache_creation_tokens, r1.cached_tokens) == (written, 0)
    assert (r2.cache_creation_tokens, r2.cached_tokens) == (0, written)
    assert r1.cost_usd == pytest.approx(_cost(first.input_tokens, r1.output_tokens, write_5m=written))
    assert r2.cost_usd == pytest.approx(_cost(second.input_tokens, r2.output_tokens, read=written))
    assert r2.cost_usd < r1.cost_usd


def test_a_one_hour_breakpoint_is_billed_at_the_one_hour_write_price(
    provider: FakeProviderThread, anthropic_client: anthropic.Anthropic
) -> None:
    usage = _ask(anthropic_client, _system("1h"), "What is rule 3?").usage
    assert usage.cache_creation is not None
    written = usage.cache_creation.ephemeral_1h_input_tokens
    assert written == usage.cache_creation_input_tokens
    assert usage.cache_creation.ephemeral_5m_input_tokens == 0
    rec = provider.state.ledger.records()[-1]
    assert rec.cost_usd == pytest.approx(_cost(usage.input_tokens, rec.output_tokens, write_1h=written))


def test_breakpoints_in_messages_and_tools_cache_the_prefix_up_to_each(
    anthropic_client: anthropic.Anthropic,
) -> None:
    tools = [
        {
            "name": "lookup",
            "description": "look a rule up",
            "input_schema": {"type": "object"},
            "cache_control": {"type": "ephemeral"},
        }
    ]
    messages: list[Any] = [
        {
            "role": "user",
            "content": [
                {"type": "text", "text": HANDBOOK, "cache_control": {"type": "ephemeral"}},
                {"type": "text", "text": "Rule 3?"},
            ],
        }
    ]
    kw: dict[str, Any] = {"model": "claude-sonnet-4", "max_tokens": 10, "tools": tools, "messages": messages}
    first = anthropic_client.messages.create(**kw).usage
    second = anthropic_client.messages.create(**kw).usage
    assert first.cache_creation_input_tokens == second.cache_read_input_tokens
    assert second.cache_read_input_tokens is not None
    assert second.cache_read_input_tokens > 2000
    assert second.input_tokens < 20  # only "Rule 3?" and its framing follow the last breakpoint


def test_a_prompt_under_the_model_minimum_is_not_cached(anthropic_client: anthropic.Anthropic) -> None:
    for question in ("What is rule 3?", "And rule 7?"):  # Haiku 4.5 caches from 4,096 tokens
        usage = _ask(anthropic_client, _system("5m"), question, model="claude-haiku-4-5").usage
        assert (usage.cache_creation_input_tokens, usage.cache_read_input_tokens) == (0, 0)


def test_the_cache_is_per_tenant(anthropic_client: anthropic.Anthropic) -> None:
    _ask(anthropic_client, _system("5m"), "Rule 3?", extra_headers={"X-Tenant": "acme"})
    other = _ask(anthropic_client, _system("5m"), "Rule 3?", extra_headers={"X-Tenant": "globex"}).usage
    assert other.cache_read_input_tokens == 0
    assert other.cache_creation_input_tokens


def test_a_stream_reports_the_cache_use(anthropic_client: anthropic.Anthropic) -> None:
    _ask(anthropic_client, _system("5m"), "Rule 3?")
    with anthropic_client.messages.stream(
        model="claude-sonnet-4",
        max_tokens=10,
        system=_system("5m"),
        messages=[{"role": "user", "content": "Rule 4?"}],  # type: ignore[arg-type]
    ) as stream:
        usage = stream.get_final_message().usage
    assert usage.cache_read_input_tokens
    assert usage.cache_creation_input_tokens == 0


@pytest.mark.parametrize(
    ("control", "message"),
    [
        ({"type": "persistent"}, "system.0.cache_control.type: Input should be 'ephemeral'"),
        ({"type": "ephemeral", "ttl": "2h"}, "system.0.cache_control.ttl: Input should be '5m' or '1h'"),
    ],
)
def test_a_bad_cache_control_is_refused_naming_it(
    anthropic_client: anthropic.Anthropic, control: dict[str, Any], message: str
) -> None:
    with pytest.raises(anthropic.BadRequestError) as e:
        _ask(anthropic_client, [{"type": "text", "text": "x", "cache_control": control}], "hi")
    assert e.value.status_code == 400
    assert message in str(e.value)


def test_more_than_four_breakpoints_are_refused(anthropic_client: anthropic.Anthropic) -> None:
    blocks = [{"type": "text", "text": f"part {i}", "cache_control": {"type": "ephemeral"}} for i in range(5)]
    with pytest.raises(anthropic.BadRequestError) as e:
        _ask(anthropic_client, blocks, "hi")
    assert "A maximum of 4 blocks with cache_control may be provided. Found 5." in str(e.value)

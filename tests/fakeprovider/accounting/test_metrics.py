"""Provider metrics: the hand-rolled families render exactly as prometheus_client's own would."""

from __future__ import annotations

import itertools
import random
from collections.abc import Iterator

import pytest
from prometheus_client import CollectorRegistry, Counter, Histogram, generate_latest
from prometheus_client import metrics as prometheus_metrics

from fakeprovider.accounting import metrics
from fakeprovider.accounting.ledger import LedgerRecord
from fakeprovider.accounting.metrics import ProviderMetrics

BUCKETS = (0.005, 0.025, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60)


def _records(seed: int, n: int) -> Iterator[LedgerRecord]:
    rng = random.Random(seed)
    for i in range(n):
        yield LedgerRecord(
            seq=i,
            ts_start=0.0,
            ts_end=0.0,
            api=rng.choice(["openai.chat", "anthropic.messages", "openai.embeddings"]),
            model=rng.choice([None, "gpt-4o", "claude-sonnet-4-5"]),
            stream=False,
            request_id="req",
            idempotency_key=None,
            sdk_retry_count=None,
            fingerprint="f",
            attempt=1,
            tags={
                "route": rng.choice([None, "", "search"]),
                "feature": None,
                "tenant": rng.choice([None, "t1"]),
            },
            input_tokens=rng.choice([0, 5, 1000]),
            output_tokens=rng.choice([0, 7]),
            cached_tokens=rng.choice([0, 128]),
            cost_usd=rng.choice([0.0, 1e-5, rng.random()]),
            status=rng.choice([200, 429, 500]),
            fault=rng.choice([None, {"rule": "outage", "kind": "http_error"}, {"kind": "slow"}]),
            outcome=rng.choice(["ok", "error", "partial"]),
            ttft_ms=None,
            duration_ms=rng.choice([0.0, 5.0, 25.0, 99.9, 60000.0, 60000.1, rng.uniform(0, 70000)]),
            finish_reason=None,
        )


def _reference(records: list[LedgerRecord]) -> bytes:
    """The same observations through prometheus_client's Counter and Histogram."""
    registry = CollectorRegistry(auto_describe=True)
    requests = Counter(
        "rehearsal_provider_requests",
        "Provider calls by api, model, status and outcome.",
        ["api", "model", "status", "outcome"],
        registry=registry,
    )
    tokens = Counter(
        "rehearsal_provider_tokens",
        "Tokens billed, by api, model and kind (input, output, cached).",
        ["api", "model", "kind"],
        registry=registry,
    )
    cost = Counter(
        "rehearsal_provider_cost_usd",
        "Simulated spend in US dollars.",
        ["model", "route", "tenant"],
        registry=registry,
    )
    faults = Counter(
        "rehearsal_provider_faults", "Faults fired, by rule and kind.", ["rule", "kind"], registry=registry
    )
    duration = Histogram(
        "rehearsal_provider_request_duration_seconds",
        "Time from request to last byte.",
        ["api"],
        buckets=BUCKETS,
        registry=registry,
    )
    for r in records:
        model = r.model or ""
        route, tenant = r.tags.get("route") or "", r.tags.get("tenant") or ""
        children = (
            requests.labels(r.api, model, str(r.status), r.outcome),
            tokens.labels(r.api, model, "input"),
            tokens.labels(r.api, model, "output"),
            tokens.labels(r.api, model, "cached"),
            cost.labels(model, route, tenant),
        )
        children[0].inc()
        for child, amount in zip(
            children[1:], (r.input_tokens, r.output_tokens, r.cached_tokens, r.cost_usd), strict=True
        ):
            if amount:
                child.inc(amount)
        duration.labels(r.api).observe(r.duration_ms / 1000)
        if r.fault is not None:
            faults.labels(r.fault.get("rule", ""), r.fault.get("kind", "")).inc()
    return generate_latest(registry)


def _restart_clock(monkeypatch: pytest.MonkeyPatch) -> None:
    """`time.time` counting 1000, 1001, ... so both renderings get the same `_created` values."""
    ticks = itertools.count(1000)
    monkeypatch.setattr("time.time", lambda: float(next(ticks)))


@pytest.mark.parametrize("created_series", [True, False])
@pytest.mark.parametrize("seed", range(5))
def test_metrics_render_exactly_as_prometheus_client_does(
    monkeypatch: pytest.MonkeyPatch, seed: int, created_series: bool
) -> None:
    monkeypatch.setattr(prometheus_metrics, "_use_created", created_series)
    records = list(_records(seed, 300))
    _restart_clock(monkeypatch)
    expected = _reference(records)
    _restart_clock(monkeypatch)
    ours = ProviderMetrics()
    for r in records:
        ours.observe(r)
    assert ours.render() == expected


def test_metrics_content_type_is_prometheus_text() -> None:
    assert metrics.CONTENT_TYPE.startswith("text/plain")

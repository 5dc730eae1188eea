"""A release gate for the summarize route: it must not ship unless these pass.

The fast tests drive one request at a time against a fault and read the provider's ledger; the
rehearsal runs a short experiment (load + phases + contract) through the real runner.
"""

from __future__ import annotations

import json
import urllib.request
from typing import Any

import pytest

from harness.pytest_plugin import ExperimentRunner, FakeProviderHandle


def summarize(
    service_url: str, text: str = "Quarterly results were strong."
) -> tuple[int, dict[str, str], Any]:
    request = urllib.request.Request(
        service_url + "/summarize",
        data=json.dumps({"text": text}).encode(),
        headers={"Content-Type": "application/json", "X-Tenant": "acme", "X-Request-Id": "req-1"},
        method="POST",
    )
    with urllib.request.urlopen(request, timeout=10) as resp:
        return resp.status, dict(resp.headers), json.load(resp)


def test_summary_comes_from_the_primary_model_with_every_call_attributed(
    fake_provider: FakeProviderHandle, service_url: str
) -> None:
    status, headers, body = summarize(service_url)
    assert (status, body["model"]) == (200, "gpt-4o")
    assert "x-degraded" not in headers
    (call,) = fake_provider.ledger()
    assert call.tags == {"route": "summarize", "feature": "docs", "tenant": "acme"}
    assert call.request_id == "req-1"
    assert call.output_tokens <= 256


def test_an_outage_of_the_primary_falls_back_visibly_after_one_retry(
    fake_provider: FakeProviderHandle, service_url: str
) -> None:
    fake_provider.add_fault("http_error", status=503, match={"model": "gpt-4o"})
    status, headers, body = summarize(service_url)
    assert (status, body["model"], headers["x-degraded"]) == (200, "gpt-4o-mini", "fallback")
    assert [(c.model, c.status) for c in fake_provider.ledger()] == [
        ("gpt-4o", 503),
        ("gpt-4o", 503),
        ("gpt-4o-mini", 200),
    ]


def test_a_rate_limit_is_waited_out_for_as_long_as_retry_after_says(
    fake_provider: FakeProviderHandle, service_url: str
) -> None:
    fake_provider.add_fault("rate_limit", retry_after_ms=300, max_hits=1, match={"model": "gpt-4o"})
    status, _, body = summarize(service_url)
    assert (status, body["model"]) == (200, "gpt-4o")
    first, second = fake_provider.ledger()
    assert (first.status, second.status) == (429, 200)
    assert second.ts_start - first.ts_end >= 0.3


def test_when_every_model_is_down_the_route_says_so_without_retrying_forever(
    fake_provider: FakeProviderHandle, service_url: str
) -> None:
    fake_provider.add_fault("http_error", status=500)
    with pytest.raises(urllib.error.HTTPError) as failed:
        summarize(service_url)
    assert failed.value.code == 503
    failed.value.close()
    assert len(fake_provider.ledger()) == 3  # two on the primary, one on the fallback


def test_rehearsal_outage_and_throttling_hold_the_route_contract(
    run_experiment: ExperimentRunner, service_url: str
) -> None:
    report = run_experiment("experiments/outage.yaml", target_url=service_url)
    report.assert_ok()

"""A complete routes file for tests (one route, every checklist item present and consistent),
and small helpers to change one field of it."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import yaml

REPO = Path(__file__).resolve().parents[3]
SHIPPED_ROUTES = REPO / "routes.yaml"

_COMPLETE = """
service: test
target: {url: "http://127.0.0.1:9"}
provider: {latency: none}
signal: {header: x-degraded, body: degraded}
rehearsal: {cadence: nightly, rate: 10, steady_s: 5, fault_s: 10, recovery_s: 5}
routes:
  summarize:
    caller: web app
    qps: 5
    peak_factor: 3
    request:
      method: POST
      path: /summarize
      json: {text: "{{ faker.sentence() }} #{{ seq }}"}
      headers: {X-Tenant: "{{ choice('acme', 'globex') }}"}
    over_budget_request:
      path: /summarize
      json: {text: "{{ faker.text(max_nb_chars=20000) }}"}
    ok: {status: 200, body: {degraded: false}}
    tenant_data: true
    tokens: {input_cap: 2000, output_cap: 120, hard_cap: 6400, on_breach: reject}
    latency: {p50_ms: 1500, p95_ms: 4000, p99_ms: 6000}
    models: {primary: gpt-4o, fallback: gpt-4o-mini, cascade: after 2 failed primary attempts}
    retry:
      max_attempts: 3
      primary_attempts: 2
      backoff: {base_s: 0.05, max_s: 1.0}
      call_timeout_s: 4
      route_timeout_s: 10
      idempotency: stateless
      breaker: {failure_threshold: 5, cool_down_s: 2}
    structured_output: false
    cache:
      prompt_prefix: {scope: tenant, ttl_s: 300, invalidation: prompt change, target_hit_rate: 0.2}
      embedding: false
      full_response: false
      semantic: false
    degradation:
      unavailable: &fallback
        action: fallback_model
        user_visible: the fallback's answer, marked degraded
        expect: {status: 200, headers: {x-degraded: fallback}, body: {degraded: true}}
      rate_limited: *fallback
      over_budget:
        action: refuse
        user_visible: 413 input_too_long
        expect: {status: 413, body: {error.code: input_too_long}}
      malformed: *fallback
      slow: *fallback
    attribution: {tags: [route, feature, tenant], feature: summary}
    capacity:
      quota_rpm: 1200
      concurrency: 64
      admission_limit: 128
      exhaustion_signal: provider 429s
      owner: platform team
    alerts:
      budget_breach: over the caps
      exhaustion: 429 share over 1%
      tail_regression: p99 over 6 s
      cache_hit_regression: hit rate under 0.1
      fallback_rate: over 5%
      retry_amplification: over 1.3 calls per request
      tenant_cost_anomaly: 3x the median
"""


def complete_spec() -> dict[str, Any]:
    """A fresh copy of the complete spec, as parsed YAML; the modes written with a YAML alias
    are separate mappings here, so a test can change one alone."""
    data: dict[str, Any] = json.loads(json.dumps(yaml.safe_load(_COMPLETE)))
    return data


def _parent(data: dict[str, Any], path: str) -> tuple[dict[str, Any], str]:
    *parents, last = path.split(".")
    node = data
    for part in parents:
        node = node[part]
    return node, last


def set_field(data: dict[str, Any], path: str, value: Any) -> dict[str, Any]:
    """`data` with the dotted `path` set to `value` (in place; returned for chaining)."""
    node, last = _parent(data, path)
    node[last] = value
    return data


def drop_field(data: dict[str, Any], path: str) -> dict[str, Any]:
    node, last = _parent(data, path)
    del node[last]
    return data


def write_spec(path: Path, data: dict[str, Any]) -> Path:
    path.write_text(yaml.safe_dump(data, sort_keys=False))
    return path

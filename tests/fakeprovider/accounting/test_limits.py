"""Quotas: requests and tokens per minute per scope, sliding window, the providers' headers."""

from __future__ import annotations

import calendar
import time
from dataclasses import dataclass
from typing import Any

import pydantic
import pytest

from fakeprovider.accounting.limits import SWEEP_AT_BUCKETS, Limiter
from fakeprovider.clock import VirtualTime
from fakeprovider.dialects import DIALECTS
from fakeprovider.dialects.openai_wire import duration_text
from fakeprovider.generation.request import Tags
from fakeprovider.scenario.rules import LimitSpec
from tests.fakeprovider.wire import Rendered

ACME = Tags(route="search", feature="ask", tenant="acme")


def limiter(*specs: dict[str, Any]) -> tuple[Limiter, VirtualTime]:
    t = VirtualTime()
    return Limiter([LimitSpec.model_validate(s) for s in specs], source=t), t


@dataclass
class Answer:
    """An admission as the dialect of `family` answers it: quota headers, and a refusal."""

    headers: dict[str, str]
    error: Rendered | None


def admit(
    lim: Limiter,
    tokens: int = 10,
    *,
    family: str = "openai",
    key: str = "sk-a",
    tags: Tags = ACME,
    model: str = "gpt-4o",
) -> Answer:
    api = "anthropic.messages" if family == "anthropic" else "openai.chat"
    a = lim.admit(key, tags, api, model, False, tokens)
    headers = DIALECTS[api].quota_headers(a.levels) if a.levels else {}
    if a.error is None:
        return Answer(headers, None)
    return Answer(headers, Rendered(a.error, api, headers))


def admitted(a: Answer) -> bool:
    return a.error is None


# --- requests per minute -----------------------------------------------------------------------


def test_rpm_counts_down_remaining_requests_then_refuses_with_retry_after() -> None:
    lim, t = limiter({"scope": "key", "rpm": 3})
    seen = []
    for _ in range(3):
        a = admit(lim)
        assert admitted(a)
        seen.append(a.headers["x-ratelimit-remaining-requests"])
        assert a.headers["x-ratelimit-limit-requests"] == "3"
        assert a.headers["x-ratelimit-reset-requests"] == "1m0s"
        t.advance(10)
    assert seen == ["2", "1", "0"]
    refused = admit(lim)  # at +30 s; the first request leaves the window at +60 s
    assert refused.error is not None
    assert refused.error.status == 429
    assert refused.error.headers["retry-after"] == "30"
    assert refused.error.headers["retry-after-ms"] == "30000"
    assert refused.headers["x-ratelimit-remaining-requests"] == "0"
    assert refused.headers["x-ratelimit-reset-requests"] == "50s"


def test_rpm_admits_again_once_the_window_has_slid() -> None:
    lim, t = limiter({"scope": "key", "rpm": 3})
    for _ in range(3):
        assert admitted(admit(lim))
    assert not admitted(admit(lim))
    t.advance(59.999)
    assert not admitted(admit(lim))
    t.advance(0.001)
    a = admit(lim)
    assert admitted(a)
    assert a.headers["x-ratelimit-remaining-requests"] == "2"


def test_rpm_retry_after_is_exactly_when_a_slot_frees() -> None:
    lim, t = limiter({"scope": "key", "rpm": 2})
    admit(lim)
    t.advance(0.5)
    admit(lim)
    t.advance(0.38)
    refused = admit(lim)
    assert refused.error is not None
    assert refused.error.headers["retry-after-ms"] == "59120"
    assert refused.error.headers["retry-after"] == "60"
    assert refused.headers["x-ratelimit-reset-requests"] == "59.62s"
    t.advance(59.12)
    assert admitted(admit(lim))


def test_a_refused_request_is_not_counted() -> None:
    lim, t = limiter({"scope": "key", "rpm": 1})
    assert admitted(admit(lim))
    for _ in range(5):
        t.advance(1)
        assert not admitted(admit(lim))
    t.advance(55)
    assert admitted(admit(lim))


def test_rpm_refusal_has_the_openai_shape_with_type_requests() -> None:
    lim, _ = limiter({"scope": "key", "rpm": 1})
    admit(lim)
    refused = admit(lim)
    assert refused.error is not None
    body = refused.error.openai_body()["error"]
    assert body["type"] == "requests"
    assert body["code"] == "rate_limit_exceeded"
    assert "gpt-4o" in body["message"]
    assert "requests per min (RPM): Limit 1" in body["message"]


def test_many_admits_in_a_tight_loop_never_exceed_rpm() -> None:
    lim, t = limiter({"scope": "key", "rpm": 10})
    times: list[float] = []
    for _ in range(2000):
        if admitted(admit(lim)):
            times.append(t())
        t.advance(0.137)
    # 2000 x 0.137 s ≈ 274 s: about 4.6 windows of 10 requests each.
    for i, start in enumerate(times):
        in_window = [s for s in times[i:] if s < start + 60]
        assert len(in_window) <= 10
    assert 45 <= len(times) <= 50


# --- tokens per minute -------------------------------------------------------------------------


def test_tpm_counts_down_remaining_tokens() -> None:
    lim, t = limiter({"scope": "key", "tpm": 1000})
    a = admit(lim, 300)
    assert a.headers["x-ratelimit-limit-tokens"] == "1000"
    assert a.headers["x-ratelimit-remaining-tokens"] == "700"
    assert a.headers["x-ratelimit-reset-tokens"] == "1m0s"
    assert "x-ratelimit-limit-requests" not in a.headers
    t.advance(20)
    b = admit(lim, 600)
    assert b.headers["x-ratelimit-remaining-tokens"] == "100"


def test_tpm_refuses_what_does_not_fit_until_enough_tokens_leave_the_window() -> None:
    lim, t = limiter({"scope": "key", "tpm": 1000})
    admit(lim, 300)
    t.advance(20)
    admit(lim, 600)
    t.advance(10)
    refused = admit(lim, 200)  # needs the first 300 to leave: at +60 s, 30 s from now
    assert refused.error is not None
    assert refused.error.openai_body()["error"]["type"] == "tokens"
    assert "tokens per min (TPM): Limit 1000, Requested 200" in refused.error.message
    assert refused.error.headers["retry-after"] == "30"
    assert refused.headers["x-ratelimit-remaining-tokens"] == "100"
    assert admitted(admit(lim, 100))  # what still fits is admitted
    t.advance(30)
    assert admitted(admit(lim, 200))


def test_a_request_bigger_than_tpm_is_refused_even_on_an_empty_window() -> None:
    lim, t = limiter({"scope": "key", "tpm": 1000})
    refused = admit(lim, 1001)
    assert refused.error is not None
    assert refused.error.openai_body()["error"]["type"] == "tokens"
    assert refused.error.headers["retry-after"] == "60"
    t.advance(3600)
    assert not admitted(admit(lim, 1001))
    assert admitted(admit(lim, 1000))


def test_rpm_and_tpm_both_hold_in_one_limit() -> None:
    lim, _ = limiter({"scope": "key", "rpm": 5, "tpm": 100})
    a = admit(lim, 60)
    assert a.headers["x-ratelimit-remaining-requests"] == "4"
    assert a.headers["x-ratelimit-remaining-tokens"] == "40"
    refused = admit(lim, 60)
    assert refused.error is not None
    assert refused.error.openai_body()["error"]["type"] == "tokens"


# --- scopes and matching -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("scope", "same", "other"),
    [
        ("key", {"key": "sk-a"}, {"key": "sk-b"}),
        ("tenant", {"tags": Tags(tenant="acme")}, {"tags": Tags(tenant="globex")}),
        ("route", {"tags": Tags(route="search")}, {"tags": Tags(route="summarize")}),
    ],
)
def test_each_scope_value_has_its_own_bucket(scope: str, same: dict[str, Any], other: dict[str, Any]) -> None:
    lim, _ = limiter({"scope": scope, "rpm": 1})
    assert admitted(admit(lim, **same))
    assert not admitted(admit(lim, **same))
    assert admitted(admit(lim, **other))
    assert not admitted(admit(lim, **other))


def test_a_key_scope_ignores_tags_and_a_tenant_scope_ignores_keys() -> None:
    lim, _ = limiter({"scope": "key", "rpm": 1}, {"scope": "tenant", "rpm": 100})
    assert admitted(admit(lim, key="sk-a", tags=Tags(tenant="acme")))
    assert not admitted(admit(lim, key="sk-a", tags=Tags(tenant="globex")))
    lim, _ = limiter({"scope": "tenant", "rpm": 1})
    assert admitted(admit(lim, key="sk-a", tags=Tags(tenant="acme")))
    assert not admitted(admit(lim, key="sk-b", tags=Tags(tenant="acme")))


def test_every_matching_limit_must_have_room_and_headers_show_the_tightest() -> None:
    lim, _ = limiter({"scope": "tenant", "rpm": 100}, {"scope": "key", "rpm": 2})
    a = admit(lim)
    assert a.headers["x-ratelimit-limit-requests"] == "2"
    assert a.headers["x-ratelimit-remaining-requests"] == "1"
    admit(lim)
    assert not admitted(admit(lim))
    # The refused call was not counted in the roomy tenant bucket either.
    b = admit(lim, key="sk-b")
    assert b.headers["x-ratelimit-remaining-requests"] == "1"
    lim.specs.reverse()
    lim.clear()
    assert admit(lim, key="sk-c").headers["x-ratelimit-limit-requests"] == "2"


def test_match_restricts_a_limit_to_the_calls_it_names() -> None:
    lim, _ = limiter({"scope": "key", "match": {"route": "search"}, "rpm": 1})
    assert admitted(admit(lim, tags=Tags(route="search")))
    assert not admitted(admit(lim, tags=Tags(route="search")))
    other = admit(lim, tags=Tags(route="summarize"))
    assert admitted(other)
    assert other.headers == {}


def test_match_on_model_and_api() -> None:
    lim, _ = limiter({"scope": "key", "match": {"model": "gpt-4o", "api": "openai"}, "rpm": 1})
    assert admitted(admit(lim))
    assert not admitted(admit(lim))
    assert admitted(admit(lim, model="gpt-4o-mini"))
    assert admitted(admit(lim, family="anthropic", model="gpt-4o"))


def test_no_limits_admit_everything_without_headers() -> None:
    lim, _ = limiter()
    assert not lim
    assert admit(lim) == Answer({}, None)


def test_clear_empties_every_bucket() -> None:
    lim, _ = limiter({"scope": "key", "rpm": 1})
    admit(lim)
    lim.clear()
    assert admitted(admit(lim))


# --- Anthropic -------------------------------------------------------------------------------


def _rfc3339(text: str) -> float:
    return calendar.timegm(time.strptime(text, "%Y-%m-%dT%H:%M:%SZ"))


def test_anthropic_gets_anthropic_ratelimit_headers() -> None:
    lim, _ = limiter({"scope": "key", "rpm": 3, "tpm": 1000})
    now = time.time()
    a = admit(lim, 250, family="anthropic")
    assert not any(k.startswith("x-ratelimit") for k in a.headers)
    assert a.headers["anthropic-ratelimit-requests-limit"] == "3"
    assert a.headers["anthropic-ratelimit-requests-remaining"] == "2"
    assert a.headers["anthropic-ratelimit-tokens-limit"] == "1000"
    assert a.headers["anthropic-ratelimit-tokens-remaining"] == "750"
    for name in ("anthropic-ratelimit-requests-reset", "anthropic-ratelimit-tokens-reset"):
        assert now + 59 <= _rfc3339(a.headers[name]) <= time.time() + 61


def test_anthropic_refusal_has_retry_after_only_and_its_own_shape() -> None:
    lim, t = limiter({"scope": "key", "rpm": 1})
    admit(lim, family="anthropic")
    t.advance(20.5)
    refused = admit(lim, family="anthropic")
    assert refused.error is not None
    assert refused.error.headers["retry-after"] == "40"
    assert "retry-after-ms" not in refused.error.headers
    assert refused.error.anthropic_body()["error"]["type"] == "rate_limit_error"
    assert refused.error.headers["anthropic-ratelimit-requests-remaining"] == "0"


# --- specs and durations -----------------------------------------------------------------------


@pytest.mark.parametrize(
    "spec",
    [
        {"scope": "key"},
        {"scope": "model", "rpm": 1},
        {"scope": "key", "rpm": 0},
        {"scope": "key", "rpm": 1, "x": 1},
    ],
)
def test_an_invalid_limit_is_refused(spec: dict[str, Any]) -> None:
    with pytest.raises(pydantic.ValidationError):
        LimitSpec.model_validate(spec)


@pytest.mark.parametrize(
    ("seconds", "text"),
    [
        (0, "0s"),
        (-3, "0s"),
        (0.12, "120ms"),
        (1000.12 - 1000, "120ms"),
        (0.0001, "1ms"),
        (1, "1s"),
        (1.5, "1.5s"),
        (59.62, "59.62s"),
        (60, "1m0s"),
        (119.9999, "2m0s"),
        (360, "6m0s"),
        (61.25, "1m1.25s"),
    ],
)
def test_durations_read_as_openai_writes_them(seconds: float, text: str) -> None:
    assert duration_text(seconds) == text


def test_buckets_of_tenants_gone_quiet_are_swept_so_new_tenants_cost_no_lasting_memory() -> None:
    lim, clock = limiter({"scope": "tenant", "rpm": 5})
    for i in range(SWEEP_AT_BUCKETS):
        admit(lim, tags=Tags(tenant=f"t{i}"))
    assert len(lim._buckets) == SWEEP_AT_BUCKETS
    clock.advance(61)  # past the window: every bucket is as good as new
    admit(lim, tags=Tags(tenant="fresh"))
    assert len(lim._buckets) == 1


def test_a_sweep_keeps_the_buckets_still_counting() -> None:
    lim, _ = limiter({"scope": "tenant", "rpm": 1})
    for i in range(SWEEP_AT_BUCKETS + 1):
        admit(lim, tags=Tags(tenant=f"t{i}"))
    # All are within the window: none is dropped, and t0 is still refused its second call.
    assert len(lim._buckets) == SWEEP_AT_BUCKETS + 1
    assert admit(lim, tags=Tags(tenant="t0")).error is not None

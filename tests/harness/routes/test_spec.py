"""Routes files: the typed model and its loading. A file is refused whole, each error with the
file, the field path, the line and what was expected; checklist parts may be left out (that is
for `rehearse lint` to report), the structure may not."""

from __future__ import annotations

from pathlib import Path

import pytest

from harness.errors import InvalidExperiment, InvalidRoutes
from harness.experiment.load import load_experiment, parse_experiment
from harness.routes.load import load_routes, parse_routes, validate_routes
from harness.routes.spec import CacheLayer, RoutesFile
from tests.harness.routes.specs import SHIPPED_ROUTES, complete_spec, drop_field, set_field


def refused(text: str) -> str:
    with pytest.raises(InvalidRoutes) as info:
        parse_routes(text, "routes.yaml")
    return str(info.value)


def test_complete_spec_and_shipped_routes_file_load() -> None:
    spec = validate_routes(complete_spec(), "complete")
    assert isinstance(spec, RoutesFile)
    route = spec.routes["summarize"]
    assert route.retry is not None
    assert route.retry.max_attempts == 3
    assert isinstance(route.cache and route.cache.prompt_prefix, CacheLayer)
    assert route.cache is not None
    assert route.cache.embedding is False
    shipped = load_routes(SHIPPED_ROUTES)
    assert list(shipped.routes) == ["summarize", "extract", "chat", "embed"]
    assert shipped.target.app == "sample"


def test_unknown_field_is_refused_with_its_path_and_line() -> None:
    message = refused(
        "target: {app: sample}\n"
        "routes:\n"
        "  summarize:\n"
        "    request: {path: /summarize}\n"
        "    retry:\n"
        "      max_attempts: 3\n"
        "      max_atempts: 3\n"
    )
    assert message == "routes.yaml: routes.summarize.retry.max_atempts (line 7): unknown field"


def test_breaker_fields_are_checked_by_path() -> None:
    head = "target: {app: sample}\nroutes:\n  summarize:\n    request: {path: /summarize}\n    retry:\n"
    unknown = refused(head + "      breaker: {failure_threshold: 5, cool_down_s: 2, cooldown: 3}\n")
    assert unknown == "routes.yaml: routes.summarize.retry.breaker.cooldown (line 6): unknown field"
    partial = refused(head + "      breaker: {failure_threshold: 5}\n")
    assert "routes.summarize.retry.breaker.cool_down_s (line 6): Field required" in partial
    zero = refused(head + "      breaker: {failure_threshold: 0, cool_down_s: 2}\n")
    assert "routes.summarize.retry.breaker.failure_threshold (line 6)" in zero
    goodput = refused(head.replace("    retry:\n", "    latency: {goodput_min: 0}\n"))
    assert "routes.summarize.latency.goodput_min (line 5): Input should be greater than 0" in goodput


def test_wrong_value_names_field_line_and_value() -> None:
    message = refused("target: {app: sample}\nroutes:\n  summarize:\n    request: {path: /s}\n    qps: -5\n")
    assert message == "routes.yaml: routes.summarize.qps (line 5): Input should be greater than 0 (got -5)"


def test_every_error_is_reported_at_once() -> None:
    message = refused(
        "target: {app: sample}\nroutes:\n  a:\n    request: {path: nope}\n    tokens: {on_breach: drop}\n"
    )
    lines = message.splitlines()
    assert len(lines) == 2
    assert lines[0].startswith("routes.yaml: routes.a.request.path (line 4): ")
    assert "must start with '/'" in lines[0]
    assert lines[1].startswith("routes.yaml: routes.a.tokens.on_breach (line 5): ")


def test_bad_request_template_is_refused_naming_its_field() -> None:
    message = refused(
        "target: {app: sample}\n"
        "routes:\n"
        "  a:\n"
        "    request:\n"
        "      path: /a\n"
        "      json:\n"
        "        text: \"{{ open('/etc/passwd') }}\"\n"
    )
    assert message.startswith("routes.yaml: routes.a.request.json.text (line 7): unknown name 'open'")


def test_oversized_request_template_is_checked_too() -> None:
    data = set_field(complete_spec(), "routes.summarize.over_budget_request.json.text", "{{ faker.nope() }}")
    with pytest.raises(InvalidRoutes, match=r"routes\.summarize\.over_budget_request\.json\.text"):
        validate_routes(data, "routes.yaml")


def test_a_cache_layer_is_a_mapping_or_false() -> None:
    message = refused(
        "target: {app: sample}\nroutes:\n  a:\n    request: {path: /a}\n    cache: {semantic: true}\n"
    )
    assert message == (
        "routes.yaml: routes.a.cache.semantic (line 5): "
        "a cache layer {scope, ttl_s, invalidation, target_hit_rate, ...} or false"
    )


def test_an_alert_is_a_rule_or_false() -> None:
    message = refused(
        "target: {app: sample}\nroutes:\n  a:\n    request: {path: /a}\n    alerts: {fallback_rate: 5}\n"
    )
    assert "routes.a.alerts.fallback_rate (line 5): the alert rule (text), or false" in message


def test_target_is_the_sampleapp_or_a_url() -> None:
    both = refused(
        'target: {app: sample, url: "http://127.0.0.1:1"}\nroutes:\n  a:\n    request: {path: /a}\n'
    )
    assert "target (line 1): give exactly one of `app: sample` or `url: http://HOST:PORT`" in both
    scheme = refused("target: {url: ftp://x}\nroutes:\n  a:\n    request: {path: /a}\n")
    assert "target.url (line 1): must start with http:// or https://" in scheme


def test_route_names_must_be_usable_as_file_names() -> None:
    message = refused("target: {app: sample}\nroutes:\n  a/b:\n    request: {path: /a}\n")
    assert "routes.a/b (line 3): a route name is letters, digits" in message


def test_a_file_needs_routes_and_a_mapping() -> None:
    assert "routes (line 1): Field required" in refused("target: {app: sample}\n")
    assert refused("- a\n- b\n") == "routes.yaml: a routes file is a mapping (target, routes, ...)"
    assert refused("a: [\n").startswith("routes.yaml: invalid YAML (line 2")


def test_missing_file_is_an_invalid_routes_error(tmp_path: Path) -> None:
    with pytest.raises(InvalidRoutes, match="cannot read"):
        load_routes(tmp_path / "nope.yaml")


@pytest.mark.parametrize(
    ("routes_text", "experiment_text"),
    [
        (
            'target: {app: sample, url: "http://127.0.0.1:1"}\nroutes:\n  a:\n    request: {path: /a}\n',
            'target: {app: sample, url: "http://127.0.0.1:1", request: {path: /a}}\n'
            "title: t\nload: {rate: 1, duration_s: 1}\n",
        ),
        (
            "target: {url: ftp://x}\nroutes:\n  a:\n    request: {path: /a}\n",
            "target: {url: ftp://x, request: {path: /a}}\ntitle: t\nload: {rate: 1, duration_s: 1}\n",
        ),
        ("target: {app: sample}\nroutes: [\n", "target: {app: sample}\ntitle: [\n"),
    ],
    ids=["app-and-url", "url-scheme", "invalid-yaml"],
)
def test_routes_and_experiment_files_refuse_the_same_mistake_in_the_same_words(
    routes_text: str, experiment_text: str
) -> None:
    with pytest.raises(InvalidExperiment) as info:
        parse_experiment(experiment_text, "routes.yaml")
    assert refused(routes_text) == str(info.value)


def test_an_unreadable_file_reads_the_same_for_routes_and_experiments(tmp_path: Path) -> None:
    with pytest.raises(InvalidRoutes) as routes:
        load_routes(tmp_path / "nope.yaml")
    with pytest.raises(InvalidExperiment) as experiment:
        load_experiment(tmp_path / "nope.yaml")
    assert (
        str(routes.value)
        == str(experiment.value)
        == f"{tmp_path / 'nope.yaml'}: cannot read: No such file or directory"
    )


def test_a_file_that_is_not_utf8_is_refused_by_name_for_routes_and_experiments(tmp_path: Path) -> None:
    path = tmp_path / "latin1.yaml"
    path.write_bytes("title: caf\u00e9\n".encode("latin-1"))
    with pytest.raises(InvalidRoutes) as routes:
        load_routes(path)
    with pytest.raises(InvalidExperiment) as experiment:
        load_experiment(path)
    assert str(routes.value) == str(experiment.value) == f"{path}: not UTF-8 text (byte 10: b'\\xe9')"


def test_checklist_parts_may_be_left_out() -> None:
    data = complete_spec()
    for part in ("tokens", "latency", "models", "retry", "cache", "degradation", "alerts", "capacity"):
        drop_field(data, f"routes.summarize.{part}")
    route = validate_routes(data, "bare").routes["summarize"]
    assert route.tokens is None
    assert route.degradation is None


def test_provider_defaults_to_instant_answers_unless_the_file_says_otherwise() -> None:
    data = drop_field(complete_spec(), "provider")
    assert validate_routes(data, "x").provider.latency == "none"
    set_field(data, "provider", {"seed": 3})
    assert validate_routes(data, "x").provider.latency == "none"
    set_field(data, "provider", {"latency": "realistic"})
    assert validate_routes(data, "x").provider.latency == "realistic"

"""The sampleapp's config: the documented defaults, YAML overrides, and errors with field paths."""

from __future__ import annotations

from pathlib import Path

import pytest

from sampleapp.config import AppConfig, load_config, parse_config
from sampleapp.errors import ConfigError


def test_the_defaults_are_the_documented_ones() -> None:
    c = AppConfig()
    assert (c.api_key, c.primary_model, c.fallback_model) == ("sk-sampleapp", "gpt-4o", "gpt-4o-mini")
    assert (c.embedding_model, c.default_tenant) == ("text-embedding-3-small", "public")
    r = c.retry
    assert (r.max_attempts, r.primary_attempts, r.backoff_s, r.max_backoff_s) == (3, 2, 0.05, 1.0)
    assert (r.max_retry_after_s, r.call_timeout_s) == (2.0, 4.0)
    s, x, ch, e = c.routes.summarize, c.routes.extract, c.routes.chat, c.routes.embed
    assert (s.timeout_s, s.max_input_tokens, s.on_input_over_budget, s.max_output_tokens) == (
        10.0,
        2000,
        "reject",
        120,
    )
    assert (x.timeout_s, x.max_input_tokens, x.max_output_tokens, x.max_reasks) == (10.0, 2000, 200, 2)
    assert (ch.timeout_s, ch.max_input_tokens, ch.max_output_tokens) == (30.0, 4000, 300)
    assert (e.timeout_s, e.max_texts, e.cache_ttl_s, e.cache_max_entries) == (5.0, 64, 3600, 10000)


def test_a_yaml_file_overrides_only_what_it_names(tmp_path: Path) -> None:
    path = tmp_path / "app.yaml"
    path.write_text("primary_model: gpt-4.1\nroutes:\n  summarize: {on_input_over_budget: trim}\n")
    c = load_config(path)
    assert c.primary_model == "gpt-4.1"
    assert c.routes.summarize.on_input_over_budget == "trim"
    assert c.routes.summarize.max_input_tokens == 2000
    assert c.retry.max_attempts == 3


def test_an_unknown_field_is_refused_with_the_file_and_field_path(tmp_path: Path) -> None:
    path = tmp_path / "app.yaml"
    path.write_text("routes:\n  summarize:\n    max_tokens: 10\n")
    with pytest.raises(ConfigError, match=r"app\.yaml: routes\.summarize\.max_tokens: unknown field"):
        load_config(path)


def test_a_bad_value_names_its_field_path_and_the_value() -> None:
    with pytest.raises(ConfigError, match=r"retry\.max_attempts: .*greater than or equal to 1 \(got 0\)"):
        parse_config({"retry": {"max_attempts": 0}})
    with pytest.raises(ConfigError, match=r"routes\.summarize\.on_input_over_budget: .*'reject' or 'trim'"):
        parse_config({"routes": {"summarize": {"on_input_over_budget": "drop"}}})


def test_primary_attempts_cannot_exceed_max_attempts() -> None:
    with pytest.raises(ConfigError, match=r"retry: primary_attempts \(4\) cannot exceed max_attempts \(3\)"):
        parse_config({"retry": {"primary_attempts": 4}})


def test_unreadable_or_malformed_files_say_so(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="cannot read the config file"):
        load_config(tmp_path / "missing.yaml")
    bad = tmp_path / "bad.yaml"
    bad.write_text("retry: [1,\n")
    with pytest.raises(ConfigError, match=r"bad\.yaml: not valid YAML \(line \d+\)"):
        load_config(bad)
    listed = tmp_path / "list.yaml"
    listed.write_text("- 1\n")
    with pytest.raises(ConfigError, match="expected a mapping"):
        load_config(listed)


def test_an_empty_file_is_all_defaults(tmp_path: Path) -> None:
    path = tmp_path / "empty.yaml"
    path.write_text("")
    assert load_config(path) == AppConfig()

"""The `fake_provider` fixture: one real server per session, reset before every test."""

from __future__ import annotations

import pytest

from tests.harness.pytest_plugin.inner import PYPROJECT

pytest_plugins = ["pytester"]


def test_a_fault_added_in_one_test_is_gone_in_the_next_and_so_is_its_ledger(suite: pytest.Pytester) -> None:
    suite.makepyfile(
        """
        import openai
        import pytest

        URLS = []

        def test_first(fake_provider, chat):
            URLS.append(fake_provider.url)
            fake_provider.add_fault("http_error", status=503)
            with pytest.raises(openai.InternalServerError):
                chat()
            assert [r.status for r in fake_provider.ledger()] == [503]

        def test_second(fake_provider, chat):
            assert fake_provider.url == URLS[0]  # the same server, started once
            assert fake_provider.faults() == []
            assert fake_provider.ledger() == []
            assert fake_provider.summary()["totals"]["calls"] == 0
            chat()
            assert [r.status for r in fake_provider.ledger()] == [200]
        """
    )
    suite.runpytest().assert_outcomes(passed=2)


def test_a_scenario_put_in_force_by_one_test_is_gone_in_the_next(suite: pytest.Pytester) -> None:
    suite.makepyfile(
        """
        import openai
        import pytest

        def test_first(fake_provider, chat):
            fake_provider.use_scenario({"limits": [{"scope": "key", "rpm": 1}]})
            chat()
            with pytest.raises(openai.RateLimitError):
                chat()

        def test_second(fake_provider, chat):
            chat()
            chat()
        """
    )
    suite.runpytest().assert_outcomes(passed=2)


def test_add_fault_takes_a_kind_and_keywords_or_a_whole_rule_and_returns_its_name(
    suite: pytest.Pytester,
) -> None:
    suite.makepyfile(
        """
        import openai
        import pytest

        def test_faults(fake_provider, chat):
            a = fake_provider.add_fault("rate_limit", retry_after_s=1, match={"model": "gpt-4o"}, max_hits=1)
            b = fake_provider.add_fault({"name": "outage", "fault": {"kind": "http_error", "status": 500}})
            assert (a, b) == ("rate_limit-1", "outage")
            faults = {f["name"]: f for f in fake_provider.faults()}
            assert faults["rate_limit-1"]["match"] == {"model": "gpt-4o"}
            assert faults["rate_limit-1"]["max_hits"] == 1
            with pytest.raises(openai.RateLimitError):
                chat()
            fake_provider.remove_fault("rate_limit-1")
            with pytest.raises(openai.InternalServerError):
                chat()
            fake_provider.remove_fault("outage")
            chat()
        """
    )
    suite.runpytest().assert_outcomes(passed=1)


def test_a_bad_fault_rule_is_refused_with_the_field_that_is_wrong(suite: pytest.Pytester) -> None:
    suite.makepyfile(
        """
        import pytest
        from fakeprovider.scenario import ScenarioError
        from harness.errors import ProviderError

        def test_refused(fake_provider):
            with pytest.raises(ScenarioError, match=r"fault\\.http_error\\.status"):
                fake_provider.add_fault("http_error", status="often")
            with pytest.raises(ScenarioError, match="kind"):
                fake_provider.add_fault({"fault": {"kind": "meteor_strike"}})
            fake_provider.add_fault("hang", name="h")
            with pytest.raises(ProviderError, match="already exists"):
                fake_provider.add_fault("hang", name="h")
            with pytest.raises(ProviderError, match="no fault rule named 'nope'"):
                fake_provider.remove_fault("nope")
            assert [f["name"] for f in fake_provider.faults()] == ["h"]
        """
    )
    suite.runpytest().assert_outcomes(passed=1)


def test_ledger_waits_for_a_streamed_call_to_be_recorded(suite: pytest.Pytester) -> None:
    suite.makepyfile(
        """
        import openai

        def test_stream(fake_provider):
            with openai.OpenAI(base_url=fake_provider.openai_base_url, api_key="k", max_retries=0) as client:
                stream = client.chat.completions.create(
                    model="gpt-4o", messages=[{"role": "user", "content": "hi"}], stream=True,
                    extra_headers={"X-Route": "chat", "X-Tenant": "acme"},
                )
                text = "".join(c.choices[0].delta.content or "" for c in stream if c.choices)
            (record,) = fake_provider.ledger(at_least=1)
            assert record.stream and record.tags["route"] == "chat" and record.output_tokens > 0
            assert fake_provider.summary()["by"]["tenant"]["acme"]["calls"] == 1
            assert text
        """
    )
    suite.runpytest().assert_outcomes(passed=1)


def test_latency_and_seed_come_from_the_ini_file_or_the_command_line(suite: pytest.Pytester) -> None:
    suite.makepyprojecttoml(PYPROJECT + 'rehearsal_latency = "realistic"\nrehearsal_seed = "7"\n')
    suite.makepyfile(
        """
        def test_settings(fake_provider, pytestconfig):
            assert (fake_provider.latency, fake_provider.seed) == (pytestconfig.getoption("x_expect"), 7)
        """
    )
    suite.makeconftest('def pytest_addoption(parser):\n    parser.addoption("--x-expect")\n')
    suite.runpytest("--x-expect", "realistic").assert_outcomes(passed=1)
    suite.runpytest("--x-expect", "none", "--rehearsal-latency", "none").assert_outcomes(passed=1)


def test_a_bad_latency_in_the_ini_file_is_a_usage_error(suite: pytest.Pytester) -> None:
    suite.makepyprojecttoml(PYPROJECT + 'rehearsal_latency = "sluggish"\n')
    suite.makepyfile("def test_nothing(): pass")
    result = suite.runpytest()
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(["*rehearsal_latency: expected one of none, realistic, got 'sluggish'*"])

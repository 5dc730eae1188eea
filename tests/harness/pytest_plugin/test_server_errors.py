"""Errors inside the fake provider are re-raised in the test that caused them, never lost, even
when the service under test hid them behind a retry or a fallback."""

from __future__ import annotations

import pytest

pytest_plugins = ["pytester"]

# A bug in the provider's request path for one model, which it answers as a 500.
BUG_IN_GPT_4O = """
import fakeprovider.serving.handler

@pytest.fixture
def buggy_gpt_4o(monkeypatch):
    real = fakeprovider.serving.handler.build_plan

    def build_plan(req, *args, **kwargs):
        if req.model.id == "gpt-4o":
            raise RuntimeError("plan builder exploded")
        return real(req, *args, **kwargs)

    monkeypatch.setattr(fakeprovider.serving.handler, "build_plan", build_plan)
"""


def test_a_provider_bug_fails_the_test_even_when_the_service_fell_back_past_it(
    suite: pytest.Pytester,
) -> None:
    suite.makepyfile(
        "import pytest, urllib.request, json\n"
        + BUG_IN_GPT_4O
        + """
def test_fallback_hides_the_bug(buggy_gpt_4o, service_url):  # the provider only behind the service
    request = urllib.request.Request(service_url + "/summarize", data=b'{"text": "x"}', method="POST")
    with urllib.request.urlopen(request, timeout=10) as resp:
        assert json.load(resp)["model"] == "gpt-4o-mini"  # the service fell back: looks fine

def test_the_next_test_does_not_inherit_the_error(fake_provider, service_url):
    request = urllib.request.Request(service_url + "/summarize", data=b'{"text": "x"}', method="POST")
    with urllib.request.urlopen(request, timeout=10) as resp:
        assert json.load(resp)["model"] == "gpt-4o"
"""
    )
    result = suite.runpytest()
    result.assert_outcomes(passed=1, failed=1)
    result.stdout.fnmatch_lines(
        [
            "*FakeProviderInternalError: internal error in the fake provider: "
            "RuntimeError('plan builder exploded')*request id*answered 500*",
            "FAILED *::test_fallback_hides_the_bug*",
        ]
    )


def test_an_exception_escaping_a_provider_handler_is_raised_in_the_test_with_its_traceback(
    suite: pytest.Pytester,
) -> None:
    suite.makepyfile(
        """
        import openai
        import pytest
        from fakeprovider.serving.call import Call

        def test_ledger_write_fails(fake_provider, chat, monkeypatch):
            def end(*args):
                raise KeyError("ledger went away")

            monkeypatch.setattr(Call, "end", end)
            with pytest.raises(openai.InternalServerError):
                chat()
        """
    )
    result = suite.runpytest()
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(
        [
            "E*KeyError: 'ledger went away'",
            "E*(raised in the fake provider's thread; logged as 'Error handling request from 127.0.0.1')",
            # and the provider's own frames, from its thread, in the captured log
            "*fakeprovider/serving/handler.py*in serve*",
        ]
    )


def test_a_failing_test_shows_its_own_failure_and_the_provider_error(suite: pytest.Pytester) -> None:
    suite.makepyfile(
        "import pytest, urllib.request, json\n"
        + BUG_IN_GPT_4O
        + """
def test_expects_the_primary(buggy_gpt_4o, fake_provider, service_url):
    request = urllib.request.Request(service_url + "/summarize", data=b'{"text": "x"}', method="POST")
    with urllib.request.urlopen(request, timeout=10) as resp:
        assert json.load(resp)["model"] == "gpt-4o"
"""
    )
    result = suite.runpytest()
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(
        [
            "E*AssertionError: assert 'gpt-4o-mini' == 'gpt-4o'*",
            "*During handling of the above exception, another exception occurred*",
            "E*FakeProviderInternalError: internal error in the fake provider*",
        ]
    )


def test_several_provider_errors_in_one_test_are_raised_together(suite: pytest.Pytester) -> None:
    suite.makepyfile(
        "import openai, pytest\n"
        + BUG_IN_GPT_4O
        + """
def test_two_calls(buggy_gpt_4o, fake_provider, chat):
    for _ in range(2):
        with pytest.raises(openai.InternalServerError):
            chat()
"""
    )
    result = suite.runpytest()
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(["*the fake provider raised 2 errors during *::test_two_calls*"])

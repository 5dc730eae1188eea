"""The plugin as a user gets it: loaded by its `pytest11` entry point in a fresh interpreter,
nothing heavy imported until a fixture is used, nothing left running when the session ends."""

from __future__ import annotations

import socket
import urllib.parse

import pytest

pytest_plugins = ["pytester"]


def test_the_entry_point_loads_the_plugin_which_stays_light_until_a_fixture_is_used(
    suite: pytest.Pytester,
) -> None:
    suite.makepyfile(
        """
        import sys
        import pytest

        def test_1_nothing_heavy_before_use():
            assert "fakeprovider.server" not in sys.modules
            assert "harness.run.runner" not in sys.modules

        @pytest.mark.rehearsal
        def test_2_marked_and_served(fake_provider):
            assert fake_provider.url.startswith("http://127.0.0.1:")
            assert fake_provider.openai_base_url == fake_provider.url + "/v1"
        """
    )
    result = suite.runpytest_subprocess("-v")
    result.assert_outcomes(passed=2)
    result.stdout.fnmatch_lines(["plugins:*llm-rehearsal*"])


def test_an_interrupted_session_leaves_no_provider_running(suite: pytest.Pytester) -> None:
    suite.makepyfile(
        """
        def test_interrupted(fake_provider, pytestconfig):
            (pytestconfig.rootpath / "url.txt").write_text(fake_provider.url)
            raise KeyboardInterrupt
        """
    )
    recorder = suite.inline_run(no_reraise_ctrlc=True)
    assert recorder.ret == pytest.ExitCode.INTERRUPTED
    url = urllib.parse.urlsplit((suite.path / "url.txt").read_text())
    with pytest.raises(ConnectionRefusedError), socket.create_connection((url.hostname, url.port), timeout=2):
        pass

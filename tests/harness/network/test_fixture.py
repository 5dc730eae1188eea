"""The `toxiproxy` pytest fixture, used by a real inner pytest run: nothing leaks between tests."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

INNER = '''
import pytest
from harness.network.fixture import toxiproxy, toxiproxy_server  # noqa: F401


@pytest.fixture(scope="session")
def shared(toxiproxy_server):
    """A proxy that exists before any test, as on a shared server."""
    return toxiproxy_server.client().create(upstream="127.0.0.1:9", name="shared")


def test_a_leaves_a_mess(toxiproxy, shared):
    assert toxiproxy.running()
    left = toxiproxy.create(upstream="127.0.0.1:9", name="left")
    left.add_toxic(type="latency", attributes={"latency": 10})
    shared.add_toxic(type="timeout")
    shared.disable()


def test_b_starts_clean(toxiproxy, toxiproxy_server, shared):
    assert toxiproxy_server.source == "embedded"
    proxies = toxiproxy.proxies()
    assert set(proxies) == {"shared"}
    assert proxies["shared"].enabled is True
    assert proxies["shared"].toxics() == {}
'''


def test_the_fixture_removes_proxies_and_toxics_a_test_left_behind(tmp_path: Path) -> None:
    (tmp_path / "test_inner.py").write_text(textwrap.dedent(INNER))
    env = {k: v for k, v in os.environ.items() if k != "TOXIPROXY_URL"}
    result = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "test_inner.py"],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "2 passed" in result.stdout

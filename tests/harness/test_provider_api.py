"""The runner's client of the provider's control API against a provider that stopped answering
(SIGSTOP): one bounded wait, then every later call fails at once naming the first."""

from __future__ import annotations

import signal
import subprocess
import sys
from collections.abc import Iterator

import aiohttp
import pytest

from harness.errors import ProviderError
from harness.run.provider_api import ProviderAPI


@pytest.fixture
def stopped_provider() -> Iterator[str]:
    proc = subprocess.Popen(
        [sys.executable, "-m", "harness.cli", "serve", "--port", "0", "--latency", "none"],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        stdin=subprocess.DEVNULL,
        text=True,
    )
    try:
        assert proc.stdout is not None
        url = proc.stdout.readline().strip().removeprefix("listening on ")
        proc.send_signal(signal.SIGSTOP)
        yield url
    finally:
        proc.send_signal(signal.SIGCONT)
        proc.terminate()
        proc.wait(timeout=10)
        assert proc.stdout is not None
        proc.stdout.close()


async def test_a_stopped_provider_costs_one_bounded_wait_then_calls_fail_at_once(
    stopped_provider: str,
) -> None:
    async with aiohttp.ClientSession() as session:
        api = ProviderAPI(stopped_provider, session, timeout_s=0.5)
        with pytest.raises(ProviderError) as first:
            await api.health()
        assert str(first.value) == (
            f"fake provider at {stopped_provider} did not answer GET /control/health in 0.5 s"
            " (stopped or hung); no further calls were tried"
        )
        # The ledger is not asked for: the error is the first one's.
        with pytest.raises(ProviderError) as second:
            await api.ledger()
        assert str(second.value) == str(first.value)

"""pytest fixtures: `toxiproxy_server` (one per session) and `toxiproxy` (a client per test).

The pytest plugin re-exports both; `toxiproxy` needs `toxiproxy_server` in scope.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

import pytest

if TYPE_CHECKING:
    from harness.network.client import ToxiproxyService


@pytest.fixture(scope="session")
def toxiproxy_server() -> Iterator[ToxiproxyService]:
    """The session's Toxiproxy: `TOXIPROXY_URL`, else `toxiproxy-server` on PATH, else embedded."""
    # Imported here: the pytest plugin re-exports these fixtures in every pytest run, which should
    # not pay for the client and server imports unless a test asks for them.
    from harness.network.client import ToxiproxyService

    with ToxiproxyService() as service:
        yield service


@pytest.fixture
def toxiproxy(toxiproxy_server: ToxiproxyService) -> Iterator[Any]:
    """A `toxiproxy.Toxiproxy` client; after the test, proxies it created are deleted and the
    server is reset (every proxy enabled, every toxic removed), so nothing leaks into the next.

    Proxies that existed before the test (on a shared server) are left in place.
    """
    client = toxiproxy_server.client()
    before = set(client.proxies())
    yield client
    # Re-pointed: toxiproxy-python's address is process-wide and the test may have moved it.
    client = toxiproxy_server.client()
    for name, proxy in client.proxies().items():
        if name not in before:
            proxy.destroy()
    client.reset()

"""The service under test, started once per session and pointed at the session's fake provider.

`fake_provider_server` is the plugin's session-scoped handle (the same server every test's
`fake_provider` resets), so the service is configured once and each test still starts clean.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from summarizer import serve

from harness.pytest_plugin import FakeProviderHandle


@pytest.fixture(scope="session")
def service_url(fake_provider_server: FakeProviderHandle) -> Iterator[str]:
    with serve(fake_provider_server.openai_base_url) as url:
        yield url

"""Network faults: a Toxiproxy-compatible server (HTTP API, TCP proxies, toxics) and a client
wrapper that prefers a real `toxiproxy-server` when there is one."""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from harness.network.errors import ApiError, NetworkError
    from harness.network.server import ToxiproxyServer, ToxiproxyServerThread, serve_forever

# Imported on first use: the server pulls in aiohttp (a quarter second), which the pytest plugin
# (imported by every pytest run in the environment) and experiment files should not pay.
_EXPORTS = {
    "ApiError": "harness.network.errors",
    "NetworkError": "harness.network.errors",
    "ToxiproxyServer": "harness.network.server",
    "ToxiproxyServerThread": "harness.network.server",
    "serve_forever": "harness.network.server",
}

__all__ = ["ApiError", "NetworkError", "ToxiproxyServer", "ToxiproxyServerThread", "serve_forever"]


def __getattr__(name: str) -> object:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'harness.network' has no attribute {name!r}")
    return getattr(importlib.import_module(module), name)

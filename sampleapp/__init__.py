"""A small real LLM-backed service, built the way rehearsal preaches; used by the demo, the
probe library and the tests."""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from sampleapp.app import SampleApp, SampleAppThread, make_app
    from sampleapp.config import AppConfig
    from sampleapp.errors import ConfigError, SampleAppError
    from sampleapp.flaws import KNOWN_FLAWS, Flaw, UnknownFlaw

# Imported on first use: the app pulls in the SDK and the tokenizer (seconds), which
# `rehearse --help` (it imports `sampleapp.cli`) should not wait for.
_EXPORTS = {
    "SampleApp": "sampleapp.app",
    "SampleAppThread": "sampleapp.app",
    "make_app": "sampleapp.app",
    "AppConfig": "sampleapp.config",
    "ConfigError": "sampleapp.errors",
    "SampleAppError": "sampleapp.errors",
    "KNOWN_FLAWS": "sampleapp.flaws",
    "Flaw": "sampleapp.flaws",
    "UnknownFlaw": "sampleapp.flaws",
}

__all__ = [
    "KNOWN_FLAWS",
    "AppConfig",
    "ConfigError",
    "Flaw",
    "SampleApp",
    "SampleAppError",
    "SampleAppThread",
    "UnknownFlaw",
    "make_app",
]


def __getattr__(name: str) -> object:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'sampleapp' has no attribute {name!r}")
    return getattr(importlib.import_module(module), name)

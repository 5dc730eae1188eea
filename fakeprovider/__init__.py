"""rehearsal's fake model server: OpenAI and Anthropic wire protocols, real tokens, a ledger."""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from fakeprovider.server import FakeProvider, FakeProviderThread, ServerError

__all__ = ["FakeProvider", "FakeProviderThread", "ServerError"]


def __getattr__(name: str) -> object:
    # Imported on first use: the server loads the tokenizer (a second or more), which importing
    # a light module such as `fakeprovider.scenario.rules` (experiment files, locust workers) should not.
    if name in __all__:
        return getattr(importlib.import_module("fakeprovider.server"), name)
    raise AttributeError(f"module 'fakeprovider' has no attribute {name!r}")

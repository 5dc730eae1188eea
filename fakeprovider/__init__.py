"""rehearsal's fake model server: OpenAI and Anthropic wire protocols, real tokens, a ledger."""

from fakeprovider.server import FakeProvider, FakeProviderThread, ServerError

__all__ = ["FakeProvider", "FakeProviderThread", "ServerError"]

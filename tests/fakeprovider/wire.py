"""Neutral errors as a dialect sends them, for tests of what produces them (faults, quotas)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from fakeprovider.dialects import DIALECTS
from fakeprovider.dialects.anthropic.wire import anthropic_error_json
from fakeprovider.dialects.openai_wire import openai_error_json
from fakeprovider.errors import ProviderError


@dataclass
class Rendered:
    """`error` as the dialect `api` words it, with both providers' bodies at hand."""

    error: ProviderError
    api: str
    base_headers: dict[str, str] | None = None  # headers already on the answer (quota headers)

    @property
    def status(self) -> int:
        return self.error.status

    @property
    def kind(self) -> str:
        return self.error.kind

    @property
    def message(self) -> str:
        return DIALECTS[self.api].error_message(self.error)

    @property
    def headers(self) -> dict[str, str]:
        """The answer's headers for this error; Anthropic's `x-should-retry` is tested apart."""
        headers = dict(self.base_headers or {})
        DIALECTS[self.api].error_headers(self.error, headers)
        headers.pop("x-should-retry", None)
        return headers

    def openai_body(self) -> dict[str, Any]:
        return openai_error_json(self.error)

    def anthropic_body(self) -> dict[str, Any]:
        return anthropic_error_json(self.error)

"""Neutral error answers: what failed and why, with no provider's words or shapes.

A fault, a quota or a parser raises a `ProviderError`; the call's dialect renders it (status,
body, headers, the message its provider would write). `message` is the text every dialect
sends as is; an empty message with a `detail` is worded by the dialect.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

ErrorKind = Literal[
    "invalid_request",
    "not_found",
    "model_not_found",
    "context_length",
    "too_large",
    "auth",
    "rate_limit",
    "quota",
    "server",
    "overloaded",
    "timeout",
]


@dataclass(frozen=True, slots=True)
class RetryAfter:
    """When the caller may retry, and how it was given: `exact` seconds, whole `ms`, an HTTP
    `date`, or `rounded_up` (a quota's wait: whole seconds, whole ms, at least 1)."""

    seconds: float
    form: Literal["exact", "ms", "date", "rounded_up"] = "exact"


@dataclass(frozen=True, slots=True)
class ModelMissing:
    model: str


@dataclass(frozen=True, slots=True)
class ContextOverflow:
    model: str
    window: int
    used: int


@dataclass(frozen=True, slots=True)
class RateLimited:
    """A `rate_limit` fault on `model`: the caller is told to wait `wait` seconds."""

    model: str
    wait: float


@dataclass(frozen=True, slots=True)
class QuotaRefusal:
    """A quota (`limits:`) refused the call: which bucket, how full, how long until room."""

    what: Literal["requests", "tokens"]
    limit: int
    requested: int
    scope: str
    model: str
    wait: float


Detail = ModelMissing | ContextOverflow | RateLimited | QuotaRefusal


@dataclass(slots=True)
class ProviderError(Exception):
    """An error answer: HTTP status, what kind of failure, and the facts a dialect words."""

    status: int
    kind: ErrorKind
    message: str
    code: str | None = None
    param: str | None = None
    retry_after: RetryAfter | None = None
    detail: Detail | None = None

    def __str__(self) -> str:
        return f"{self.status} {self.kind}: {self.message}"


def invalid(message: str, param: str | None = None, code: str | None = None) -> ProviderError:
    return ProviderError(400, "invalid_request", message, code=code, param=param)


def model_not_found(model: str) -> ProviderError:
    return ProviderError(404, "model_not_found", "", param="model", detail=ModelMissing(model))


def context_length(model: str, window: int, used: int) -> ProviderError:
    return ProviderError(400, "context_length", "", detail=ContextOverflow(model, window, used))

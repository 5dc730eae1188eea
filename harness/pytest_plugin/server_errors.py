"""Errors inside the fake provider, kept until the test that caused them claims them.

The provider answers its own bugs as a 500 (so a client never sees a traceback) and aiohttp
only logs an exception that escapes a handler: either way a service under test that retries or
falls back would hide it. Both are collected here and re-raised in the test.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from harness.errors import ProviderError

# How the provider's request handlers label a bug of theirs in the ledger
# (`fakeprovider.serving.delivery.internal_error_message`).
INTERNAL_ERROR_PREFIX = "internal error in the fake provider"
# Where an exception in the server's thread gets logged: aiohttp (a handler raised), asyncio (a
# task or callback raised), the provider itself.
LOGGERS = ("aiohttp.server", "aiohttp.web", "asyncio", "fakeprovider")


class FakeProviderInternalError(ProviderError):
    """The fake provider failed while serving a call (a bug in it, not a fault it was given)."""


@dataclass(slots=True)
class ServerError:
    """One error seen in the provider, with the test that was running when it happened."""

    error: BaseException
    test: str | None


def _client_error(exc: BaseException | None) -> bool:
    """A malformed request logged by aiohttp: the caller's mistake, answered with a 400."""
    from aiohttp.http_exceptions import HttpProcessingError

    return isinstance(exc, HttpProcessingError)


class ServerErrorLog(logging.Handler):
    """A log handler that keeps the errors logged by one thread (the provider's)."""

    def __init__(self, thread_ident: int | None) -> None:
        super().__init__(level=logging.ERROR)
        self.thread_ident = thread_ident
        self.current_test: str | None = None
        self._errors: list[ServerError] = []

    def emit(self, record: logging.LogRecord) -> None:
        if record.thread != self.thread_ident:
            return
        exc = record.exc_info[1] if record.exc_info else None
        if _client_error(exc):
            return
        if exc is None:
            exc = FakeProviderInternalError(f"the fake provider logged: {record.getMessage()}")
        else:
            exc.add_note(f"(raised in the fake provider's thread; logged as {record.getMessage()!r})")
        self._errors.append(ServerError(exc, self.current_test))

    def add(self, error: BaseException) -> None:
        self._errors.append(ServerError(error, self.current_test))

    def attach(self) -> None:
        for name in LOGGERS:
            logging.getLogger(name).addHandler(self)

    def detach(self) -> None:
        for name in LOGGERS:
            logging.getLogger(name).removeHandler(self)

    def take(self) -> list[ServerError]:
        """The errors kept so far (and forget them)."""
        taken, self._errors = self._errors, []
        return taken


def internal_errors(records: Iterable[Mapping[str, Any]]) -> list[BaseException]:
    """The ledger records of calls the provider answered with its own bug, as exceptions."""
    out: list[BaseException] = []
    for r in records:
        error = r.get("error")
        if isinstance(error, str) and error.startswith(INTERNAL_ERROR_PREFIX):
            out.append(
                FakeProviderInternalError(
                    f"{error} (ledger seq {r.get('seq')}, {r.get('api')} {r.get('model')}, "
                    f"request id {r.get('request_id')}, answered {r.get('status')})"
                )
            )
    return out


def raise_errors(errors: Sequence[ServerError], when: str) -> None:
    """Raise the collected errors: the one error itself, or a group of them."""
    __tracebackhide__ = True
    if not errors:
        return
    for e in errors:
        if e.test is None:
            e.error.add_note("(it happened between tests, after the last one's check)")
        elif e.test != when:
            e.error.add_note(f"(it happened during {e.test})")
    if len(errors) == 1:
        raise errors[0].error
    exceptions = [e.error for e in errors]
    message = f"the fake provider raised {len(errors)} errors during {when}"
    if all(isinstance(x, Exception) for x in exceptions):
        raise ExceptionGroup(message, [x for x in exceptions if isinstance(x, Exception)])
    raise BaseExceptionGroup(message, exceptions)

"""Running out of file descriptors, said once in a while rather than per refused connection.

When the process has no descriptor left, asyncio's accept loop logs "socket.accept() out of
system resource" with a traceback for every connection it cannot take: tens of MB of stderr a
minute under a connection flood. The provider's loop gets an exception handler that turns
those into one line per `QUIET_S` with a count, and passes everything else on unchanged.
"""

from __future__ import annotations

import asyncio
import errno
import logging
import time
from collections.abc import Callable
from typing import Any

QUIET_S = 10.0
_ACCEPT_MESSAGE = "socket.accept() out of system resource"
_RESOURCE_ERRNOS = frozenset({errno.EMFILE, errno.ENFILE, errno.ENOBUFS, errno.ENOMEM})
log = logging.getLogger("fakeprovider")
Handler = Callable[[asyncio.AbstractEventLoop, dict[str, Any]], object]


class QuietResourceErrors:
    """An event-loop exception handler: resource errors of `accept` at most once per `QUIET_S`."""

    def __init__(
        self, previous: Callable[[asyncio.AbstractEventLoop, dict[str, Any]], object] | None
    ) -> None:
        self._previous = previous
        self._last = -QUIET_S
        self._suppressed = 0

    def __call__(self, loop: asyncio.AbstractEventLoop, context: dict[str, Any]) -> None:
        exc = context.get("exception")
        if context.get("message") == _ACCEPT_MESSAGE and getattr(exc, "errno", None) in _RESOURCE_ERRNOS:
            now = time.monotonic()
            if now - self._last < QUIET_S:
                self._suppressed += 1
                return
            more = f" ({self._suppressed} more since the last report)" if self._suppressed else ""
            log.error("fake provider: cannot accept connections: %s%s", exc, more)
            self._last, self._suppressed = now, 0
            return
        if self._previous is not None:
            self._previous(loop, context)
        else:
            loop.default_exception_handler(context)


def quiet_resource_errors(loop: asyncio.AbstractEventLoop) -> None:
    """Install `QuietResourceErrors` on `loop` (keeping a handler already there for the rest)."""
    if not isinstance(loop.get_exception_handler(), QuietResourceErrors):
        loop.set_exception_handler(QuietResourceErrors(loop.get_exception_handler()))

"""A child's lifeline to the process that started it: when the parent dies, even by SIGKILL,
the child stops too, instead of living on as an orphan that holds its port.

The parent starts the child with a pipe as its stdin and never writes to it; the child watches
that pipe from a thread. The kernel closes the parent's end when the parent dies, however it
dies, so the child reads EOF: it removes the work folder it was given (if any) and stops its
process group with SIGTERM, then SIGKILL after `GRACE_S`. A pipe works the same on Linux and
macOS, unlike a parent-death signal (`prctl`, Linux only).
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path

ENV = "REHEARSE_LIFELINE"
CLEANUP_ENV = "REHEARSE_LIFELINE_CLEANUP"
GRACE_S = 5.0


def child_env(cleanup: Path | None = None) -> dict[str, str]:
    """Environment for a child started with `stdin=PIPE` (kept open): it watches its parent."""
    env = {ENV: "stdin"}
    if cleanup is not None:
        env[CLEANUP_ENV] = str(cleanup)
    return env


def watch_parent() -> None:
    """In a child started with `child_env()`: stop this process group when the parent dies."""
    if os.environ.pop(ENV, None) != "stdin":
        return
    cleanup = os.environ.pop(CLEANUP_ENV, None)
    fd = sys.stdin.fileno()
    _start_thread(lambda: _wait_and_stop(fd, cleanup))


def _wait_and_stop(fd: int, cleanup: str | None) -> None:
    with contextlib.suppress(OSError):
        while os.read(fd, 4096):  # the parent never writes: anything read is ignored
            pass
    if cleanup:
        shutil.rmtree(cleanup, ignore_errors=True)
    _signal_group(signal.SIGTERM)
    time.sleep(GRACE_S)
    _signal_group(signal.SIGKILL)


def _signal_group(sig: signal.Signals) -> None:
    # A child started in a session of its own leads its group: what it started (locust's
    # workers) stops with it.
    with contextlib.suppress(ProcessLookupError, PermissionError):
        if os.getpgrp() == os.getpid():
            os.killpg(os.getpid(), sig)
        else:
            os.kill(os.getpid(), sig)


def _start_thread(target: Callable[[], None]) -> None:
    """A real OS thread, also in a process gevent has patched (locust), where `threading` makes
    greenlets and a blocking read would stop every other one."""
    if "gevent" in sys.modules:
        from gevent import monkey  # type: ignore[import-untyped]

        if monkey.is_module_patched("threading"):
            monkey.get_original("_thread", "start_new_thread")(target, ())
            return
    threading.Thread(target=target, name="lifeline", daemon=True).start()

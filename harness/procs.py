"""Child processes the harness starts (the fake provider, the sampleapp, locust, toxiproxy):
start, read the `listening on` line, watch, stop, and free loopback ports for them. Each child
runs in its own process group so that stopping it stops everything it started.

Neutral: the runner, the load engines and the network proxy import it; it imports none of them."""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import socket
import sys
from collections import deque
from collections.abc import Sequence

from harness import lifeline
from harness.errors import ChildCrashed, HarnessError

READY_TIMEOUT_S = 30.0
STOP_TIMEOUT_S = 5.0
_LISTENING = "listening on "


class Child:
    """One started process whose first stdout line is `listening on http://HOST:PORT`."""

    def __init__(self, name: str, proc: asyncio.subprocess.Process) -> None:
        self.name = name
        self.proc = proc
        self.url = ""
        self._stderr: deque[str] = deque(maxlen=40)
        self._drains: list[asyncio.Task[None]] = []

    @property
    def pid(self) -> int:
        return self.proc.pid

    def stderr_tail(self) -> str:
        return "\n".join(self._stderr)

    def alive(self) -> bool:
        return self.proc.returncode is None

    def check(self) -> None:
        """Raise `ChildCrashed` if the process has exited."""
        if self.proc.returncode is not None:
            raise ChildCrashed(
                f"{self.name} exited with status {self.proc.returncode} during the run"
                + (f":\n{self.stderr_tail()}" if self._stderr else "")
            )

    async def _drain(self, stream: asyncio.StreamReader, keep: bool) -> None:
        while True:
            line = await stream.readline()
            if not line:
                return
            if keep:
                self._stderr.append(line.decode(errors="replace").rstrip())

    async def wait_ready(self, timeout_s: float = READY_TIMEOUT_S) -> str:
        assert self.proc.stdout is not None
        assert self.proc.stderr is not None
        self._drains.append(asyncio.create_task(self._drain(self.proc.stderr, keep=True)))
        try:
            line = await asyncio.wait_for(self.proc.stdout.readline(), timeout_s)
        except TimeoutError:
            raise HarnessError(f"{self.name} did not say `listening on` within {timeout_s:g} s") from None
        text = line.decode(errors="replace").strip()
        if not text.startswith(_LISTENING):
            await asyncio.sleep(0.2)  # let stderr arrive
            why = self.stderr_tail() or text or f"exit status {self.proc.returncode}"
            raise HarnessError(f"{self.name} failed to start: {why}")
        self.url = text[len(_LISTENING) :]
        self._drains.append(asyncio.create_task(self._drain(self.proc.stdout, keep=False)))
        return self.url

    async def stop(self) -> None:
        await stop_group(self.proc)
        for task in self._drains:
            task.cancel()
        await asyncio.gather(*self._drains, return_exceptions=True)


async def stop_group(proc: asyncio.subprocess.Process) -> None:
    """SIGTERM to the process group `proc` leads, then SIGKILL if it does not exit in time."""
    if proc.returncode is None:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGTERM)
        try:
            await asyncio.wait_for(proc.wait(), STOP_TIMEOUT_S)
        except TimeoutError:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, signal.SIGKILL)
            await proc.wait()


def free_port() -> int:
    """A port free on loopback now, for a child that cannot bind port 0 and say which it got."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


async def spawn_child(
    name: str, args: Sequence[str], env: dict[str, str] | None = None, pass_fds: Sequence[int] = ()
) -> Child:
    """Start `python -m ...args` in its own process group, handing it `pass_fds`; the caller
    waits for its `listening on` line (`Child.wait_ready`) and stops it whatever happens."""
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        *args,
        stdin=asyncio.subprocess.PIPE,  # its lifeline: held open, never written
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
        start_new_session=True,
        env={**os.environ, **lifeline.child_env(), **(env or {})},
        pass_fds=pass_fds,
    )
    return Child(name, proc)


async def start_child(name: str, args: Sequence[str], env: dict[str, str] | None = None) -> Child:
    """Start `python -m ...args` in its own process group and wait for its `listening on` line."""
    child = await spawn_child(name, args, env)
    try:
        await child.wait_ready()
    except BaseException:
        await child.stop()
        raise
    return child

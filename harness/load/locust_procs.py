"""The locust processes of one run: started in their own sessions with their output in log
files, watched, and always stopped (SIGTERM to the process group, then SIGKILL)."""

from __future__ import annotations

import asyncio
import os
import sys
from collections.abc import Sequence
from pathlib import Path

from harness import lifeline
from harness.errors import ChildCrashed
from harness.procs import stop_group

TAIL_LINES = 25


class LocustProcess:
    def __init__(self, name: str, proc: asyncio.subprocess.Process, log: Path) -> None:
        self.name = name
        self.proc = proc
        self.log = log

    @property
    def pid(self) -> int:
        return self.proc.pid

    def alive(self) -> bool:
        return self.proc.returncode is None

    def tail(self) -> str:
        """The last lines of its output (locust logs to stderr)."""
        try:
            lines = self.log.read_text(errors="replace").splitlines()
        except OSError:
            return ""
        return "\n".join(lines[-TAIL_LINES:])

    def crashed(self, when: str) -> ChildCrashed:
        tail = self.tail()
        return ChildCrashed(
            f"{self.name} exited with status {self.proc.returncode} {when}" + (f":\n{tail}" if tail else "")
        )

    async def stop(self) -> None:
        await stop_group(self.proc)


async def start_locust(name: str, args: Sequence[str], log: Path) -> LocustProcess:
    """`python -m locust ARGS` in its own session, stdout and stderr to `log`; should this
    process die, locust's processes stop and remove `log`'s folder (`harness.lifeline`)."""
    with log.open("wb") as out:
        proc = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "locust",
            *args,
            stdin=asyncio.subprocess.PIPE,  # the lifeline: held open, never written
            stdout=out,
            stderr=asyncio.subprocess.STDOUT,
            start_new_session=True,
            env={**os.environ, "PYTHONUNBUFFERED": "1", **lifeline.child_env(cleanup=log.parent)},
        )
    return LocustProcess(name, proc, log)

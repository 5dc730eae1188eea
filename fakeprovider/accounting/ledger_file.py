"""The ledger's JSONL file (`--ledger`): one line per call, written as the call ends.

The file is a copy for the user; the provider's answers never depend on it. So a write that
fails (a full disk, a file gone read-only) is said once and writing stops, while the calls go
on and the ledger stays whole in memory (`GET /control/ledger`). A file removed or replaced
while the provider runs is noticed within `CHECK_S` and written anew at its path, also said
once: records written to a deleted file would be lost without a word.
"""

from __future__ import annotations

import contextlib
import logging
import os
import time
from pathlib import Path
from typing import IO

CHECK_S = 1.0
log = logging.getLogger("fakeprovider")


class LedgerFile:
    def __init__(self, path: Path) -> None:
        self.path = path
        self._out: IO[bytes] | None = path.open("ab")  # an unopenable path fails the start-up
        self._inode = os.fstat(self._out.fileno()).st_ino
        self._checked = time.monotonic()
        self.failed: str | None = None  # why writing stopped

    def write(self, line: bytes) -> None:
        if self._out is None:
            return
        now = time.monotonic()
        if now - self._checked >= CHECK_S:
            self._checked = now
            self._reopen_if_replaced()
        try:
            self._out.write(line)
            self._out.flush()
        except OSError as e:
            self._fail(e)

    def _reopen_if_replaced(self) -> None:
        try:
            same = os.stat(self.path).st_ino == self._inode
        except OSError:
            same = False
        if same or self._out is None:
            return
        log.warning("ledger file %s was removed or replaced; writing a new one there", self.path)
        try:
            self._out.close()
            self._out = self.path.open("ab")
            self._inode = os.fstat(self._out.fileno()).st_ino
        except OSError as e:
            self._out = None
            self._fail(e)

    def _fail(self, e: OSError) -> None:
        self.failed = f"ledger file {self.path}: {e.strerror or e}"
        log.error("%s; calls go on, and the ledger is kept in memory only (GET /control/ledger)", self.failed)
        out, self._out = self._out, None
        if out is not None:
            with contextlib.suppress(OSError):  # the buffered tail cannot go either: already said
                out.close()

    def close(self) -> None:
        out, self._out = self._out, None
        if out is not None:
            try:
                out.close()
            except OSError as e:
                self.failed = f"ledger file {self.path}: {e.strerror or e}"
                log.error("%s (while closing it)", self.failed)

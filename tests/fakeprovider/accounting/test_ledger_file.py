"""The `--ledger` file: a failed write is said once and the calls go on; a file removed while
the provider runs is written anew and said so."""

from __future__ import annotations

import json
import logging
from pathlib import Path

import pytest

from fakeprovider import FakeProviderThread
from fakeprovider.accounting import ledger_file
from fakeprovider.accounting.ledger_file import LedgerFile
from tests.fakeprovider.e2e import read_to_end

HI = {"model": "gpt-4o", "messages": [{"role": "user", "content": "hi"}]}
FULL = Path("/dev/full")  # every write fails with ENOSPC: a full disk on demand (Linux)


@pytest.mark.skipif(not FULL.exists(), reason="needs /dev/full")
def test_a_full_disk_is_said_once_and_every_call_is_still_answered_and_kept(
    caplog: pytest.LogCaptureFixture,
) -> None:
    with (
        caplog.at_level(logging.WARNING, logger="fakeprovider"),
        FakeProviderThread(latency="none", ledger=FULL) as provider,
    ):
        for stream in (False, True, False, True):
            wire = read_to_end(provider.url, "/v1/chat/completions", {**HI, "stream": stream})
            assert wire.received.startswith(b"HTTP/1.1 200")
            assert wire.ended == "eof"
        assert len(provider.state.ledger.records()) == 4
    errors = [r.getMessage() for r in caplog.records if r.name == "fakeprovider"]
    assert errors == [
        "ledger file /dev/full: No space left on device; calls go on, and the ledger is kept in memory"
        " only (GET /control/ledger)"
    ]


def test_a_ledger_file_removed_mid_run_is_written_anew_and_said_so(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    monkeypatch.setattr(ledger_file, "CHECK_S", 0.0)
    path = tmp_path / "calls.jsonl"
    sink = LedgerFile(path)
    sink.write(b'{"seq": 1}\n')
    path.unlink()
    with caplog.at_level(logging.WARNING, logger="fakeprovider"):
        sink.write(b'{"seq": 2}\n')
    sink.close()
    assert [json.loads(line)["seq"] for line in path.read_text().splitlines()] == [2]
    assert [r.getMessage() for r in caplog.records] == [
        f"ledger file {path} was removed or replaced; writing a new one there"
    ]
    assert sink.failed is None

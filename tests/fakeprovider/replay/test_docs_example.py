"""docs/replay.md's record-and-replay example, run as it is written."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[3]


def test_the_record_and_replay_example_runs(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    text = (ROOT / "docs" / "replay.md").read_text()
    found = re.search(r"<!-- example: record-replay -->\n```python\n(.*?)```", text, re.DOTALL)
    assert found is not None, "docs/replay.md: the record-replay example is gone"
    monkeypatch.chdir(tmp_path)  # the example writes ./cassette
    exec(compile(found.group(1), "docs/replay.md", "exec"), {})
    assert len(list((tmp_path / "cassette").glob("*.json"))) == 1

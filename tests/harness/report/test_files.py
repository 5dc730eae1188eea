"""Report files are replaced whole: a reader sees the old file or the new one, never a part."""

from __future__ import annotations

from pathlib import Path

import pytest

from harness.report.files import write_atomically


def test_write_atomically_creates_the_folder_replaces_the_file_and_leaves_no_temporary(
    tmp_path: Path,
) -> None:
    target = tmp_path / "a" / "b" / "report.txt"
    assert write_atomically(target, lambda tmp: tmp.write_text("one")) == target
    write_atomically(str(target), lambda tmp: tmp.write_text("two"))
    assert target.read_text() == "two"
    assert [p.name for p in target.parent.iterdir()] == ["report.txt"]


def test_write_atomically_keeps_the_old_file_when_the_writer_fails(tmp_path: Path) -> None:
    target = tmp_path / "report.txt"
    target.write_text("old")

    def broken(tmp: Path) -> None:
        raise RuntimeError("renderer failed")

    with pytest.raises(RuntimeError, match="renderer failed"):
        write_atomically(target, broken)
    assert target.read_text() == "old"

"""pipeline/receive/filestate.py: a file is the one that was read only if its size, time and
inode are the same; a file some process holds open for writing is seen through /proc."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

from pipeline.receive.filestate import (StillBeingWritten, ensure_unchanged,
                                        paths_open_for_writing, signature_of, unchanged)


def test_a_file_rewritten_appended_or_replaced_is_no_longer_the_one_read(tmp_path: Path):
    path = tmp_path / "ateliers.csv"
    path.write_text("a;b\n1;2\n")
    seen = signature_of(path)
    assert unchanged(path, seen)
    ensure_unchanged(path, seen)
    ensure_unchanged(path, None)  # nothing recorded: nothing to compare

    with path.open("a") as handle:  # a writer still at work
        handle.write("3;4\n")
    assert not unchanged(path, seen)
    with pytest.raises(StillBeingWritten):
        ensure_unchanged(path, seen)

    replacement = tmp_path / "new.csv"  # same bytes, another file renamed over it
    replacement.write_bytes(path.read_bytes())
    grown = signature_of(path)
    os.replace(replacement, path)
    assert not unchanged(path, grown)
    path.unlink()
    assert not unchanged(path, grown)  # gone


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="/proc is Linux's")
def test_only_files_open_for_writing_are_reported(tmp_path: Path):
    written, read, idle = (tmp_path / n for n in ("written.csv", "read.csv", "idle.csv"))
    for path in (written, read, idle):
        path.write_text("x\n")
    with written.open("a"), read.open("r"):
        assert paths_open_for_writing([written, read, idle]) == {written}
    assert paths_open_for_writing([written, read, idle]) == set()
    assert paths_open_for_writing([tmp_path / "absent.csv"]) == set()

"""Failures that used to end in a stack trace end in a message naming the file and what to do: full disk and
read-only output folders (atomic writers), degenerate estimates (sigma_u = 0, a variable without variation)."""

from __future__ import annotations

import errno
import logging
import os
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from intelcap import atomic
from intelcap.errors import InputError


def _partial_then(code: int, message: str | None = None):
    """A write_text that leaves half a file on disk, then fails as the OS would."""
    def write_text(self: Path, text: str, encoding: str = "utf-8") -> int:
        with open(self, "w", encoding=encoding) as fh:
            fh.write(text[: len(text) // 2])
        raise OSError(code, message or os.strerror(code), str(self))
    return write_text


def test_disk_full_while_writing_names_target_and_action_and_leaves_nothing(tmp_path, monkeypatch):
    target = tmp_path / "results" / "tables" / "table2.csv"
    monkeypatch.setattr(Path, "write_text", _partial_then(errno.ENOSPC))
    with pytest.raises(InputError) as ei:
        atomic.write_text(target, "model,term\n(1),lnINT\n")
    msg = str(ei.value)
    assert f"cannot write {target}" in msg and "is full" in msg and "free space" in msg
    assert ei.value.file == str(target)
    assert isinstance(ei.value.__cause__, OSError) and ei.value.__cause__.errno == errno.ENOSPC
    assert sorted(p.name for p in target.parent.iterdir()) == []   # neither target nor temporary


def test_read_only_filesystem_at_rename_keeps_the_old_output(tmp_path, monkeypatch):
    target = tmp_path / "cu_fit.json"
    target.write_text("old", encoding="utf-8")

    def replace(src, dst):
        raise OSError(errno.EROFS, os.strerror(errno.EROFS), str(src), None, str(dst))

    monkeypatch.setattr(atomic.os, "replace", replace)
    with pytest.raises(InputError, match="is not writable") as ei:
        atomic.write_text(target, "new")
    assert "fix the permissions of results/" in str(ei.value)
    assert target.read_text(encoding="utf-8") == "old"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["cu_fit.json"]


def test_permission_denied_creating_the_folder(tmp_path, monkeypatch):
    target = tmp_path / "results" / "measures" / "cu.parquet"

    def mkdir(self, *a, **k):
        raise PermissionError(errno.EACCES, os.strerror(errno.EACCES), str(self))

    monkeypatch.setattr(Path, "mkdir", mkdir)
    with pytest.raises(InputError, match=r"results/measures is not writable \(Permission denied\)"):
        atomic.write_parquet(pd.DataFrame({"a": [1]}), target)


def test_pyarrow_style_error_without_errno_is_recognised(tmp_path, monkeypatch):
    target = tmp_path / "panel.parquet"

    def to_parquet(self, path, **kw):
        Path(path).write_bytes(b"PAR1 half")
        raise OSError("IOError: [Errno 28] Error writing bytes to file. Detail: No space left on device")

    monkeypatch.setattr(pd.DataFrame, "to_parquet", to_parquet)
    with pytest.raises(InputError, match="is full"):
        atomic.write_parquet(pd.DataFrame({"a": [1]}), target)
    assert list(tmp_path.iterdir()) == []


def test_other_os_errors_pass_through_unchanged(tmp_path, monkeypatch):
    target = tmp_path / "x.txt"
    monkeypatch.setattr(Path, "write_text", _partial_then(errno.EIO))
    with pytest.raises(OSError) as ei:
        atomic.write_text(target, "abc")
    assert not isinstance(ei.value, InputError) and ei.value.errno == errno.EIO
    assert list(tmp_path.iterdir()) == []
    # an unreadable *input* read inside the block is the reader's error, not "results/ is not writable"
    with pytest.raises(PermissionError), atomic.atomic_path(tmp_path / "y.txt"):
        raise PermissionError(errno.EACCES, "Permission denied", str(tmp_path / "input.csv"))
    assert list(tmp_path.iterdir()) == []

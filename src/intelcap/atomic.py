"""Atomic file writers: write to a temporary file beside the target, then rename.

A killed job therefore never leaves a half-written output that a later run would take as finished.
Writers avoid embedded timestamps so that the same inputs give byte-identical files.
"""

from __future__ import annotations

import contextlib
import os
import re
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pandas as pd


@contextlib.contextmanager
def atomic_path(target: str | os.PathLike) -> Iterator[Path]:
    """Yield a temporary path in the target's folder; rename it onto the target on success."""
    target = Path(target)
    target.parent.mkdir(parents=True, exist_ok=True)
    remove_stale_temps(target)
    fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent)
    os.close(fd)
    tmp_path = Path(tmp)
    # mkstemp creates 0600; give the final file the permissions a plain open() would (0666 minus umask)
    umask = os.umask(0)
    os.umask(umask)
    os.chmod(tmp_path, 0o666 & ~umask)
    try:
        yield tmp_path
        os.replace(tmp_path, target)
    finally:
        if tmp_path.exists():
            tmp_path.unlink()


def remove_stale_temps(target: str | os.PathLike) -> int:
    """Delete temporaries of this target left by a killed writer (`.<name>.<8 random chars>.tmp`).

    A job killed mid-write (SIGKILL, node loss) cannot clean up; Snakemake then reruns the job, and the rerun
    removes them here. Only this target's own temporaries match, and Snakemake never runs two jobs for one output.
    """
    target = Path(target)
    pattern = re.compile(rf"^\.{re.escape(target.name)}\.[A-Za-z0-9_]{{8}}\.tmp$")
    n = 0
    with contextlib.suppress(OSError):
        for entry in os.scandir(target.parent):
            if pattern.match(entry.name):
                with contextlib.suppress(OSError):
                    os.unlink(entry.path)
                    n += 1
    return n


def write_text(target: str | os.PathLike, text: str, encoding: str = "utf-8") -> None:
    with atomic_path(target) as tmp:
        tmp.write_text(text, encoding=encoding)


def write_bytes(target: str | os.PathLike, data: bytes) -> None:
    with atomic_path(target) as tmp:
        tmp.write_bytes(data)


def write_parquet(df: pd.DataFrame, target: str | os.PathLike) -> None:
    """Parquet without pandas' index and with a fixed writer, so equal frames give equal bytes."""
    with atomic_path(target) as tmp:
        df.to_parquet(tmp, index=False, engine="pyarrow", compression="zstd")


def write_csv(df: pd.DataFrame, target: str | os.PathLike, **kwargs) -> None:
    """CSV at full precision (repr round-trip floats), UTF-8, '\n' line ends."""
    kwargs.setdefault("index", False)
    kwargs.setdefault("float_format", None)
    kwargs.setdefault("lineterminator", "\n")
    with atomic_path(target) as tmp:
        df.to_csv(tmp, **kwargs)

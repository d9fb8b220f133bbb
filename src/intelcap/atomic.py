"""Atomic file writers: write to a temporary file beside the target, then rename.

A killed job therefore never leaves a half-written output that a later run would take as finished.
Writers avoid embedded timestamps so that the same inputs give byte-identical files.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator
from pathlib import Path

import pandas as pd


def temp_path(target: str | os.PathLike) -> Path:
    """The one temporary name of a target: `.<name>.tmp` beside it.

    A fixed name (not a random one) means a writer killed mid-write (SIGKILL, node loss) leaves at most one
    temporary, which the rerun of the same job overwrites, without scanning the folder (a folder of 10,000
    reports would make that quadratic). Snakemake never runs two jobs for one output.
    """
    target = Path(target)
    return target.with_name(f".{target.name}.tmp")


@contextlib.contextmanager
def atomic_path(target: str | os.PathLike) -> Iterator[Path]:
    """Yield a temporary path in the target's folder; rename it onto the target on success."""
    target = Path(target)
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp_path = temp_path(target)
    tmp_path.unlink(missing_ok=True)   # a stale temporary of a killed writer
    try:
        yield tmp_path
        os.replace(tmp_path, target)
    finally:
        if tmp_path.exists():
            tmp_path.unlink()


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

"""Atomic file writers: write to a temporary file beside the target, then rename.

A killed job therefore never leaves a half-written output that a later run would take as finished.
Writers avoid embedded timestamps so that the same inputs give byte-identical files.
"""

from __future__ import annotations

import contextlib
import errno
import os
from collections.abc import Collection, Iterator, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from intelcap.errors import InputError

if TYPE_CHECKING:  # the writers take frames but never need pandas itself: jobs without frames skip its import
    import pandas as pd

# Write failures that are the user's to fix (disk full, folder not writable). pyarrow raises OSError without
# an errno, so its message is matched too.
_NO_SPACE = (errno.ENOSPC, getattr(errno, "EDQUOT", errno.ENOSPC))
_NOT_WRITABLE = (errno.EROFS, errno.EACCES, errno.EPERM)
_MESSAGES = {
    "no space left": errno.ENOSPC,
    "disk quota exceeded": errno.ENOSPC,
    "read-only file system": errno.EROFS,
    "permission denied": errno.EACCES,
}


def temp_path(target: str | os.PathLike) -> Path:
    """The one temporary name of a target: `.<name>.tmp` beside it.

    A fixed name (not a random one) means a writer killed mid-write (SIGKILL, node loss) leaves at most one
    temporary, which the rerun of the same job overwrites, without scanning the folder (a folder of 10,000
    reports would make that quadratic). Snakemake never runs two jobs for one output.
    """
    target = Path(target)
    return target.with_name(f".{target.name}.tmp")


def _write_errno(exc: OSError) -> int | None:
    code = exc.errno
    if code is None:
        text = str(exc).lower()
        code = next((c for m, c in _MESSAGES.items() if m in text), None)
    return code if code in _NO_SPACE + _NOT_WRITABLE else None


def write_failure(exc: OSError, target: str | os.PathLike) -> InputError | None:
    """The user-facing error for a write of `target` that failed because the disk is full or the folder is
    not writable (read-only filesystem, permissions); None for any other OSError, or one about another file
    (an input the writer was reading), which stays the caller's to report."""
    target = Path(target)
    code = _write_errno(exc)
    if code is None:
        return None
    if exc.filename is not None:
        about = Path(os.fsdecode(exc.filename))
        if about not in (target, temp_path(target)) and about not in target.parents:
            return None
    what = os.strerror(code if code in _NOT_WRITABLE else errno.ENOSPC)
    if code in _NO_SPACE:
        msg = f"cannot write {target}: the disk holding {target.parent} is full ({what})"
        hint = (
            f"free space on the disk of {target.parent} (results/data and results/text hold the largest "
            "files) or point the run at a bigger disk, then rerun: no partial file was left"
        )
    else:
        msg = f"cannot write {target}: {target.parent} is not writable ({what})"
        hint = (
            f"make {target.parent} writable (fix the permissions of results/ and its folders, or remount a "
            "read-only filesystem read-write), or run the workflow from a writable copy; "
            "no partial file was left"
        )
    return InputError(msg, file=str(target), hint=hint)


@contextlib.contextmanager
def atomic_path(target: str | os.PathLike) -> Iterator[Path]:
    """Yield a temporary path in the target's folder; rename it onto the target on success.

    A full disk or a folder that is not writable becomes an `InputError` naming the target and the action;
    the temporary is removed whatever happened, so a failed write leaves no partial output.
    """
    target = Path(target)
    tmp_path = temp_path(target)
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        tmp_path.unlink(missing_ok=True)  # a stale temporary of a killed writer
        yield tmp_path
        os.replace(tmp_path, target)
    except OSError as exc:
        failure = write_failure(exc, target)
        if failure is None:
            raise
        raise failure from exc
    finally:
        with contextlib.suppress(OSError):  # on a read-only folder there is nothing to remove
            tmp_path.unlink(missing_ok=True)


def write_text(target: str | os.PathLike, text: str, encoding: str = "utf-8") -> None:
    with atomic_path(target) as tmp:
        tmp.write_text(text, encoding=encoding)


def write_bytes(target: str | os.PathLike, data: bytes) -> None:
    with atomic_path(target) as tmp:
        tmp.write_bytes(data)


def write_parquet(df: pd.DataFrame, target: str | os.PathLike, row_group_size: int | None = None) -> None:
    """Parquet without pandas' index and with a fixed writer, so equal frames give equal bytes.
    `row_group_size`: rows per row group, for files read a few rows at a time (pyarrow decodes a whole group)."""
    with atomic_path(target) as tmp:
        df.to_parquet(tmp, index=False, engine="pyarrow", compression="zstd", row_group_size=row_group_size)


def write_csv(df: pd.DataFrame, target: str | os.PathLike, **kwargs) -> None:
    """CSV at full precision (repr round-trip floats), UTF-8, '\n' line ends."""
    kwargs.setdefault("index", False)
    kwargs.setdefault("float_format", None)
    kwargs.setdefault("lineterminator", "\n")
    with atomic_path(target) as tmp:
        df.to_csv(tmp, **kwargs)


def write_records_csv(
    rows: list[dict],
    target: str | os.PathLike,
    integers: Collection[str] = (),
    columns: Sequence[str] | None = None,
) -> None:
    """Rows of dicts as the CSV that `write_csv(pd.DataFrame(rows), target)` writes, without importing pandas
    (a job that only reads a few cells): columns in order of first appearance, a missing, None or NaN cell
    empty, floats as their shortest round-trip repr, the same quoting (pandas writes through `csv` too).

    Each column is typed as pandas types it: a column of numbers (bools are not numbers) with a float or a gap
    is a float column, so its integers print as floats (10035.0), as in pandas. `integers`: the columns that
    are counts with gaps (pandas' nullable Int64, `astype("Int64")` on the frame): their integers print as
    integers and their gaps empty; a value there that is not an integer is a TypeError. `columns`: the
    header, as `pd.DataFrame(rows, columns=columns)` has it (so that no rows still write it)."""
    import csv
    import math
    from numbers import Integral, Real

    if columns is None:
        columns = list(dict.fromkeys(key for row in rows for key in row))

    def missing(value: object) -> bool:
        return value is None or (isinstance(value, float) and math.isnan(value))

    def is_int(value: object) -> bool:
        return isinstance(value, Integral) and not isinstance(value, bool)

    def numeric(value: object) -> bool:
        return isinstance(value, Real) and not isinstance(value, bool)

    floats = set()
    for c in columns:
        values = [row.get(c) for row in rows]
        if c in integers:
            bad = next((v for v in values if not missing(v) and not is_int(v)), None)
            if bad is not None:
                raise TypeError(f"write_records_csv: integer column {c!r} holds {bad!r}")
        elif all(missing(v) or numeric(v) for v in values) and not all(is_int(v) for v in values):
            floats.add(c)

    def cell(value: object, as_float: bool) -> object:
        if missing(value):
            return ""
        if as_float or isinstance(value, float):
            return float.__repr__(float(value))
        return int(value) if is_int(value) else value

    with atomic_path(target) as tmp, open(tmp, "w", encoding="utf-8", newline="") as fh:
        writer = csv.writer(fh, lineterminator="\n")
        writer.writerow(columns)
        writer.writerows([cell(row.get(c), c in floats) for c in columns] for row in rows)

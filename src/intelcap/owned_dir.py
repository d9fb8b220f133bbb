"""Folders the workflow owns: the synthetic-data generator writes only into a folder it created itself.

A marker file says so. Standard library only: the workflow checks `synthetic_dir` while Snakemake builds the
DAG, before any job (and before Snakemake deletes a rule's declared outputs).
"""

from __future__ import annotations

import os
from pathlib import Path

from intelcap.errors import InputError

MARKER = ".intelcap-synthetic"
MARKER_TEXT = (
    "This folder was created by intelcap's synthetic-data generator (intelcap.synthetic.dgp), which overwrites\n"
    "and deletes files in it on every run. Keep no other files here.\n"
)


def _holds_files(folder: Path) -> list[str]:
    """Up to 5 entries other than (empty) folders: Snakemake creates output folders before a job runs."""
    found = []
    for dirpath, dirnames, filenames in os.walk(folder):
        for name in sorted(filenames) + sorted(d for d in dirnames if (Path(dirpath) / d).is_symlink()):
            found.append((Path(dirpath) / name).relative_to(folder).as_posix())
            if len(found) >= 5:
                return found
    return found


def check_output_dir(out_dir: str | os.PathLike) -> None:
    """Refuse a `synthetic_dir` that exists, holds files and carries no marker: it is not the generator's.

    Touches nothing, so the workflow can call it before Snakemake deletes a rule's declared outputs.
    """
    out = Path(out_dir)
    hint = (
        "set the config key `synthetic_dir` to a new or empty folder (default data/synthetic), or set "
        "`raw_dir` if these are your vendor files; the generator never writes into, overwrites or deletes "
        "files in a folder it did not create"
    )
    if out.is_symlink() or (out.exists() and not out.is_dir()):
        raise InputError(f"synthetic_dir {out} is not a plain folder", file=str(out), hint=hint)
    marker = out / MARKER
    if not out.exists() or (marker.is_file() and not marker.is_symlink()):
        return
    files = _holds_files(out)
    # the two synthesize jobs claim a new folder in parallel: the other one may have created the marker (and
    # begun writing) between the check above and the listing; the marker is what makes the folder ours
    if marker.is_file() and not marker.is_symlink():
        return
    if files:
        raise InputError(
            f"synthetic_dir {out} already holds files ({', '.join(files)}) and was not created by "
            f"the synthetic-data generator (no {MARKER} marker file); refusing to write into it",
            file=str(out),
            hint=hint,
        )


def claim_output_dir(out_dir: str | os.PathLike) -> Path:
    """The generator's output folder: created (with its marker) if new or empty, reused if marked, else refused."""
    out = Path(out_dir)
    check_output_dir(out)
    out.mkdir(parents=True, exist_ok=True)
    try:
        # O_EXCL, not an atomic temporary: the two synthesize jobs run in parallel and may both claim a new
        # folder, and a temporary beside the marker would make the other job see an unmarked folder holding a
        # file. The marker's existence is what counts; its text is for a human reading the folder.
        fd = os.open(out / MARKER, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644)
    except FileExistsError:
        return out
    try:
        os.write(fd, MARKER_TEXT.encode("utf-8"))
    finally:
        os.close(fd)
    return out

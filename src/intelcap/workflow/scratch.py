"""A scratch copy of the workflow for tests and benchmarks: its code and configuration, never its data, results
or caches, so a run there starts from nothing and cannot touch the working tree."""

from __future__ import annotations

import shutil
from pathlib import Path

WORKFLOW_FILES = ("Snakefile", "rules", "scripts", "config", "schemas", "envs", "profiles", "src", "report")


def copy_workflow(root: str | Path, dest: str | Path) -> Path:
    """Copy the workflow files of the checkout at `root` into `dest` (created if needed); returns `dest`."""
    root, dest = Path(root), Path(dest)
    dest.mkdir(parents=True, exist_ok=True)
    for name in WORKFLOW_FILES:
        src = root / name
        if src.is_dir():
            shutil.copytree(src, dest / name, ignore=shutil.ignore_patterns("__pycache__", "*.egg-info"))
        elif src.exists():
            shutil.copy2(src, dest / name)
    return dest

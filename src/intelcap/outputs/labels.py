"""The one loader of the display-labels file (config/labels.yaml, config key `paths.labels`), shared by the
table renderers (`outputs.tables`) and the figures (`outputs.figures`).

Strict: a labels file given explicitly must exist and be a YAML mapping of sections; only when no path is
given does the loader fall back to $INTELCAP_LABELS, then to the shipped default.
"""

from __future__ import annotations

import os
from functools import lru_cache
from pathlib import Path
from typing import Any

from intelcap import yamlfile
from intelcap.errors import InputError
from intelcap.resources import shipped

__all__ = ["load_labels"]

_CONFIG_KEY = "paths.labels"


def load_labels(path: str | os.PathLike | None = None) -> dict[str, Any]:
    """Sections of the labels file at ``path`` (default: $INTELCAP_LABELS, else the shipped labels.yaml).

    Raises InputError naming the file and the config key `paths.labels` when the file is missing, is not
    valid YAML or is not a mapping. Cached per file and modification time: an edited file is re-read.
    """
    resolved = _labels_file(path)
    return _load_labels_cached(str(resolved), resolved.stat().st_mtime_ns)


def _labels_file(path: str | os.PathLike | None) -> Path:
    candidates = [Path(path)] if path is not None else []
    if path is None:
        if os.environ.get("INTELCAP_LABELS"):
            candidates.append(Path(os.environ["INTELCAP_LABELS"]))
        # The shipped copy first (editable install); cwd covers a Snakemake run from the workflow root.
        candidates += [shipped("labels.yaml"), Path.cwd() / "config" / "labels.yaml"]
    for cand in candidates:
        if cand.is_file():
            return cand
    raise InputError(
        "labels file not found",
        file=str(candidates[0]) if candidates else None,
        hint=f"set config key `{_CONFIG_KEY}` to an existing labels YAML (default config/labels.yaml), "
        "pass TableStyle(labels_path=...) or set INTELCAP_LABELS",
    )


@lru_cache(maxsize=8)
def _load_labels_cached(path: str, _mtime_ns: int) -> dict[str, Any]:
    # mtime is part of the cache key so an edited labels.yaml is re-read within one process.
    hint = f"fix the file, or point config key `{_CONFIG_KEY}` at another one"
    data = yamlfile.read_file(path, "labels file", hint) or {}
    if not isinstance(data, dict):
        raise InputError(
            "labels file must be a mapping of sections",
            file=path,
            hint=f"see the shipped config/labels.yaml; config key `{_CONFIG_KEY}`",
        )
    return data

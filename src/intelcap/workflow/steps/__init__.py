"""Workflow steps, one module per `rules/<stage>.smk`: each function reads its rule's inputs, calls the method
modules and writes its outputs atomically. Which rule runs which step: `intelcap.workflow.registry`.

The helpers below are shared by every step module (they are glue: part of every rule's code inputs)."""

from __future__ import annotations

import json

__all__ = [
    "check",
    "data",
    "figures",
    "measures",
    "panel",
    "provenance",
    "render",
    "robustness",
    "stata",
    "tables",
]


def paths(value) -> list[str]:
    """A named input as a list (Snakemake gives one file as a str)."""
    return [value] if isinstance(value, str) else list(value)


def as_json(obj) -> str:
    """A result dict as deterministic, human-readable JSON."""
    return json.dumps(obj, indent=2, sort_keys=True, ensure_ascii=False, default=float) + "\n"


def read_csv_config(path: str):
    """A shipped or user-edited mapping file (crosswalk, regions, factor intensity): every cell as text, UTF-8
    or GB18030 (intelcap.ingest.readers.read_csv_config)."""
    from intelcap.ingest import readers as io

    return io.read_csv_config(path)

"""The one place where a Snakemake job meets the package: logging, clean errors, plain arguments.

Scripts in `scripts/` call `run(snakemake, step)`; the step receives dicts of input/output paths, the rule's
params and the config, so every step is also callable from tests without Snakemake.
"""

from __future__ import annotations

import logging
import os
import sys
import traceback
from collections.abc import Callable
from pathlib import Path
from typing import Any

from intelcap.errors import IntelcapError


class Job:
    """Plain view of a Snakemake job: named inputs/outputs as dicts of str (lists where a name holds many)."""

    def __init__(self, input: dict, output: dict, params: dict, config: dict, log: list[str] | None = None,
                 threads: int = 1, wildcards: dict | None = None) -> None:
        self.input = input
        self.output = output
        self.params = params
        self.config = config
        self.log = log or []
        self.threads = threads
        self.wildcards = wildcards or {}


def _named(namedlist) -> dict[str, Any]:
    out = {}
    for name, value in namedlist.items():
        out[name] = [str(v) for v in value] if isinstance(value, list) else str(value)
    return out


def from_snakemake(smk) -> Job:
    return Job(input=_named(smk.input), output=_named(smk.output), params=dict(smk.params.items()),
               config=dict(smk.config), log=[str(x) for x in smk.log], threads=int(smk.threads),
               wildcards=dict(smk.wildcards.items()))


def _thread_limit(threads: int):
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:  # pragma: no cover - declared dependency
        from contextlib import nullcontext

        return nullcontext()
    return threadpool_limits(limits=max(1, threads))


def run(smk, step: Callable[[Job], None]) -> None:
    """Run one step under Snakemake with stderr/stdout in the rule's log and a readable error on failure."""
    job = from_snakemake(smk)
    log_path = job.log[0] if job.log else None
    if log_path:
        Path(log_path).parent.mkdir(parents=True, exist_ok=True)
        fh = open(log_path, "w", encoding="utf-8")  # noqa: SIM115 - lives as long as the job
        sys.stderr = sys.stdout = fh
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s", stream=sys.stderr,
                        force=True)
    # A job gets the cores Snakemake gave it and no more: BLAS/OpenMP/Rayon pools default to every core,
    # and two such jobs on two cores spend their time contending (tall-thin X'X ran 5x slower).
    for var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS", "RAYON_NUM_THREADS"):
        os.environ[var] = str(max(1, job.threads))
    try:
        with _thread_limit(job.threads):
            step(job)
    except IntelcapError as exc:
        # a user-facing error: its message names file, column and rows; a stack trace would only bury it
        msg = f"intelcap error in rule {smk.rule}:\n  {exc}\n"
        sys.stderr.write(msg)
        sys.__stderr__.write(msg)
        sys.stderr.flush()
        raise SystemExit(1) from None
    except Exception:
        sys.stderr.write(traceback.format_exc())
        sys.__stderr__.write(f"unexpected error in rule {smk.rule}; see {log_path}\n")
        raise
    finally:
        sys.stderr.flush()

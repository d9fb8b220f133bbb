"""Steps of rules/figures.smk that compute (the rule graph, the claims ledger); drawing, and the comparison with
the paper that is rendered with its table, are in `render`."""

from __future__ import annotations

import json
import logging
from pathlib import Path

from intelcap import atomic
from intelcap.workflow.runner import Job
from intelcap.workflow.steps import paths


def rulegraph(job: Job) -> None:
    """The workflow's own rule graph (Figure 1), asked of Snakemake without running anything."""
    import subprocess
    import sys

    cmd = [
        sys.executable,
        "-m",
        "snakemake",
        "--rulegraph",
        "--nolock",
        "all",
        "--snakefile",
        job.input["snakefile"],
    ]
    if job.config["raw_dir"]:
        cmd += ["--config", f"raw_dir={job.config['raw_dir']}"]
    proc = subprocess.run(cmd, capture_output=True, text=True, check=False)
    if proc.returncode != 0 or "digraph" not in proc.stdout:
        raise RuntimeError(f"snakemake --rulegraph failed:\n{proc.stdout[-2000:]}\n{proc.stderr[-3000:]}")
    # Snakemake prints the edges in hash order (they differ with PYTHONHASHSEED): sorted, the file is the same
    # whatever the environment
    lines = proc.stdout[proc.stdout.index("digraph") :].splitlines()
    edges = sorted(line for line in lines if "->" in line)
    body = [line for line in lines if "->" not in line]
    closing = body.index("}") if "}" in body else len(body)
    atomic.write_text(job.output["dot"], "\n".join(body[:closing] + edges + body[closing:]) + "\n")


def claims(job: Job) -> None:
    """Every claim of the paper's ledger evaluated on our tables (and the DGP truth) -> claims.{csv,md}."""
    import pandas as pd

    from intelcap.outputs import claims as ledger

    rows = ledger.load_ledger(job.input["ledger"])
    tables = {Path(p).stem: pd.read_csv(p) for p in paths(job.input["tables"])}
    tables["ifr_global"] = pd.read_csv(job.input["ifr_global"])
    truth_paths = paths(job.input.get("truth", []))
    truth = json.loads(Path(truth_paths[0]).read_text(encoding="utf-8")) if truth_paths else None
    result = ledger.evaluate(rows, tables, truth)
    atomic.write_csv(result, job.output["csv"])
    atomic.write_text(job.output["md"], ledger.to_markdown(result))
    logging.getLogger("intelcap").info("claims: %s", ledger.summary(result))

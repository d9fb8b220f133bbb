"""Steps of rules/figures.smk that compute (the rule graph); drawing, and the comparison with the paper that is
rendered with its tables, are in `render`."""

from __future__ import annotations

from intelcap import atomic
from intelcap.workflow.runner import Job


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

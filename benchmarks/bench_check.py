"""Benchmark: the data check (`snakemake check`) on the default synthetic data, against Snakemake's start-up.

    python benchmarks/bench_check.py               # 3 repetitions, 2 cores
    python benchmarks/bench_check.py --reps 5 --cores 2

Runs in a scratch copy of the repository, never in the working tree. First the synthetic data are written
(`snakemake --cores N check` once: synthesize, synthesize_reports, check_data, check), then, alternating
within each repetition so that both see the same machine load:

* check: `results/check/` removed, `snakemake --cores N check` (DAG + the check_data job reading every
  configured input once + the console summary): the acceptance number (<= 10 s on 2 cores);
* dry run: `snakemake -n` of the default target (Snakemake's start-up and DAG, no job): the baseline.

Reports wall seconds (medians), the ratio check / dry run, the check_data job's own seconds and peak RSS
(Snakemake's benchmark TSV), and the load average next to every number (the machine is shared).
Writes benchmarks/results/check.{csv,md}.
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pandas as pd

from intelcap.workflow.scratch import copy_workflow

REPO = Path(__file__).resolve().parents[1]
OUT = REPO / "benchmarks" / "results"


def load() -> str:
    return " ".join(Path("/proc/loadavg").read_text().split()[:3])


def snakemake(work: Path, *args: str) -> tuple[float, str]:
    cmd = [sys.executable, "-m", "snakemake", *args]
    t0 = time.perf_counter()
    p = subprocess.run(cmd, cwd=work, capture_output=True, text=True)
    wall = time.perf_counter() - t0
    if p.returncode:
        sys.stderr.write((p.stdout + p.stderr)[-5000:])
        raise SystemExit(f"failed: {' '.join(cmd)}")
    return wall, p.stdout + p.stderr


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--reps", type=int, default=3)
    ap.add_argument("--cores", type=int, default=2)
    args = ap.parse_args()
    rows = []
    with tempfile.TemporaryDirectory(prefix="intelcap_bench_check_") as tmp:
        work = copy_workflow(REPO, Path(tmp) / "wf")
        wall, text = snakemake(work, "--cores", str(args.cores), "check")
        blocking = [ln for ln in text.splitlines() if ln.startswith("intelcap data check:")]
        print(f"synthetic data written and first check: {wall:.1f} s; {blocking[-1] if blocking else ''}")
        for rep in range(args.reps):
            shutil.rmtree(work / "results" / "check")
            l0 = load()
            wall, text = snakemake(work, "--cores", str(args.cores), "check")
            assert "rule check_data" in text, "check_data did not run"
            tsv = pd.read_csv(work / "benchmarks/out/check_data.tsv", sep="\t")
            rows.append(
                {
                    "phase": "check",
                    "rep": rep,
                    "wall_s": wall,
                    "job_s": float(tsv["s"].iloc[-1]),
                    "job_max_rss_mb": float(tsv["max_rss"].iloc[-1]),
                    "load": l0,
                }
            )
            l0 = load()
            wall, _ = snakemake(work, "-n")
            rows.append(
                {
                    "phase": "dry_run",
                    "rep": rep,
                    "wall_s": wall,
                    "job_s": None,
                    "job_max_rss_mb": None,
                    "load": l0,
                }
            )
            print(rows[-2], rows[-1], sep="\n")
        summary = open(work / "results/check/data_report.md", encoding="utf-8").read().splitlines()[2]
    df = pd.DataFrame(rows)
    OUT.mkdir(parents=True, exist_ok=True)
    df.to_csv(OUT / "check.csv", index=False, lineterminator="\n")
    med = df.groupby("phase")["wall_s"].median()
    check = df[df["phase"] == "check"]
    md = [
        "# Data check benchmark",
        "",
        f"`python benchmarks/bench_check.py --reps {args.reps} --cores {args.cores}`: default synthetic data "
        "(1,330 firms, 2009-2019, ~11,500 annual reports), scratch copy of the workflow; median of "
        f"{args.reps}, the two phases alternating. Load average during the runs: "
        f"{', '.join(sorted(set(df['load'])))}.",
        "",
        "| run | wall time (median) | check_data job (median) | peak RSS of the job |",
        "|---|---:|---:|---:|",
        f"| `snakemake --cores {args.cores} check` (results/check/ removed: the check reruns) | "
        f"{med['check']:.2f} s | {statistics.median(check['job_s']):.2f} s | "
        f"{check['job_max_rss_mb'].max():.0f} MB |",
        f"| `snakemake -n` (start-up and DAG of the default target, baseline) | {med['dry_run']:.2f} s | | |",
        "",
        f"Check / dry run: {med['check'] / med['dry_run']:.2f}x. Acceptance (issue 12): <= 10 s on 2 cores: "
        f"{'met' if med['check'] <= 10 else 'NOT met'}.",
        "",
        f"Report on the synthetic data: {summary}",
        "",
    ]
    (OUT / "check.md").write_text("\n".join(md), encoding="utf-8")
    print("\n".join(md))


if __name__ == "__main__":
    main()

"""Benchmark: this checkout against an earlier commit, interleaved, so that the machine's speed cancels out.

    python benchmarks/bench_versions.py --base 5a2193e            # spec edit x7 and cold x3, each version in turn
    python benchmarks/bench_versions.py --base HEAD~3 --reps 9 --cold 0

The project's 2-core machine changes speed by up to 1.5x within an hour (CPU times move with wall times), so a
run of `bench_pipeline.py` today and one of an older commit tomorrow do not compare. Here both versions run in
the same minutes: a scratch copy of the working tree (`current`) and one of `--base` (from `git worktree`), one
cold run each to build everything, then for each repetition the same Table 2 spec edit as bench_pipeline.py
(column (1) `fe` [] <-> [year], a `--configfile` overlay) in one copy and then the other, alternating which goes
first; then `--cold` cold runs of each, in turn (data/, results/, .snakemake/, logs/ removed before each; the
package's bytecode kept, as after any first run). Reports the medians, min-max, CPU (user+sys of Snakemake and
its jobs) and the ratio current / base of the medians. Writes benchmarks/results/versions.{csv,md}.
"""

from __future__ import annotations

import argparse
import copy
import resource
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
import yaml
from _common import load, save_csv, scratch_folder, write_report

from intelcap.workflow.scratch import copy_workflow

REPO = Path(__file__).resolve().parents[1]
BUILT = ("data", "results", ".snakemake", "logs", "benchmarks/out")


def timed(workdir: Path, extra: list[str]) -> tuple[float, float]:
    """(wall s, CPU s of Snakemake and its jobs) of `snakemake --cores 2 -q <extra>` in `workdir`."""
    r0 = resource.getrusage(resource.RUSAGE_CHILDREN)
    t0 = time.perf_counter()
    p = subprocess.run(
        ["snakemake", "--cores", "2", "-q", *extra], cwd=workdir, capture_output=True, text=True
    )
    wall = time.perf_counter() - t0
    r1 = resource.getrusage(resource.RUSAGE_CHILDREN)
    if p.returncode:
        sys.stderr.write((p.stdout + p.stderr)[-4000:])
        raise SystemExit(f"snakemake failed in {workdir}")
    return wall, (r1.ru_utime - r0.ru_utime) + (r1.ru_stime - r0.ru_stime)


def overlays(workdir: Path) -> list[str]:
    """The two spec-edit overlays (Table 2 column (1) without and with year FE) written into `workdir`."""
    spec = yaml.safe_load((workdir / "config" / "config.yaml").read_text())["tables"]["table2"]
    names = []
    for i, fe in enumerate(([], ["year"])):
        edited = copy.deepcopy(spec)
        edited[0]["fe"] = fe
        name = f"bench_versions_{i}.yaml"
        (workdir / name).write_text(
            yaml.safe_dump({"tables": {"table2": edited}}, allow_unicode=True, sort_keys=False)
        )
        names.append(name)
    return names


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--base", required=True, help="the earlier commit (any git revision)")
    ap.add_argument("--reps", type=int, default=7, help="spec edits per version")
    ap.add_argument("--cold", type=int, default=3, help="cold runs per version")
    ap.add_argument("--keep", action="store_true", help="keep the scratch copies")
    args = ap.parse_args()
    base_rev = subprocess.run(
        ["git", "rev-parse", "--short", args.base], cwd=REPO, capture_output=True, text=True, check=True
    ).stdout.strip()
    rows = []
    with scratch_folder("intelcap_versions_", args.keep, what="scratch copies") as parent:
        tree = parent / "base_tree"
        subprocess.run(
            ["git", "worktree", "add", "-q", "--detach", str(tree), base_rev], cwd=REPO, check=True
        )
        try:
            dirs = {
                "current": copy_workflow(REPO, parent / "current"),
                "base": copy_workflow(tree, parent / "base"),
            }
        finally:
            subprocess.run(["git", "worktree", "remove", "--force", str(tree)], cwd=REPO, check=True)
        ovl = {name: overlays(d) for name, d in dirs.items()}
        for name, d in dirs.items():
            timed(d, [])  # build everything once
            timed(d, ["--configfile", "config/config.yaml", ovl[name][0]])
        order = list(dirs)
        for k in range(args.reps):
            for name in order if k % 2 == 0 else order[::-1]:
                wall, cpu = timed(dirs[name], ["--configfile", "config/config.yaml", ovl[name][(k + 1) % 2]])
                rows.append(
                    {
                        "phase": "spec_change_table2",
                        "version": name,
                        "rep": k,
                        "wall_s": wall,
                        "cpu_s": cpu,
                        "load_before": load(),
                    }
                )
                print(f"spec {k} {name}: {wall:.2f} s", flush=True)
        for k in range(args.cold):
            for name in order if k % 2 == 0 else order[::-1]:
                for sub in BUILT:
                    shutil.rmtree(dirs[name] / sub, ignore_errors=True)
                wall, cpu = timed(dirs[name], [])
                rows.append(
                    {
                        "phase": "cold",
                        "version": name,
                        "rep": k,
                        "wall_s": wall,
                        "cpu_s": cpu,
                        "load_before": load(),
                    }
                )
                print(f"cold {k} {name}: {wall:.1f} s", flush=True)
    df = pd.DataFrame(rows)
    save_csv(df, "versions.csv")
    lines = [
        "# This checkout against an earlier commit, interleaved (`benchmarks/bench_versions.py`)",
        "",
        f"Command: `python benchmarks/bench_versions.py --base {args.base} --reps {args.reps} --cold {args.cold}` "
        f"(base = {base_rev}; 2-core machine, Python {sys.version.split()[0]}). Each repetition runs both versions "
        "one after the other, so both meet the same machine speed.",
        "",
        "| phase | version | runs | median wall (s) | min-max (s) | median CPU (s) | current / base (median wall) |",
        "|---|---|---|---|---|---|---|",
    ]
    for phase, sub in df.groupby("phase", sort=False):
        med = sub.groupby("version")["wall_s"].median()
        for name in ("current", "base"):
            v = sub[sub.version == name]
            if v.empty:
                continue
            ratio = f"{med['current'] / med['base']:.2f}" if name == "current" else ""
            lines.append(
                f"| {phase} | {name} | {len(v)} | {statistics.median(v.wall_s):.2f} | {v.wall_s.min():.2f}-"
                f"{v.wall_s.max():.2f} | {statistics.median(v.cpu_s):.1f} | {ratio} |"
            )
    write_report("versions.md", lines)


if __name__ == "__main__":
    main()

"""Scale run: the default workflow at ~4M firm-years (profiles/large/config.yaml), per-rule time and memory.

    python benchmarks/bench_scale.py                         # scratch copy in $TMPDIR, run, collect
    python benchmarks/bench_scale.py --collect /tmp/x/run    # only summarise an existing run directory
    python benchmarks/bench_scale.py --n-firms 60000 --name scale_500k   # a smaller profiling run

Runs `snakemake --cores 2 --configfile config/config.yaml profiles/large/config.yaml --directory <scratch> -k`
in a scratch copy of the repository, with a watchdog that stops any job running longer than --job-limit
minutes (default 20) and records it. Collects benchmarks/out/*.tsv (s, max_rss per job) and each job's
status from the Snakemake log into benchmarks/results/scale_4m.{csv,md}; flags jobs above --mem-limit-gb.

The package is imported from the installed `intelcap` (pip install -e .): the scratch copy holds the
workflow files and the code inputs that decide reruns.
"""

from __future__ import annotations

import argparse
import os
import re
import subprocess
import tempfile
import time
from pathlib import Path

import pandas as pd
from _common import benchmark_jobs, load, per_rule, save_csv, write_report

from intelcap.workflow.scratch import copy_workflow

REPO = Path(__file__).resolve().parents[1]


def child_pids(pid: int) -> list[int]:
    """Children of every thread of pid (Snakemake starts jobs from worker threads)."""
    out = []
    try:
        for task in Path(f"/proc/{pid}/task").iterdir():
            try:
                out += [int(p) for p in (task / "children").read_text().split()]
            except OSError:
                pass
    except OSError:
        pass
    return out


def descendants(pid: int) -> list[int]:
    out, todo = [], [pid]
    while todo:
        kids = child_pids(todo.pop())
        out += kids
        todo += kids
    return out


def job_of(pid: int, wd: Path) -> str | None:
    """The job a process works for: the log file under <wd>/logs it holds open (forked workers inherit it)."""
    logs = str(wd / "logs") + "/"
    try:
        for fd in Path(f"/proc/{pid}/fd").iterdir():
            target = os.readlink(fd)
            if target.startswith(logs) and target.endswith(".log"):
                return target[len(logs) : -len(".log")]
    except OSError:
        pass
    return None


def peak_rss_mb(pid: int) -> float | None:
    """VmHWM: the process's exact peak resident set so far (the benchmark files sample RSS now and then)."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return None


def run(wd: Path, job_limit_min: float, n_firms: int | None = None, cores: int = 2) -> dict:
    overlays = ["config/config.yaml", "profiles/large/config.yaml"]
    if n_firms is not None:  # a smaller panel with the large profile's file formats and code prefixes
        (wd / "scale_n_firms.yaml").write_text(f"synth:\n  n_firms: {n_firms}\n")
        overlays.append("scale_n_firms.yaml")
    cmd = [
        "snakemake",
        "--cores",
        str(cores),
        "--configfile",
        *overlays,
        "--directory",
        str(wd),
        "-k",
        "--resources",
        "mem_mb=22000",  # the 23 GB machine: the rules' mem_mb keep concurrent jobs within it
    ]
    log = (wd / "scale_run.log").open("w")
    l0, t0 = load(), time.time()
    p = subprocess.Popen(cmd, cwd=wd, stdout=log, stderr=subprocess.STDOUT)
    seen: dict[int, float] = {}
    killed = []
    hwm: dict[int, tuple[str, float]] = {}  # pid -> (job, peak RSS MB), polled every second
    while p.poll() is None:
        time.sleep(1)
        for c in descendants(p.pid):
            job, peak = job_of(c, wd), peak_rss_mb(c)
            if job is not None and peak is not None:
                hwm[c] = (job, max(peak, hwm.get(c, (job, 0.0))[1]))
        for c in child_pids(p.pid):
            seen.setdefault(c, time.time())
            if time.time() - seen[c] > job_limit_min * 60:
                cmdline = (
                    Path(f"/proc/{c}/cmdline").read_text().replace("\0", " ")
                    if Path(f"/proc/{c}").exists()
                    else "?"
                )
                killed.append({"pid": c, "cmd": cmdline[-200:], "after_s": time.time() - seen[c]})
                subprocess.run(["kill", str(c)])
    return {
        "wall_s": time.time() - t0,
        "rc": p.returncode,
        "load_start": l0,
        "load_end": load(),
        "killed": killed,
        "peak_rss": pd.DataFrame(list(hwm.values()), columns=["job", "mb"])
        .groupby("job")["mb"]
        .sum()
        .to_dict(),
    }


def collect(wd: Path, mem_limit_gb: float, meta: dict | None = None, name: str = "scale_4m") -> None:
    df = benchmark_jobs(wd)
    if meta and meta.get("peak_rss"):  # sum over the job's processes of each one's exact peak (VmHWM)
        df["peak_rss_mb"] = df["job"].map(meta["peak_rss"])
        df["max_rss_mb"] = df[["max_rss_mb", "peak_rss_mb"]].max(axis=1)
    # every Snakemake log of the scratch copy: a run resumed in several invocations still shows each job's status
    logs = [wd / "scale_run.log", *sorted((wd / ".snakemake" / "log").glob("*.snakemake.log"))]
    logtxt = "\n".join(f.read_text() for f in logs if f.exists())
    failed = sorted(set(re.findall(r"Error in rule (\w+):", logtxt)))
    df["over_mem_limit"] = df["max_rss_mb"] > mem_limit_gb * 1024
    finished = set(re.findall(r"Finished jobid: \d+ \(Rule: (\w+)\)", logtxt))
    df["status"] = ["failed" if r in failed else "ok" if r in finished else "?" for r in df["rule"]]
    df = df.sort_values("s", ascending=False)
    save_csv(df, f"{name}.csv")
    print(df.to_string())
    print("failed rules:", failed, meta or "")
    agg = per_rule(df)
    lines = [
        f"| rule | jobs | sum s | max s per job | CPU s | peak RSS MB | <= {mem_limit_gb:g} GB |",
        "|---|---|---|---|---|---|---|",
    ]
    for _, a in agg.iterrows():
        lines.append(
            f"| {a.rule} | {a.jobs} | {a.sum_s:.0f} | {a.max_s:.0f} | {a.cpu_s:.0f} | {a.max_rss_mb:,.0f} | "
            f"{'yes' if a.max_rss_mb <= mem_limit_gb * 1024 else 'NO'} |"
        )
    if meta:
        lines += [
            "",
            f"End to end: {meta['wall_s']:.0f} s wall (snakemake exit code {meta['rc']}), load average "
            f"{meta['load_start']} at the start, {meta['load_end']} at the end; jobs stopped by the watchdog: "
            f"{meta['killed'] or 'none'}.",
        ]
    write_report(f"{name}_rules.md", lines)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--collect", type=Path, default=None)
    ap.add_argument("--workdir", type=Path, default=None)
    ap.add_argument(
        "--job-limit", type=float, default=20.0, help="minutes per job before the watchdog stops it"
    )
    ap.add_argument("--mem-limit-gb", type=float, default=8.0)
    ap.add_argument(
        "--n-firms", type=int, default=None, help="override synth.n_firms (default: the profile's)"
    )
    ap.add_argument("--cores", type=int, default=2)
    ap.add_argument("--name", default="scale_4m", help="stem of the files written to benchmarks/results")
    args = ap.parse_args()
    if args.collect:
        collect(args.collect, args.mem_limit_gb, name=args.name)
        return
    wd = Path(tempfile.mkdtemp(prefix="intelcap_scale_", dir=args.workdir))
    copy_workflow(REPO, wd)
    meta = run(wd, args.job_limit, args.n_firms, args.cores)
    collect(wd, args.mem_limit_gb, meta, args.name)
    print(f"scratch copy: {wd}")


if __name__ == "__main__":
    main()

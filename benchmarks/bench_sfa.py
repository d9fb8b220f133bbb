"""Benchmark: `intelcap.cu.estimate_cu(method="sfa_bc92")` (Battese-Coelli 1992 frontier) at 1M firm-years.

    python benchmarks/bench_sfa.py                      # 1M rows (125k firms x 8 years), 3 timed runs
    python benchmarks/bench_sfa.py --rows 1000000 --reps 2

Synthetic Cobb-Douglas frontier with year + industry effects and time-decaying inefficiency
u_it = exp(-eta (t - T)) |U_i|, as the model assumes. Each run is a fresh subprocess (import + data
generation untimed; the estimate_cu call timed), so the reported peak RSS (ru_maxrss) is per run.
Load average is recorded next to every timing. Writes benchmarks/results/sfa.{csv,md}.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import subprocess
import sys
import time
import warnings
from pathlib import Path

import numpy as np
import pandas as pd

OUT = Path(__file__).resolve().parent / "results"


def load() -> str:
    return " ".join(Path("/proc/loadavg").read_text().split()[:3])


def make_panel(rows: int, seed: int = 0, T: int = 8) -> tuple[pd.DataFrame, dict]:
    rng = np.random.default_rng(seed)
    nf = rows // T
    firm, t = np.repeat(np.arange(nf), T), np.tile(np.arange(T), nf)
    ind = rng.integers(0, 13, nf)[firm]
    truth = {"beta_k": 0.35, "beta_l": 0.55, "eta": 0.05, "sigma_u": 0.4, "sigma_v": 0.15}
    lnK = rng.normal(20, 1.5, nf)[firm] + rng.normal(0, 0.2, nf * T)
    lnL = 0.5 * lnK - 3 + rng.normal(0, 0.5, nf * T)
    u = np.exp(-truth["eta"] * (t - (T - 1))) * np.abs(rng.normal(0, truth["sigma_u"], nf))[firm]
    lnY = (2.0 + truth["beta_k"] * lnK + truth["beta_l"] * lnL + 0.02 * t + rng.normal(0, 0.1, 13)[ind]
           + rng.normal(0, truth["sigma_v"], nf * T) - u)
    df = pd.DataFrame({
        "Stkcd": pd.Series(firm).map("{:06d}".format).to_numpy(), "year": 2011 + t,
        "industry": np.array([f"C{13 + k}" for k in range(13)])[ind],
        "Y": np.exp(lnY), "K": np.exp(lnK), "L": np.round(np.exp(lnL)) + 1,
    })
    return df, truth


def worker(rows: int) -> None:
    warnings.filterwarnings("ignore")
    from intelcap.cu import estimate_cu

    df, truth = make_panel(rows)
    l0 = load()
    t0 = time.perf_counter()
    out, diag = estimate_cu(df, "sfa_bc92")
    dt = time.perf_counter() - t0
    keep = {k: v for k, v in diag.items() if isinstance(v, (int, float, str, bool)) or v is None}
    print(json.dumps({"s": dt, "load": l0, "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
                      "n_out": len(out), "mean_lnCU": float(out["lnCU"].mean()), "diag": keep, "truth": truth}))


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--rows", type=int, default=1_000_000)
    ap.add_argument("--reps", type=int, default=3)
    ap.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.worker:
        worker(args.rows)
        return
    runs = []
    for r in range(args.reps):
        p = subprocess.run([sys.executable, __file__, "--worker", "--rows", str(args.rows)], capture_output=True,
                           text=True)
        if p.returncode:
            sys.stderr.write(p.stderr[-3000:])
            raise SystemExit("worker failed")
        res = json.loads(p.stdout.strip().splitlines()[-1])
        runs.append(res)
        print(f"run {r}: {res['s']:.1f} s, peak RSS {res['peak_rss_mb']:.0f} MB, load {res['load']}", flush=True)
    ts = [r["s"] for r in runs]
    diag = runs[0]["diag"]
    row = {"rows": args.rows, "firms": args.rows // 8, "years": 8, "method": "sfa_bc92", "reps": len(runs),
           "median_s": float(np.median(ts)), "min_s": min(ts), "max_s": max(ts),
           "times_s": " ".join(f"{t:.1f}" for t in ts),
           "peak_rss_mb": round(max(r["peak_rss_mb"] for r in runs)), "loads": " | ".join(r["load"] for r in runs),
           "python": platform.python_version(), "cpus": os.cpu_count()}
    OUT.mkdir(parents=True, exist_ok=True)
    pd.DataFrame([row]).to_csv(OUT / "sfa.csv", index=False)
    est = {k: v for k, v in diag.items() if any(s in k for s in ("beta", "eta", "sigma", "gamma", "loglik", "iter",
                                                                 "converged", "n_"))}
    lines = ["# SFA benchmark (`benchmarks/bench_sfa.py`)", "",
             f"Command: `python benchmarks/bench_sfa.py --rows {args.rows} --reps {args.reps}`. "
             "`intelcap.cu.estimate_cu(panel, \"sfa_bc92\")` on a synthetic Cobb-Douglas BC92 panel "
             "(125k firms x 8 years at 1M rows, 13 industries); each run a fresh process, import and data "
             "untimed. Load average (1/5/15 min) at the start of each run is shown (shared 2-core machine).", "",
             "| metric | value |", "|---|---|", *[f"| {k} | {v} |" for k, v in row.items()], "",
             f"Truth: {runs[0]['truth']}. Estimates (first run): {json.dumps(est)[:1500]}"]
    (OUT / "sfa.md").write_text("\n".join(lines) + "\n")
    print("\n".join(lines))


if __name__ == "__main__":
    main()

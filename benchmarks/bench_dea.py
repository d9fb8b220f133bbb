"""Benchmark intelcap.measures.dea: screened + verified DEA (dea_scores) against the one-LP-per-DMU loop.

    python benchmarks/bench_dea.py [--sizes 1000,20000,300000] [--reps 3] [--loop-sample 500]

Data resemble firm data: lognormal inputs (fixed assets, labour, total operating cost) driven by a
common firm-size factor, one output (revenue) with half-normal inefficiency. Each size runs in its
own subprocess so that the peak RSS reported belongs to that size alone.

For every size and configuration the fast method is timed (median of --reps runs). For sizes up to
--loop-max-n the loop is timed as well, in two flavours: "loop_linprog" (a scipy linprog call per
DMU, the textbook solver and what pyDEA-style code does) and "loop_highs" (one HiGHS model with all
n columns, hot-started from DMU to DMU, as R Benchmarking does). Above --loop-full-n the loop runs on
a seeded random subsample of DMUs (each LP still has all n columns) and its time is extrapolated
linearly to n DMUs; the output says so. Scores are compared on the DMUs both methods solved.

Writes benchmarks/results/dea.csv and benchmarks/results/dea.md.
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd
from _common import machine, machine_line

from intelcap.atomic import write_csv, write_text
from intelcap.measures.dea import DEAProblem, dea_loop, dea_scores

HERE = Path(__file__).resolve().parent
CONFIGS = {
    "crs_input_super": dict(rts="crs", orientation="input", super_efficiency=True),
    "vrs_input_super": dict(rts="vrs", orientation="input", super_efficiency=True),
}


def firm_data(n: int, seed: int = 2024) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    size = rng.normal(0.0, 1.5, n)
    lx = size[:, None] + rng.normal(0.0, 0.6, (n, 3))
    ly = 0.3 * (lx - size[:, None]).sum(1) + 0.98 * size - np.abs(rng.normal(0.0, 0.4, n))
    return np.exp(lx), np.exp(ly + rng.normal(0.0, 0.3, n))[:, None]


def _peak_rss_mb() -> float:
    # ru_maxrss is in KiB on Linux
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


def run_size(n: int, reps: int, loop_full_n: int, loop_max_n: int, loop_sample: int) -> list[dict]:
    X, Y = firm_data(n)
    rows = []
    for name, kw in CONFIGS.items():
        times, res = [], None
        for _ in range(reps):
            t0 = time.perf_counter()
            res = dea_scores(X, Y, **kw)
            times.append(time.perf_counter() - t0)
        base = dict(n=n, config=name, reps=reps)
        rows.append(
            {
                **base,
                "method": "dea_scores",
                "dmus_timed": n,
                "extrapolated": False,
                "time_s": float(np.median(times)),
                "time_min_s": float(np.min(times)),
                "time_max_s": float(np.max(times)),
                "lp_solves": res.stats["lp_solves"],
                "ray_certified": res.stats["ray_certified"],
                "pool_size": res.stats["pool_size"],
                "n_nondominated": res.stats["n_nondominated"],
                "n_infeasible": int((res.status == "infeasible").sum()),
                "max_score": float(np.nanmax(res.scores)),
                "peak_rss_mb": _peak_rss_mb(),
            }
        )
        fast_time = float(np.median(times))
        if n > loop_max_n:
            continue
        if n <= loop_full_n:
            dmus = None
            k = n
        else:
            k = min(loop_sample, n)
            dmus = np.sort(np.random.default_rng(7).choice(n, size=k, replace=False))
        for backend in ("linprog", "highs"):
            ltimes, ref = [], None
            for _ in range(reps):
                t0 = time.perf_counter()
                ref = dea_loop(DEAProblem(X, Y, **kw), dmus=dmus, backend=backend)
                ltimes.append(time.perf_counter() - t0)
            sel = np.arange(n) if dmus is None else dmus
            both = np.isfinite(ref.scores[sel]) & np.isfinite(res.scores[sel])
            t_all = float(np.median(ltimes)) * n / k
            rows.append(
                {
                    **base,
                    "method": f"loop_{backend}",
                    "dmus_timed": k,
                    "extrapolated": dmus is not None,
                    "time_s": t_all,
                    "time_min_s": float(np.min(ltimes)) * n / k,
                    "time_max_s": float(np.max(ltimes)) * n / k,
                    "lp_solves": ref.stats["lp_solves"],
                    "speedup": t_all / fast_time,
                    "dmus_compared": int(both.sum()),
                    "max_abs_diff": float(np.max(np.abs(ref.scores[sel][both] - res.scores[sel][both]))),
                    "status_agree": bool((ref.status[sel] == res.status[sel]).all()),
                    "peak_rss_mb": _peak_rss_mb(),
                }
            )
    return rows


def _fmt_md(df: pd.DataFrame, meta: dict) -> str:
    lines = [
        "# DEA benchmark (`benchmarks/bench_dea.py`)",
        "",
        f"{machine_line(meta)}, HiGHS bindings: {meta['highs']}. Times are medians of {meta['reps']} runs, "
        "in seconds. Data: firm-like lognormal, "
        "3 inputs (FAavg, L, TOC analogues) / 1 output. Method: input-oriented super-efficiency, "
        "one frontier over all n DMUs.",
        "",
        "`dea_scores` = Pareto screening + column generation with dual verification against all DMUs + "
        "re-use of verified bases (exact). `loop_linprog` = one `scipy.optimize.linprog(method='highs')` "
        "per DMU with all n columns; `loop_highs` = the same full LPs on one hot-started HiGHS model. "
        f"Loop rows marked *extrapolated* were timed on a random subsample of {meta['loop_sample']} DMUs "
        "(each LP still against all n DMUs) and scaled linearly to n DMUs; scores are compared on that subsample.",
        "",
        "| n | config | method | DMUs timed | time (s) | speedup of dea_scores | max abs diff | status agree | LPs | peak RSS (MB) |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    for r in df.itertuples(index=False):
        ext = " (extrapolated)" if r.extrapolated else ""
        sp = f"{r.speedup:.0f}x" if pd.notna(getattr(r, "speedup", np.nan)) else ""
        diff = f"{r.max_abs_diff:.1e}" if pd.notna(getattr(r, "max_abs_diff", np.nan)) else ""
        agree = "" if pd.isna(r.status_agree) else str(bool(r.status_agree))
        lines.append(
            f"| {r.n} | {r.config} | {r.method} | {r.dmus_timed} | {r.time_s:.2f}{ext} | {sp} | {diff} | "
            f"{agree} | {int(r.lp_solves)} | {r.peak_rss_mb:.0f} |"
        )
    fast = df[df.method == "dea_scores"]
    lines += ["", "Work done by `dea_scores` (last run):", ""]
    lines += [
        "| n | config | non-dominated | final pool | LP solves | certified by cached basis | VRS-infeasible |",
        "|---|---|---|---|---|---|---|",
    ]
    for r in fast.itertuples(index=False):
        lines.append(
            f"| {r.n} | {r.config} | {int(r.n_nondominated)} | {int(r.pool_size)} | {int(r.lp_solves)} | "
            f"{int(r.ray_certified)} | {int(r.n_infeasible)} |"
        )
    return "\n".join(lines) + "\n"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--sizes", default="1000,20000,300000")
    ap.add_argument("--reps", type=int, default=3)
    ap.add_argument(
        "--loop-full-n", type=int, default=1000, help="largest n at which the loop solves every DMU"
    )
    ap.add_argument(
        "--loop-max-n", type=int, default=20000, help="largest n at which the loop is timed at all"
    )
    ap.add_argument("--loop-sample", type=int, default=500)
    ap.add_argument("--out", default=str(HERE / "results"))
    ap.add_argument("--worker", type=int, default=None, help=argparse.SUPPRESS)
    args = ap.parse_args()

    if args.worker is not None:
        rows = run_size(args.worker, args.reps, args.loop_full_n, args.loop_max_n, args.loop_sample)
        print("RESULT " + json.dumps(rows))
        return

    rows = []
    for n in (int(v) for v in args.sizes.split(",")):
        cmd = [
            sys.executable,
            __file__,
            "--worker",
            str(n),
            "--reps",
            str(args.reps),
            "--loop-full-n",
            str(args.loop_full_n),
            "--loop-max-n",
            str(args.loop_max_n),
            "--loop-sample",
            str(args.loop_sample),
        ]
        out = subprocess.run(cmd, check=True, capture_output=True, text=True).stdout
        got = json.loads(next(line for line in out.splitlines() if line.startswith("RESULT "))[7:])
        for r in got:
            print(
                f"n={r['n']:>7} {r['config']:<16} {r['method']:<13} time={r['time_s']:9.2f}s"
                + (f" (extrapolated from {r['dmus_timed']} DMUs)" if r["extrapolated"] else "")
                + (f" speedup={r['speedup']:.0f}x maxdiff={r['max_abs_diff']:.1e}" if "speedup" in r else "")
                + f" rss={r['peak_rss_mb']:.0f}MB",
                flush=True,
            )
        rows += got
    df = pd.DataFrame(rows)
    for col in ("speedup", "max_abs_diff", "status_agree", "dmus_compared"):
        if col not in df:
            df[col] = np.nan
    try:
        import highspy  # noqa: F401

        highs = "highspy " + __import__("importlib.metadata").metadata.version("highspy")
    except ImportError:
        highs = "scipy-vendored HiGHS"
    meta = dict(**machine(), highs=highs, reps=args.reps, loop_sample=args.loop_sample)
    out = Path(args.out)
    write_csv(df, out / "dea.csv")
    write_text(out / "dea.md", _fmt_md(df, meta))
    print(f"wrote {out / 'dea.csv'} and {out / 'dea.md'}")


if __name__ == "__main__":
    main()

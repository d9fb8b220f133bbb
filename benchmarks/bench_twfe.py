"""Benchmark: TWFE y ~ x + 8 controls | firm + year with firm-clustered CRV1, at 1M and 4M rows.

    python benchmarks/bench_twfe.py                       # 1M and 4M rows, 3 timed fits per method
    python benchmarks/bench_twfe.py --rows 1000000 --reps 3 --methods pyfixest,linearmodels

Methods (same synthetic balanced panel, rows/8 firms x 8 years, project column names):

* `intelcap_table`   - `intelcap.econometrics.estimate.regression_table` with one ModelSpec (the workflow's path:
                       listwise deletion, singletons, exact one-pass FE projection, our own OLS + CRV1 with
                       reghdfe's K, `_cons`, R², within R², tidy rows; no pyfixest, no scipy.stats);
* `intelcap_absorbed` - `intelcap.econometrics.absorb.AbsorbedDesign` (singletons, FE dof) + `ols_crv1`;
* `pyfixest`          - bare `pf.feols(..., vcov={"CRV1": "Stkcd"})` (default fixef_tol 1e-8);
* `linearmodels`      - `PanelOLS(entity_effects=True, time_effects=True).fit(cov_type="clustered",
                       cluster_entity=True)`.

Each (rows, method) runs in its own subprocess: data generation (seeded, identical across methods) is not
timed; `reps` fits are timed (median reported); peak RSS is the subprocess's ru_maxrss (whole process,
including the ~0.1 GB/M-rows data frame) and the increment over the RSS right after generating the data.
Coefficient and SE agreement is against pyfixest (`se_rel_diff_vs_pyfixest`; pyfixest's default fixef_tol
1e-8 bounds how close it can be). Load average is recorded next to every timing (shared 2-core
machine). Writes benchmarks/results/twfe.{csv,md}.
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

import numpy as np
import pandas as pd
from _common import load, save_csv, write_report

CONTROLS = ["ListAge", "Board", "Size", "ROA", "Lev", "Mfee", "Debcost", "Dual"]
METHODS = ["intelcap_table", "intelcap_absorbed", "pyfixest", "linearmodels"]


def make_panel(rows: int, seed: int = 0, T: int = 8) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    nf = rows // T
    firm, yr = np.repeat(np.arange(nf), T), np.tile(np.arange(T), nf)
    a = rng.normal(size=nf)
    x = 0.5 * a[firm] + rng.normal(0.3, 0.2, T).cumsum()[yr] + rng.normal(size=nf * T)
    W = rng.normal(size=(nf * T, len(CONTROLS))) + 0.2 * x[:, None]
    y = 0.034 * x + W @ rng.normal(0, 0.1, len(CONTROLS)) + a[firm] + 0.1 * yr + rng.normal(size=nf * T)
    df = pd.DataFrame(W, columns=CONTROLS)
    df["lnCU"], df["lnINT"] = y, x
    df["Stkcd"] = pd.Series(firm).map("{:06d}".format).to_numpy()  # 6-character codes, as the workflow
    df["year"] = 2011 + yr
    return df


def rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def current_rss_mb() -> float:
    with open("/proc/self/statm") as fh:
        return int(fh.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20


def fit_once(method: str, df: pd.DataFrame) -> tuple[float, float]:
    """Returns (coef of lnINT, CRV1 SE)."""
    fml = "lnCU ~ lnINT + " + " + ".join(CONTROLS) + " | Stkcd + year"
    if method == "pyfixest":
        import pyfixest as pf

        f = pf.feols(fml, df, vcov={"CRV1": "Stkcd"})
        return float(f.coef()["lnINT"]), float(f.se()["lnINT"])
    if method == "intelcap_table":
        from intelcap.econometrics.estimate import ModelSpec, regression_table

        spec = ModelSpec(name="(1)", depvar="lnCU", regressors=["lnINT"], controls=True, fe=["Stkcd", "year"])
        res = regression_table(df, [spec], CONTROLS, "Stkcd")
        r = res[res.term == "lnINT"].iloc[0]
        return float(r.estimate), float(r.std_error)
    if method == "intelcap_absorbed":
        from intelcap.econometrics.absorb import AbsorbedDesign
        from intelcap.econometrics.crv1 import ols_crv1

        d = AbsorbedDesign(df[["Stkcd", "year"]])
        yd = d.demean(df["lnCU"].to_numpy())
        Xd = d.demean(df[["lnINT", *CONTROLS]].to_numpy())
        cl = d.subset(df["Stkcd"].to_numpy())
        r = ols_crv1(yd, Xd, cl, d.dof_fe(cl))
        return float(r.beta[0]), float(r.se[0])
    if method == "linearmodels":
        from linearmodels.panel import PanelOLS

        p = df.set_index(["Stkcd", "year"])
        m = PanelOLS(p["lnCU"], p[["lnINT", *CONTROLS]], entity_effects=True, time_effects=True)
        r = m.fit(cov_type="clustered", cluster_entity=True)
        return float(r.params["lnINT"]), float(r.std_errors["lnINT"])
    raise ValueError(method)


def worker(method: str, rows: int, reps: int) -> None:
    warnings.filterwarnings("ignore")
    df = make_panel(rows)
    fit_once(method, df.iloc[:8000].copy())  # warm-up: imports, numba/JIT compilation, not timed
    base_rss = current_rss_mb()
    times, loads = [], []
    coef = se = np.nan
    for _ in range(reps):
        loads.append(load())
        t0 = time.perf_counter()
        coef, se = fit_once(method, df)
        times.append(time.perf_counter() - t0)
    print(
        json.dumps(
            {
                "times": times,
                "loads": loads,
                "coef": coef,
                "se": se,
                "rss_after_data_mb": base_rss,
                "peak_rss_mb": rss_mb(),
            }
        )
    )


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--rows", type=str, default="1000000,4000000")
    ap.add_argument("--reps", type=int, default=3)
    ap.add_argument("--methods", type=str, default=",".join(METHODS))
    ap.add_argument("--worker", type=str, default=None, help=argparse.SUPPRESS)
    ap.add_argument("--timeout", type=float, default=1800, help="seconds per (rows, method) subprocess")
    ap.add_argument(
        "--merge", type=str, default="", help="CSV file(s) of earlier runs to merge (other row counts)"
    )
    ap.add_argument("--render", type=str, default="", help="only render twfe.md from these CSV files")
    args = ap.parse_args()
    if args.render:
        df = pd.concat([pd.read_csv(f) for f in args.render.split(",")], ignore_index=True).sort_values(
            "rows", kind="stable"
        )
        save_csv(df, "twfe.csv")
        render(df, args)
        return
    if args.worker:
        worker(args.worker, int(args.rows), args.reps)
        return
    rows_list = [int(r) for r in args.rows.split(",")]
    methods = args.methods.split(",")
    if "pyfixest" in methods:  # reference first
        methods = ["pyfixest"] + [m for m in methods if m != "pyfixest"]
    records = []
    for rows in rows_list:
        ref = None
        for m in methods:
            cmd = [sys.executable, __file__, "--worker", m, "--rows", str(rows), "--reps", str(args.reps)]
            l0 = load()
            try:
                p = subprocess.run(cmd, capture_output=True, text=True, timeout=args.timeout)
                out = json.loads(p.stdout.strip().splitlines()[-1]) if p.returncode == 0 else None
                err = (
                    ""
                    if out
                    else p.stderr.strip().splitlines()[-1][:200]
                    if p.stderr.strip()
                    else f"rc {p.returncode}"
                )
            except subprocess.TimeoutExpired:
                out, err = None, f"timeout after {args.timeout:.0f} s"
            rec = {
                "rows": rows,
                "firms": rows // 8,
                "years": 8,
                "method": m,
                "reps": args.reps,
                "load_start": l0,
            }
            if out:
                if m == "pyfixest":
                    ref = out
                rec.update(
                    {
                        "median_s": float(np.median(out["times"])),
                        "min_s": min(out["times"]),
                        "max_s": max(out["times"]),
                        "times_s": " ".join(f"{t:.2f}" for t in out["times"]),
                        "peak_rss_mb": round(out["peak_rss_mb"]),
                        "rss_after_data_mb": round(out["rss_after_data_mb"]),
                        "fit_rss_increment_mb": round(out["peak_rss_mb"] - out["rss_after_data_mb"]),
                        "coef": out["coef"],
                        "se": out["se"],
                        "loads": " | ".join(out["loads"]),
                    }
                )
            else:
                rec["error"] = err
            records.append(rec)
            print(rec, flush=True)
        # ratios and agreement within this row count (same data, pyfixest = reference)
        for rec in records:
            if rec["rows"] == rows and ref and "median_s" in rec:
                rec["ratio_to_pyfixest"] = rec["median_s"] / float(np.median(ref["times"]))
                rec["coef_rel_diff_vs_pyfixest"] = abs(rec["coef"] / ref["coef"] - 1)
                rec["se_ratio_vs_pyfixest"] = rec["se"] / ref["se"]
                rec["se_rel_diff_vs_pyfixest"] = abs(rec["se"] / ref["se"] - 1)
    df = pd.DataFrame(records)
    if args.merge:  # keep earlier results of other row counts (e.g. 1M and 4M run separately)
        old = pd.concat([pd.read_csv(f) for f in args.merge.split(",")], ignore_index=True)
        df = pd.concat([old[~old["rows"].isin(df["rows"])], df], ignore_index=True).sort_values(
            "rows", kind="stable"
        )
    save_csv(df, "twfe.csv")
    render(df, args)


def render(df: pd.DataFrame, args: argparse.Namespace) -> None:
    lines = [
        "# TWFE benchmark (`benchmarks/bench_twfe.py`)",
        "",
        f"Command: `python benchmarks/bench_twfe.py --rows {','.join(str(r) for r in sorted(set(df['rows'])))} "
        f"--reps {args.reps}` (1M and 4M may be run separately and merged with `--merge`). "
        f"{os.cpu_count()} CPUs, Python {platform.python_version()}. Model: `lnCU ~ lnINT + 8 controls | Stkcd + "
        "year`, CRV1 clustered by firm; balanced synthetic panel (rows/8 firms x 8 years, string firm codes). "
        "Each method runs in its own process: data generation untimed, median of the timed fits; peak RSS = "
        "the process's maximum resident set (data included), increment = peak minus RSS after building the data.",
        "",
        "| rows | method | median s | min-max s | x pyfixest | peak RSS MB | fit increment MB | coef | "
        "rel. diff coef vs pyfixest | SE / pyfixest SE | load avg at each fit |",
        "|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for _, r in df.iterrows():
        if pd.isna(r.get("median_s")):
            lines.append(
                f"| {r.rows:,} | {r.method} | failed: {r.get('error')} | | | | | | | | {r.load_start} |"
            )
            continue
        lines.append(
            f"| {r.rows:,} | {r.method} | {r.median_s:.2f} | {r.min_s:.2f}-{r.max_s:.2f} | "
            f"{r.get('ratio_to_pyfixest', float('nan')):.2f} | {r.peak_rss_mb:,} | {r.fit_rss_increment_mb:,} | "
            f"{r.coef:.6f} | {r.get('coef_rel_diff_vs_pyfixest', float('nan')):.1e} | "
            f"{r.get('se_ratio_vs_pyfixest', float('nan')):.6f} | {r.loads} |"
        )
    lines += [
        "",
        "SE ratios: intelcap and pyfixest use reghdfe's CRV1 factor G/(G-1)(N-1)/(N-K) with K = slopes + "
        "T (firm FE nested in the firm cluster); linearmodels' `clustered` counts the absorbed entity effects in "
        "its residual degrees of freedom (not nested-adjusted), so with 8 years its SE is sqrt(8/7) = 1.069x "
        "larger: a convention difference, not an error (coefficients agree).",
    ]
    write_report("twfe.md", lines)


if __name__ == "__main__":
    main()

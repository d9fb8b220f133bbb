"""Benchmark: K placebo refits via FastRefit vs full pyfixest feols refits.

    python benchmarks/bench_refit.py --rows 1000000 --reps 500

Synthetic balanced panel (rows / 8 firms x 8 years), firm + year FE, 8 controls, firm clusters;
lnINT = firm constant + industry (13 IFR-like industries) x year robot series + noise-free, so the
placebo reassigns industries' series across firms (reassign="firm"). Writes results/refit.csv and
results/refit.md.
"""

from __future__ import annotations

import argparse
import platform
import resource
import time
import warnings

import numpy as np
import pandas as pd
import pyfixest as pf
from _common import load, save_csv, write_report

from intelcap.econometrics.absorb import AbsorbedDesign
from intelcap.econometrics.placebo import placebo_coefficients

warnings.filterwarnings("ignore")
CONTROLS = [f"w{k}" for k in range(8)]
FML = "y ~ {x} + " + " + ".join(CONTROLS) + " | year + Stkcd"  # FE order: see inference module doc


def make_panel(rows: int, seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    T = 8
    nf = rows // T
    firm, yr = np.repeat(np.arange(nf), T), np.tile(np.arange(T), nf)
    ind = rng.integers(0, 13, nf)[firm]
    g = rng.normal(0.3, 0.2, size=(13, T)).cumsum(1)
    lnint = rng.normal(size=nf)[firm] + g[ind, yr]
    W = rng.normal(size=(nf * T, 8)) + 0.2 * lnint[:, None]
    y = 0.03 * lnint + W @ rng.normal(0, 0.1, 8) + rng.normal(size=nf)[firm] + rng.normal(size=nf * T)
    df = pd.DataFrame(W, columns=CONTROLS)
    df["y"], df["lnint"], df["Stkcd"], df["year"], df["ind"] = y, lnint, firm, yr, ind
    return df


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # kB on Linux


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--rows", type=int, default=1_000_000)
    ap.add_argument("--reps", type=int, default=500)
    ap.add_argument("--naive", type=int, default=5, help="full feols refits timed for the naive estimate")
    ap.add_argument("--seed", type=int, default=1)
    args = ap.parse_args()
    df = make_panel(args.rows)
    tight = pf.MapDemeaner(fixef_tol=1e-12)

    pf.feols(FML.format(x="lnint"), df.iloc[:8000], vcov={"CRV1": "Stkcd"})  # warm-up (JIT), untimed
    load_start = load()
    one_fit = []
    for _ in range(3):
        t0 = time.perf_counter()
        pf.feols(FML.format(x="lnint"), df, vcov={"CRV1": "Stkcd"}, demeaner=tight)
        one_fit.append(time.perf_counter() - t0)
    t_fit = float(np.median(one_fit))

    t0 = time.perf_counter()
    design = AbsorbedDesign(df[["Stkcd", "year"]])
    res = placebo_coefficients(
        df.y,
        df.lnint,
        df[CONTROLS],
        design,
        df.Stkcd,
        "firm",
        K=args.reps,
        seed=args.seed,
        firm_ids=df.Stkcd,
        industry_ids=df.ind,
        year_ids=df.year,
        keep_draws=3,
    )
    t_fast = time.perf_counter() - t0
    rss_after_fast = peak_rss_mb()
    load_fast = load()

    sub = df[design.keep].reset_index(drop=True)
    max_dcoef = max_dse = 0.0
    naive = []
    for r in range(3):
        t0 = time.perf_counter()
        fit = pf.feols(
            FML.format(x="xr"), sub.assign(xr=res.x_draws[:, r]), vcov={"CRV1": "Stkcd"}, demeaner=tight
        )
        naive.append(time.perf_counter() - t0)
        max_dcoef = max(max_dcoef, abs(res.coefs[r] / fit.coef()["xr"] - 1))
        max_dse = max(max_dse, abs(res.ses[r] / fit.se()["xr"] - 1))
    for _ in range(max(0, args.naive - 3)):
        t0 = time.perf_counter()
        pf.feols(FML.format(x="xr"), sub.assign(xr=res.x_draws[:, 0]), vcov={"CRV1": "Stkcd"}, demeaner=tight)
        naive.append(time.perf_counter() - t0)
    t_naive = float(np.mean(naive)) * args.reps

    row = {
        "rows": len(df),
        "firms": df.Stkcd.nunique(),
        "years": 8,
        "controls": len(CONTROLS),
        "reps": args.reps,
        "one_feols_s": round(t_fit, 3),
        "fastrefit_total_s": round(t_fast, 3),
        "fastrefit_per_rep_ms": round(1000 * t_fast / args.reps, 2),
        "ratio_to_one_fit": round(t_fast / t_fit, 2),
        "ratio_to_fastest_fit": round(t_fast / min(one_fit), 2),
        "target_ratio": 20,
        "naive_extrapolated_s": round(t_naive, 1),
        "speedup_vs_naive": round(t_naive / t_fast, 1),
        "max_rel_diff_coef_3reps": f"{max_dcoef:.2e}",
        "max_rel_diff_se_3reps": f"{max_dse:.2e}",
        "peak_rss_mb_after_fastrefit": round(rss_after_fast),
        "peak_rss_mb_total": round(peak_rss_mb()),
        "load_at_start": load_start,
        "load_after_fastrefit": load_fast,
        "load_at_end": load(),
        "one_feols_runs_s": " ".join(f"{t:.2f}" for t in one_fit),
        "python": platform.python_version(),
        "pyfixest": pf.__version__,
        "cpus": len(__import__("os").sched_getaffinity(0)),
    }
    save_csv(pd.DataFrame([row]), "refit.csv")
    lines = [
        "# FastRefit benchmark (placebo refits)",
        "",
        f"Command: `python benchmarks/bench_refit.py --rows {args.rows} --reps {args.reps}`",
        "",
        "| metric | value |",
        "|---|---|",
        *[f"| {k} | {v} |" for k, v in row.items()],
        "",
        f"{args.reps} placebo refits (firm reassignment of the industry robot series, each x_r re-demeaned "
        f"by firm + year FE, coefficient + CRV1 SE) took {t_fast:.1f} s = {t_fast / t_fit:.1f}x one pyfixest "
        f"fit ({t_fit:.2f} s; target <= 20x). A naive loop of full feols refits would take ~{t_naive:.0f} s. "
        f"Three reps re-fitted with pyfixest agree to {max(max_dcoef, max_dse):.1e} (relative). "
        f"Load average (1/5/15 min) {load_start} at the start, {load_fast} after the placebo loop "
        "(shared 2-core machine: the ratio is measured within one process, back to back).",
        "",
        "Method (placebo.placebo_coefficients fast path): rows sorted by firm; each block of draws built "
        "directly in that order, demeaned exactly in one pass (firm means by segment sums, then the T x T year "
        "projection of FWL: M_firm+year = M_firm - P_{M_firm D_year}), controls partialled out with "
        "single-threaded BLAS (threadpoolctl), firm-cluster score sums as contiguous segment sums.",
    ]
    write_report("refit.md", lines)


if __name__ == "__main__":
    main()

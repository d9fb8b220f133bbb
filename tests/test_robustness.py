"""Tests for intelcap.econometrics.robustness (the "beyond the paper" stage): each check compares the table glue with an
independent computation (brute-force bootstrap, hand AKM, direct pyfixest fits, a simulated BC95 panel)."""

from __future__ import annotations

import itertools
import time
import warnings

import numpy as np
import pandas as pd
import pytest
from _factories import lnint_design
from scipy import stats

from intelcap.econometrics import robustness as R
from intelcap.econometrics.crv1 import ols_crv1
from intelcap.econometrics.estimate import ModelSpec

pf = pytest.importorskip("pyfixest")
warnings.filterwarnings("ignore", category=UserWarning, module="pyfixest")

CONTROLS = ["ListAge", "Board", "Size", "ROA", "Lev", "Mfee", "Debcost", "Dual"]


def panel(nf: int = 60, T: int = 5, n_ind: int = 6, beta: float = 0.0, seed: int = 0) -> pd.DataFrame:
    """Firm x year panel with the lnINT structure: firm constant + industry x year robot series."""
    rng = np.random.default_rng(seed)
    firm, yr, ind, lnint = lnint_design(rng, nf, T, n_ind)
    n = nf * T
    df = pd.DataFrame(
        {
            "Stkcd": (firm + 600000).astype(str),
            "year": yr + 2011,
            "ifr": [f"I{j}" for j in ind],
            "industry": [f"C{13 + j}" for j in ind],
            "lnINT": lnint,
            "province": rng.choice(["北京", "江苏", "四川"], n),
            "zshock": rng.normal(size=(n_ind, T))[ind, yr],
        }
    )
    df["Municipality"] = (df["province"] == "北京").astype(int)
    for c in CONTROLS:
        df[c] = rng.normal(size=n) + 0.2 * lnint
    df["lnCU"] = (
        beta * lnint
        + 0.1 * df["Size"]
        - 0.1 * df["Lev"]
        + rng.normal(size=nf)[firm]
        + rng.normal(size=T)[yr]
        + 0.5 * df["zshock"]
        + rng.normal(size=n)
    )
    return df


SPEC = ModelSpec(name="(4)", depvar="lnCU", regressors=["lnINT"], controls=True, fe=["Stkcd", "year"])
SMALL_CONTROLS = ["Size", "Lev"]


# ------------------------------------------------------------------ 1. wild cluster bootstrap glue
def brute_force_wcr_p(md: R.ModelData) -> tuple[float, int]:
    """Null-imposed wild cluster bootstrap-t by explicit refits over all 2^G Rademacher sign vectors."""
    d = md.design
    yd, Wd = d.demean(md.y), d.demean(md.W)
    gamma = np.linalg.lstsq(Wd, yd, rcond=None)[0]
    u_r = yd - Wd @ gamma  # restricted residual (FWL: = residual of y ~ W + FE)
    y = d.subset(md.y)
    cl = pd.factorize(d.subset(md.industry), sort=True)[0]
    G = cl.max() + 1
    Xd = d.demean(np.column_stack([md.x, md.W]))
    k_fe = d.dof_fe(cl)
    r = ols_crv1(yd, Xd, cl, k_fe)
    t = r.beta[0] / r.se[0]
    ts = []
    for signs in itertools.product([-1.0, 1.0], repeat=G):
        ystar = y - u_r + np.asarray(signs)[cl] * u_r
        rs = ols_crv1(d.demean(ystar), Xd, cl, k_fe)
        ts.append(rs.beta[0] / rs.se[0])
    return float(np.mean(np.abs(ts) >= abs(t) * (1 - 1e-12))), 2**G


@pytest.mark.parametrize("beta", [0.0, 1.0])
def test_wild_bootstrap_row_equals_brute_force(beta: float) -> None:
    df = panel(beta=beta, seed=3)
    md = R.model_data(df, SPEC, SMALL_CONTROLS)
    rows = R.ols_inference(md, B=99, seed=1, methods=["wild_bootstrap_industry"])
    row = rows[0]
    p_bf, n_bf = brute_force_wcr_p(md)
    assert row["enumerated"] is True and row["boot_weights"] == "rademacher" and row["n_boot"] == n_bf == 64
    assert row["p_value"] == pytest.approx(p_bf, abs=1e-12)
    assert row["ci_low"] <= row["estimate"] <= row["ci_high"]
    if beta == 0.0:
        assert row["p_value"] > 0.05
    else:
        assert row["p_value"] < 0.05 and row["ci_low"] > 0


def test_boot_kind_switches_to_webb_when_enumeration_exceeds_B() -> None:
    assert R.boot_kind(13, 9999) == "rademacher"  # 2^13 = 8192 <= 9999: all sign vectors
    assert R.boot_kind(13, 999) == "webb"
    md = R.model_data(panel(seed=4), SPEC, SMALL_CONTROLS)
    row = R.ols_inference(md, B=50, seed=1, methods=["wild_bootstrap_industry"])[0]
    assert row["boot_weights"] == "webb" and row["enumerated"] is False and row["n_boot"] == 50


# ------------------------------------------------------------------ 2. AKM glue
def test_akm_row_equals_hand_computation_tiny() -> None:
    df = panel(nf=8, T=3, n_ind=2, beta=0.5, seed=5)
    md = R.model_data(df, SPEC, ["Size"])
    rows = {r["method"]: r for r in R.ols_inference(md, B=9, seed=0, methods=["akm", "akm0", "firm_crv1"])}
    # hand: residualise on firm + year dummies and the control by least squares, loop over shocks
    D = np.column_stack(
        [
            pd.get_dummies(df["Stkcd"]).to_numpy(float),
            pd.get_dummies(df["year"]).to_numpy(float)[:, 1:],
            df[["Size"]].to_numpy(float),
        ]
    )
    res = lambda v: v - D @ np.linalg.lstsq(D, v, rcond=None)[0]  # noqa: E731
    yy, xx = res(df["lnCU"].to_numpy(float)), res(df["lnINT"].to_numpy(float))
    b = xx @ yy / (xx @ xx)
    u, u0 = yy - b * xx, yy
    shock = (df["ifr"] + "|" + df["year"].astype(str)).to_numpy()
    num = num0 = 0.0
    for s in np.unique(shock):
        m = shock == s
        xhat = xx[m].mean()  # coefficient of X.. on a 0/1 share column
        num += (xhat * u[m].sum()) ** 2
        num0 += (xhat * u0[m].sum()) ** 2
    se, se0 = np.sqrt(num) / (xx @ xx), np.sqrt(num0) / (xx @ xx)
    assert rows["akm"]["estimate"] == pytest.approx(b, rel=1e-8)
    assert rows["akm"]["estimate"] == pytest.approx(rows["firm_crv1"]["estimate"], rel=1e-8)
    assert rows["akm"]["std_error"] == pytest.approx(se, rel=1e-7)
    assert rows["akm0"]["std_error"] == pytest.approx(se0, rel=1e-7)
    assert rows["akm"]["p_value"] == pytest.approx(2 * stats.norm.sf(abs(b / se)), rel=1e-6)


def test_akm_iv_reduces_to_akm_ols_when_instrument_is_regressor() -> None:
    from intelcap.econometrics.inference import akm_se

    rng = np.random.default_rng(0)
    n, shocks = 200, np.repeat(np.arange(20), 10)
    x = rng.normal(size=n) + rng.normal(size=20)[shocks]
    y = 0.3 * x + rng.normal(size=n) + rng.normal(size=20)[shocks]
    a, b = akm_se(y, x, shocks), R.akm_iv(y, x, x, shocks)
    assert b.beta == pytest.approx(a.beta) and b.se_akm == pytest.approx(a.se_akm, rel=1e-10)
    assert b.se_akm0 == pytest.approx(a.se_akm0, rel=1e-10)
    assert np.allclose(b.ci_akm0, a.ci_akm0, rtol=1e-8)


# ------------------------------------------------------------------ 3. placebo shards
def test_placebo_shards_deterministic_independent_of_K_and_equal_pyfixest() -> None:
    df = panel(nf=120, T=6, n_ind=20, beta=0.4, seed=6)
    md = R.model_data(df, SPEC, SMALL_CONTROLS)
    for mode in ("firm", "industry"):
        a, xa = R.placebo_shard(md, mode, shard=1, size=20, seed=7, keep_draws=3)
        b, _ = R.placebo_shard(md, mode, shard=1, size=20, seed=7)
        pd.testing.assert_frame_equal(a, b)  # same (mode, shard, size, seed): same draws
        assert list(a["draw"]) == list(range(20, 40))
        c, _ = R.placebo_shard(md, mode, shard=2, size=20, seed=7)
        assert not np.allclose(a["coef"], c["coef"])
        # a K-dependent choice lives only in the summary: K = 30 uses draws 0..29 of the same shard files
        s0, _ = R.placebo_shard(md, mode, shard=0, size=20, seed=7)
        both = pd.concat([s0, a])
        assert R.placebo_summary(both, 30)["K"].iloc[0] == 30
        assert R.placebo_summary(both, 30)["placebo_mean"].iloc[0] == pytest.approx(
            both["coef"].iloc[:30].mean()
        )
        # sample of reps: a full pyfixest refit with lnINT replaced by the drawn series
        est = md.frame[md.design.keep].reset_index(drop=True)
        for k in range(3):
            fit = pf.feols(
                "lnCU ~ xr + Size + Lev | Stkcd + year",
                data=est.assign(xr=xa[:, k]),
                vcov={"CRV1": "Stkcd"},
                demeaner=pf.MapDemeaner(fixef_tol=1e-13),
            )
            assert a["coef"].iloc[k] == pytest.approx(float(fit.coef()["xr"]), abs=1e-8, rel=1e-8)
    assert R.shard_seed(1, "firm", 0) != R.shard_seed(1, "industry", 0) != R.shard_seed(1, "firm", 1)


def test_placebo_mean_near_zero_under_real_effect() -> None:
    df = panel(nf=200, T=6, n_ind=25, beta=0.5, seed=8)
    md = R.model_data(df, SPEC, SMALL_CONTROLS)
    for mode in ("firm", "industry"):
        out, _ = R.placebo_shard(md, mode, shard=0, size=300, seed=11)
        K, b = len(out), out["coef"].to_numpy()
        assert abs(out["actual"].iloc[0]) > 5 * b.std()  # the real effect stands out
        assert abs(b.mean()) < 3 * b.std(ddof=1) / np.sqrt(K), mode


# ------------------------------------------------------------------ 4. specification curve
SPEC_CFG = {
    "cu": ["a", "b"],
    "winsor": {"none": []},
    "controls": ["none", "paper"],
    "fe": {"firm_year": ["Stkcd", "year"], "province_year": ["Stkcd", "year", "province^year"]},
    "samples": ["all", "no_municipalities"],
}


def test_spec_curve_shard_equals_direct_pyfixest_and_covers_grid() -> None:
    df = panel(nf=80, T=6, beta=0.3, seed=9)
    shards = [R.spec_curve_shard(df, cu, "none", SPEC_CFG, CONTROLS, "Stkcd") for cu in SPEC_CFG["cu"]]
    allspecs = pd.concat(shards, ignore_index=True)
    grid = R.spec_grid(SPEC_CFG)
    assert len(grid) == 2 * 1 * 2 * 2 * 2 == len(allspecs)
    keys = ["cu", "winsor", "controls", "fe", "sample"]
    assert set(map(tuple, allspecs[keys].to_numpy())) == set(map(tuple, grid.to_numpy()))
    one = shards[0].set_index(["controls", "fe", "sample"])
    f1 = pf.feols(
        "lnCU ~ lnINT | Stkcd + year",
        data=df,
        vcov={"CRV1": "Stkcd"},
        demeaner=pf.MapDemeaner(fixef_tol=1e-13),
    )
    assert one.loc[("none", "firm_year", "all"), "estimate"] == pytest.approx(f1.coef()["lnINT"], rel=1e-8)
    sub = df[df["Municipality"] == 0]
    f2 = pf.feols(
        "lnCU ~ lnINT + " + " + ".join(CONTROLS) + " | Stkcd + year + province^year",
        data=sub,
        vcov={"CRV1": "Stkcd"},
        demeaner=pf.MapDemeaner(fixef_tol=1e-13),
    )
    assert one.loc[("paper", "province_year", "no_municipalities"), "estimate"] == pytest.approx(
        f2.coef()["lnINT"], rel=1e-8
    )
    assert (allspecs["status"] == "ok").all()


def test_spec_grid_is_full_cartesian_product_of_default_block() -> None:
    cfg = {
        "cu": ["sfa_bc92", "sfa_translog", "cols", "fa_turnover"],
        "controls": ["none", "paper"],
        "fe": {"firm_year": [], "industry_year": [], "province_year": []},
        "winsor": {"none": [], "p1_99": [1, 99], "p5_95": [5, 95]},
        "samples": ["all", "no_municipalities"],
    }
    g = R.spec_grid(cfg)
    assert len(g) == 144 and not g.duplicated().any()


# ------------------------------------------------------------------ 5. one-step SFA
def test_one_step_sfa_recovers_planted_delta_and_ame_formula() -> None:
    rng = np.random.default_rng(12)
    n = 3000
    lnK, lnL, z = rng.normal(10, 1, n), rng.normal(6, 0.8, n), rng.normal(0, 1, n)
    delta, su, sv = np.array([0.1, -0.15]), 0.2, 0.05
    mu = delta[0] + delta[1] * z
    u = stats.truncnorm.rvs(-mu / su, np.inf, loc=mu, scale=su, random_state=rng)
    y = 1.0 + 0.3 * lnK + 0.6 * lnL + rng.normal(0, sv, n) - u
    df = pd.DataFrame(
        {
            "Stkcd": np.arange(n).astype(str),
            "year": rng.integers(2011, 2014, n),
            "industry": rng.choice(["C13", "C14"], n),
            "Y": np.exp(y),
            "K": np.exp(lnK),
            "L": np.exp(lnL),
            "z": z,
        }
    )
    out, diag = R.one_step_sfa(df, ["z"])
    est = out.set_index("parameter")
    assert diag["converged"]
    d1, se1 = est.loc["delta_z", "estimate"], est.loc["delta_z", "std_error"]
    assert abs(d1 - delta[1]) < 3 * se1 and se1 < 0.05
    # AME of E[ln CU] = E[-u]: numerical derivative of the truncated-normal mean at the estimates
    dc, s_u = est.loc["delta_const", "estimate"], est.loc["sigma_u", "estimate"]
    h = 1e-6
    eu = lambda dz: R.truncnormal_moments(dc + d1 * (z + dz), s_u)["Eu"]  # noqa: E731 - shift z itself
    assert est.loc["ame_E_lnCU_z", "estimate"] == pytest.approx(
        -np.mean((eu(h) - eu(-h)) / (2 * h)), rel=1e-5
    )
    assert est.loc["ame_E_lnCU_z", "estimate"] > 0  # delta < 0: lnINT lowers inefficiency, raises CU


def test_truncnormal_moments_against_simulation() -> None:
    rng = np.random.default_rng(1)
    mu, su = np.array([-0.2, 0.1]), 0.3
    m = R.truncnormal_moments(mu, su)
    for k in range(2):
        draw = stats.truncnorm.rvs(-mu[k] / su, np.inf, loc=mu[k], scale=su, size=400_000, random_state=rng)
        assert m["Eu"][k] == pytest.approx(draw.mean(), abs=2e-3)
        assert m["lnEcu"][k] == pytest.approx(np.log(np.exp(-draw).mean()), abs=2e-3)


# ------------------------------------------------------------------ 6. Monte Carlo
def test_mc_replication_end_to_end_fast(config: dict, root) -> None:
    xw = pd.read_csv(root / "config" / "crosswalk_csrc_ifr.csv", dtype=str, keep_default_na=False)
    reg = pd.read_csv(root / "config" / "regions.csv", dtype=str, keep_default_na=False)
    config = {**config, "synth": {**config["synth"], "n_firms": 400}}
    t0 = time.perf_counter()
    sc = R.MonteCarloScenario("baseline", {"sigma_industry_shock": 0.02}, config, xw, reg, B=999)
    out = R.mc_replication(0, 123, sc)
    assert time.perf_counter() - t0 < 15
    assert list(out.columns) == R.MC_COLUMNS
    assert (out["status"] == "ok").all()
    assert set(out["estimator"]) == {"two_step", "oracle"} and set(out["method"]) == set(R.METHODS)
    assert out["true_ame"].between(0.01, 0.1).all() and (out["beta"] == config["synth"]["beta_lnINT"]).all()
    ok = out.dropna(subset=["ci_low"])
    assert ((ok["ci_low"] <= ok["estimate"]) & (ok["estimate"] <= ok["ci_high"])).all()


def test_coverage_summary_math_on_hand_frame() -> None:
    rows = []
    for rep, (est, lo, hi) in enumerate([(1.0, 0.5, 1.5), (2.0, 1.8, 2.2), (1.2, 0.9, 1.6), (0.8, 0.7, 0.9)]):
        for estimator, shift in (("two_step", 0.0), ("oracle", 0.1)):
            rows.append(
                {
                    "scenario": "s",
                    "rep": rep,
                    "seed": rep,
                    "estimator": estimator,
                    "method": "firm_crv1",
                    "estimate": est - shift,
                    "std_error": 0.1 * (rep + 1),
                    "p_value": 0.01 * rep,
                    "ci_low": lo,
                    "ci_high": hi,
                    "true_ame": 1.0,
                    "beta": 1.0,
                    "covers_ame": lo <= 1.0 <= hi,
                    "covers_beta": lo <= 1.0 <= hi,
                    "nobs": 10,
                    "n_clusters": 5,
                    "n_boot": np.nan,
                    "status": "ok",
                }
            )
    rows.append({**rows[0], "rep": 9, "status": "failed: x"})
    s = R.coverage_summary(pd.DataFrame(rows), reps=4).set_index("estimator")
    two = s.loc["two_step"]
    assert two["n_reps"] == 4 and two["coverage_beta"] == pytest.approx(0.5)  # reps 0 and 2 cover 1.0
    assert two["mean_se"] == pytest.approx(0.25) and two["mean_estimate"] == pytest.approx(1.25)
    assert two["sd_estimate"] == pytest.approx(np.std([1.0, 2.0, 1.2, 0.8], ddof=1))
    assert two["bias_vs_beta"] == pytest.approx(0.25)
    assert two["two_step_minus_oracle"] == pytest.approx(0.1)
    assert two["rejection_rate_zero"] == pytest.approx(1.0)  # p = 0, .01, .02, .03 all < .05
    assert two["n_failed"] == 0  # rep 9 failed but lies beyond reps = 4

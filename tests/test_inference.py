"""Tests for intelcap.econometrics.inference: each check compares against an independent computation."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest
from _factories import lnint_design
from scipy import stats

from intelcap.econometrics.absorb import AbsorbedDesign
from intelcap.econometrics.crv1 import ols_crv1
from intelcap.econometrics.fastrefit import FastRefit
from intelcap.econometrics.inference import (
    GroupSample,
    IVSample,
    akm_se,
    ar_confidence_set,
    interacted_difference,
    iv_2sls,
    permutation_difference,
    quadratic_set,
    residualize,
)
from intelcap.econometrics.placebo import placebo_coefficients
from intelcap.econometrics.wild import wild_cluster_bootstrap
from intelcap.errors import EstimationError

pf = pytest.importorskip("pyfixest")
warnings.filterwarnings("ignore", category=UserWarning, module="pyfixest")
TIGHT = pf.MapDemeaner(fixef_tol=1e-13)
RTOL = 1e-8


def panel(nf: int = 120, T: int = 6, n_ind: int = 6, drop: float = 0.0, seed: int = 0) -> pd.DataFrame:
    """Firm x year panel; x = firm constant + industry robot series (lnINT structure) + noise."""
    rng = np.random.default_rng(seed)
    firm, yr, ind, lnint = lnint_design(rng, nf, T, n_ind)
    w = rng.normal(size=(nf * T, 2)) + 0.3 * lnint[:, None]
    z = lnint + 0.5 * rng.normal(size=nf * T)
    y = (
        0.4 * lnint
        + w @ [0.2, -0.1]
        + rng.normal(size=nf)[firm]
        + rng.normal(size=T)[yr]
        + rng.normal(size=nf * T)
    )
    df = pd.DataFrame(
        {
            "y": y,
            "x": lnint + 0.3 * rng.normal(size=nf * T),
            "lnint": lnint,
            "w1": w[:, 0],
            "w2": w[:, 1],
            "z": z,
            "Stkcd": firm + 600000,
            "year": yr + 2011,
            "ind": ind,
        }
    )
    if drop:
        df = df[rng.random(len(df)) > drop].reset_index(drop=True)
    return df


def dummies(codes: np.ndarray, drop_first: bool) -> np.ndarray:
    D = (codes[:, None] == np.unique(codes)[None, :]).astype(float)
    return D[:, 1:] if drop_first else D


def hand_crv1(X: np.ndarray, y: np.ndarray, cl: np.ndarray, K: int) -> tuple[np.ndarray, np.ndarray]:
    """Sandwich with an explicit loop over clusters."""
    bread = np.linalg.inv(X.T @ X)
    b = bread @ X.T @ y
    u = y - X @ b
    meat = np.zeros((X.shape[1], X.shape[1]))
    groups = np.unique(cl)
    for gval in groups:
        s = X[cl == gval].T @ u[cl == gval]
        meat += np.outer(s, s)
    G, N = len(groups), len(y)
    V = G / (G - 1) * (N - 1) / (N - K) * bread @ meat @ bread
    return b, np.sqrt(np.diag(V))


# ---------------------------------------------------------------------------------------------
# 1. CRV1 and the FE degrees of freedom
# ---------------------------------------------------------------------------------------------
def test_ols_crv1_equals_pyfixest_twfe_firm_clusters() -> None:
    df = panel(drop=0.1)
    # pyfixest 0.60 flags nested FE by position in its internally re-ordered FE frame; with
    # "| year + Stkcd" it gets reghdfe's K = k + T (with "| Stkcd + year" it falls to K = k + 1)
    fit = pf.feols("y ~ x + w1 + w2 | year + Stkcd", df, vcov={"CRV1": "Stkcd"}, demeaner=TIGHT)
    T = df.year.nunique()
    assert fit._df_k == 3 + T
    d = AbsorbedDesign(df[["Stkcd", "year"]])
    cl = d.subset(df.Stkcd)
    assert d.dof_fe(cl) == T
    assert AbsorbedDesign(df[["year", "Stkcd"]]).dof_fe(cl) == T  # order-invariant, unlike pyfixest
    res = ols_crv1(d.demean(df.y), d.demean(df[["x", "w1", "w2"]]), cl, d.dof_fe(cl))
    np.testing.assert_allclose(res.beta, fit.coef().to_numpy(), rtol=RTOL)
    np.testing.assert_allclose(res.se, fit.se().to_numpy(), rtol=RTOL)
    beta, V, se, df_resid = res  # unpacks as the documented 4-tuple
    assert df_resid == fit._N - (3 + T) and V.shape == (3, 3)


def test_ols_crv1_equals_hand_sandwich_with_year_dummies() -> None:
    df = panel(drop=0.15, seed=3)
    d = AbsorbedDesign(df[["Stkcd", "year"]], tol=1e-14)
    sub = df[d.keep].reset_index(drop=True)
    firm, yr = sub.Stkcd.to_numpy(), sub.year.to_numpy()

    def within_firm(a: np.ndarray) -> np.ndarray:
        return a - pd.DataFrame(a).groupby(firm).transform("mean").to_numpy()

    X = within_firm(np.column_stack([sub[["x", "w1", "w2"]].to_numpy(), dummies(yr, drop_first=True)]))
    y = within_firm(sub.y.to_numpy()[:, None])[:, 0]
    T = len(np.unique(yr))
    # K = 3 slopes + (T - 1) year dummies + 1 intercept (absorbed by the nested firm FE, still counted)
    b, se = hand_crv1(X, y, firm, K=3 + (T - 1) + 1)
    res = ols_crv1(d.demean(sub.y), d.demean(sub[["x", "w1", "w2"]]), firm, d.dof_fe(firm))
    np.testing.assert_allclose(res.beta, b[:3], rtol=RTOL)
    np.testing.assert_allclose(res.se, se[:3], rtol=RTOL)


def test_singletons_dropped_iteratively() -> None:
    # no singleton in a at first; b drops rows 4 and 7, which makes rows 5 and 6 singletons in a
    fe = pd.DataFrame({"a": [1, 1, 2, 2, 3, 3, 4, 4], "b": [1, 2, 1, 2, 5, 6, 6, 7]})
    d = AbsorbedDesign(fe)
    assert d.keep.tolist() == [True] * 4 + [False] * 4
    assert d.n_levels == [2, 2] and d.n_singletons == 4


def test_fastrefit_equals_full_pyfixest_refits() -> None:
    df = panel(drop=0.1, seed=1)
    d = AbsorbedDesign(df[["Stkcd", "year"]])
    cl = d.subset(df.Stkcd)
    rng = np.random.default_rng(5)
    alts = np.column_stack([df.x, df.x + rng.normal(size=len(df)), rng.normal(size=len(df))])
    fr = FastRefit(d.demean(df[["w1", "w2"]]), cl, d.dof_fe(cl), chunk_mb=0.001)  # forces chunks of 1
    res = fr.fit_many_x(d.demean(df.y), d.demean(alts))
    for r in range(alts.shape[1]):
        dfr = df.assign(xr=alts[:, r])
        fit = pf.feols("y ~ xr + w1 + w2 | year + Stkcd", dfr, vcov={"CRV1": "Stkcd"}, demeaner=TIGHT)
        np.testing.assert_allclose(res.coef[r], fit.coef()["xr"], rtol=RTOL)
        np.testing.assert_allclose(res.se[r], fit.se()["xr"], rtol=RTOL)
    ys = np.column_stack([df.y, df.y * 2 + df.w1])
    res_y = fr.fit_many_y(d.demean(ys), d.demean(df.x))
    fit = pf.feols(
        "yy ~ x + w1 + w2 | year + Stkcd", df.assign(yy=ys[:, 1]), vcov={"CRV1": "Stkcd"}, demeaner=TIGHT
    )
    np.testing.assert_allclose([res_y.coef[1], res_y.se[1]], [fit.coef()["x"], fit.se()["x"]], rtol=RTOL)


# ---------------------------------------------------------------------------------------------
# 2. 2SLS
# ---------------------------------------------------------------------------------------------
def test_iv_2sls_equals_hand_and_pyfixest() -> None:
    df = panel(nf=80, T=5, drop=0.1, seed=2)
    d = AbsorbedDesign(df[["Stkcd", "year"]], tol=1e-14)
    iv = iv_2sls(IVSample(df.y, df.x, df.z, df[["w1"]], d, df.Stkcd))
    sub = df[d.keep]
    D = np.column_stack([dummies(sub.Stkcd.to_numpy(), False), dummies(sub.year.to_numpy(), True)])
    X = np.column_stack([sub.x, sub.w1, D])
    Z = np.column_stack([sub.z, sub.w1, D])
    Xh = Z @ np.linalg.solve(Z.T @ Z, Z.T @ X)
    b_hand = np.linalg.solve(Xh.T @ X, Xh.T @ sub.y.to_numpy())
    np.testing.assert_allclose(iv.beta, b_hand[0], rtol=RTOL)

    fit = pf.feols("y ~ w1 | year + Stkcd | x ~ z", df, vcov={"CRV1": "Stkcd"}, demeaner=TIGHT)
    assert fit._df_k == iv.k
    np.testing.assert_allclose(iv.beta, fit.coef()["x"], rtol=RTOL)
    np.testing.assert_allclose(iv.se, fit.se()["x"], rtol=RTOL)
    fit.first_stage()
    fit.IV_Diag()
    np.testing.assert_allclose(iv.first_stage_F, fit._f_stat_1st_stage, rtol=RTOL)
    np.testing.assert_allclose(iv.effective_F, fit._eff_F, rtol=RTOL)
    # first-stage F = (cluster-robust t of z)^2, from an independent OLS on demeaned data
    cl = d.subset(df.Stkcd)
    fs = ols_crv1(d.demean(df.x), d.demean(df[["z", "w1"]]), cl, d.dof_fe(cl))
    np.testing.assert_allclose(iv.first_stage_F, (fs.beta[0] / fs.se[0]) ** 2, rtol=1e-12)
    np.testing.assert_allclose(iv.effective_F, iv.first_stage_F, rtol=1e-12)  # one instrument


def test_iv_sample_is_just_identified_and_demeaned_once() -> None:
    df = panel(nf=40, T=5, seed=3)
    d = AbsorbedDesign(df[["Stkcd", "year"]])
    with pytest.raises(
        EstimationError, match=r"one instrument, got x_endog of shape \(200,\), z of shape \(200, 2\)"
    ):
        IVSample(df.y, df.x, df[["z", "w2"]], df[["w1"]], d, df.Stkcd)
    shared = IVSample(df.y, df.x, df.z, df[["w1"]], d, df.Stkcd)
    iv_2sls(shared)
    assert shared.demeaned is shared.demeaned
    # the AR set from the sample the 2SLS already demeaned equals the one from a fresh sample, to the bit
    fresh = ar_confidence_set(IVSample(df.y, df.x, df.z, df[["w1"]], d, df.Stkcd))
    again = ar_confidence_set(shared)
    assert (again.intervals, again.stat_at_zero) == (fresh.intervals, fresh.stat_at_zero)


# ---------------------------------------------------------------------------------------------
# 3. Anderson-Rubin
# ---------------------------------------------------------------------------------------------
def _ar_by_regression(df: pd.DataFrame, d: AbsorbedDesign, b0: float, z: str) -> float:
    cl = d.subset(df.Stkcd)
    r = ols_crv1(d.demean(df.y - b0 * df.x), d.demean(df[[z, "w1"]]), cl, d.dof_fe(cl))
    return float((r.beta[0] / r.se[0]) ** 2)


def test_ar_set_strong_instrument_bounded_and_matches_grid() -> None:
    df = panel(nf=150, T=6, seed=4)
    d = AbsorbedDesign(df[["Stkcd", "year"]])
    ar = ar_confidence_set(IVSample(df.y, df.x, df.z, df[["w1"]], d, df.Stkcd))
    assert ar.kind == "bounded" and ar.contains(0.4)
    for b0 in (0.0, 0.4, 1.3):  # closed form equals re-running the regression of y - b0 x on z
        np.testing.assert_allclose(ar.stat(b0), _ar_by_regression(df, d, b0, "z"), rtol=1e-9)
    np.testing.assert_allclose(ar.stat_at_zero, _ar_by_regression(df, d, 0.0, "z"), rtol=1e-9)
    assert ar.p_at_zero == pytest.approx(stats.chi2.sf(ar.stat_at_zero, 1))
    grid = np.linspace(-2, 3, 20001)
    inside = ar.stat(grid) <= ar.crit
    lo, hi = ar.intervals[0]
    assert inside[(grid > lo + 1e-6) & (grid < hi - 1e-6)].all()
    assert not inside[(grid < lo - 1e-6) | (grid > hi + 1e-6)].any()


def test_ar_set_irrelevant_instrument_is_unbounded() -> None:
    df = panel(nf=150, T=6, seed=4)
    df["zz"] = np.random.default_rng(9).normal(size=len(df))
    d = AbsorbedDesign(df[["Stkcd", "year"]])
    ar = ar_confidence_set(IVSample(df.y, df.x, df.zz, df[["w1"]], d, df.Stkcd))
    assert ar.kind in ("real_line", "union_of_rays")
    assert any(np.isinf(hi) for _, hi in ar.intervals)
    grid = np.linspace(-50, 50, 4001)
    inside = ar.stat(grid) <= ar.crit
    in_set = np.array([ar.contains(g) for g in grid])
    edge = np.array(
        [
            min(abs(g - e) for iv in ar.intervals for e in iv if np.isfinite(e))
            if ar.kind != "real_line"
            else 1.0
            for g in grid
        ]
    )
    assert (inside == in_set)[edge > 1e-6].all()


def test_quadratic_set_cases() -> None:
    assert quadratic_set(1.0, 0.0, -4.0) == ([(-2.0, 2.0)], "bounded")
    assert quadratic_set(-1.0, 0.0, 4.0) == ([(-np.inf, -2.0), (2.0, np.inf)], "union_of_rays")
    assert quadratic_set(-1.0, 0.0, -4.0) == ([(-np.inf, np.inf)], "real_line")
    assert quadratic_set(1.0, 0.0, 4.0) == ([], "empty")


# ---------------------------------------------------------------------------------------------
# 4. wild cluster bootstrap
# ---------------------------------------------------------------------------------------------
def _brute_force_tstar(
    df: pd.DataFrame, keep: np.ndarray, cl_col: str, V: np.ndarray, h0: float
) -> np.ndarray:
    """Re-estimate the full dummy-variable regression for every weight vector."""
    sub = df[keep]
    D = np.column_stack([dummies(sub.Stkcd.to_numpy(), False), dummies(sub.year.to_numpy(), True)])
    X = np.column_stack([sub.x, sub.w1, sub.w2, D])
    y = sub.y.to_numpy()
    cl = pd.factorize(sub[cl_col])[0]
    R = X[:, 1:]
    gam = np.linalg.lstsq(R, y - h0 * sub.x.to_numpy(), rcond=None)[0]
    fitted_r = h0 * sub.x.to_numpy() + R @ gam
    u_r = y - fitted_r
    K = 3 + sub.year.nunique() if cl_col == "Stkcd" else None
    out = np.empty(V.shape[1])
    for b in range(V.shape[1]):
        ystar = fitted_r + V[cl, b] * u_r
        bs, se = hand_crv1(X, ystar, cl, K=K if K else 3 + _dof(sub, cl_col))
        out[b] = (bs[0] - h0) / se[0]
    return out


def _dof(sub: pd.DataFrame, cl_col: str) -> int:
    d = AbsorbedDesign(sub[["Stkcd", "year"]], drop_singletons=False)
    return d.dof_fe(sub[cl_col])


def test_wild_bootstrap_equals_brute_force_industry_clusters_enumerated() -> None:
    df = panel(nf=40, T=5, n_ind=6, drop=0.1, seed=6)
    d = AbsorbedDesign(df[["Stkcd", "year"]], tol=1e-14)
    res = wild_cluster_bootstrap(df.y, df.x, df[["w1", "w2"]], d, df.ind, h0=0.3, B=999, seed=1)
    assert res.enumerated and res.n_boot == 2**6
    # year FE are not nested in industry clusters: this exercises the re-demeaned bootstrap DGP
    tb = _brute_force_tstar(df, d.keep, "ind", res.weights, 0.3)
    np.testing.assert_allclose(res.t_boot, tb, rtol=1e-10, atol=1e-10)
    ones = np.all(res.weights == 1, axis=0)
    assert res.t_boot[ones][0] == pytest.approx(res.t_stat, rel=1e-10)  # v = 1 reproduces the data
    assert res.p_value == pytest.approx(np.mean(np.abs(tb) >= abs(res.t_stat) * (1 - 1e-12)))


def test_wild_bootstrap_equals_brute_force_firm_clusters_webb() -> None:
    df = panel(nf=30, T=4, drop=0.0, seed=7)
    d = AbsorbedDesign(df[["Stkcd", "year"]], tol=1e-14)
    res = wild_cluster_bootstrap(df.y, df.x, df[["w1", "w2"]], d, df.Stkcd, B=40, weights="webb", seed=3)
    assert not res.enumerated and res.weights.shape == (30, 40)
    tb = _brute_force_tstar(df, d.keep, "Stkcd", res.weights, 0.0)
    np.testing.assert_allclose(res.t_boot, tb, rtol=1e-10, atol=1e-10)


def test_wild_bootstrap_ci_inverts_the_test() -> None:
    df = panel(nf=60, T=5, n_ind=8, seed=8)
    d = AbsorbedDesign(df[["Stkcd", "year"]])
    res = wild_cluster_bootstrap(df.y, df.x, df[["w1", "w2"]], d, df.ind, B=999, seed=1, ci=True)
    lo, hi = res.ci
    assert lo < res.coef < hi
    for bound, sign in ((lo, -1), (hi, 1)):
        eps = 1e-6 * max(1.0, abs(bound))
        p_in = wild_cluster_bootstrap(
            df.y, df.x, df[["w1", "w2"]], d, df.ind, h0=bound - sign * eps, B=999
        ).p_value
        p_out = wild_cluster_bootstrap(
            df.y, df.x, df[["w1", "w2"]], d, df.ind, h0=bound + sign * eps, B=999
        ).p_value
        assert p_in > 0.05 >= p_out


def test_wild_bootstrap_matches_wildboottest_package() -> None:
    wbt = pytest.importorskip("wildboottest.wildboottest")
    sm = pytest.importorskip("statsmodels.api")
    df = panel(nf=60, T=3, n_ind=8, seed=10)
    X = sm.add_constant(df[["x", "w1"]])
    model = sm.OLS(df.y, X)
    pv = wbt.wildboottest(
        model, param="x", cluster=df.ind, B=9999, weights_type="rademacher", seed=1, show=False
    )
    ours = wild_cluster_bootstrap(df.y, df.x, df[["w1"]], AbsorbedDesign(None), df.ind, B=9999)
    p_theirs = float(np.asarray(pv["p-value"]).ravel()[0])
    assert abs(ours.p_value - p_theirs) < 0.02


# ---------------------------------------------------------------------------------------------
# 5. AKM shift-share SE
# ---------------------------------------------------------------------------------------------
def test_akm_equals_hand_loops_tiny_example() -> None:
    rng = np.random.default_rng(11)
    n, S = 12, 4
    shares = rng.dirichlet(np.ones(S), size=n)
    shocks = rng.normal(size=S)
    x = shares @ shocks
    y = 0.7 * x + rng.normal(size=n)
    Y, X = y - y.mean(), x - x.mean()  # controls = intercept
    res = akm_se(Y, X, shares, beta0=0.5)
    beta = sum(X[i] * Y[i] for i in range(n)) / sum(X[i] ** 2 for i in range(n))
    u = [Y[i] - beta * X[i] for i in range(n)]
    hX = np.linalg.solve(shares.T @ shares, shares.T @ X)
    tot = tot0 = 0.0
    for s in range(S):
        R = sum(shares[i, s] * u[i] for i in range(n))
        R0 = sum(shares[i, s] * (Y[i] - 0.5 * X[i]) for i in range(n))
        tot += (hX[s] * R) ** 2
        tot0 += (hX[s] * R0) ** 2
    RX = sum(X[i] ** 2 for i in range(n))
    assert res.beta == pytest.approx(beta, rel=1e-12)
    assert res.se_akm == pytest.approx(np.sqrt(tot) / RX, rel=1e-12)
    assert res.se_akm0 == pytest.approx(np.sqrt(tot0) / RX, rel=1e-12)
    # AKM0 interval endpoints solve (beta-b)^2 RX^2 = z^2 * se_AKM0(b)^2 RX^2
    z = stats.norm.ppf(0.975)
    for b in [e for iv in res.ci_akm0 for e in iv if np.isfinite(e)]:
        r0 = akm_se(Y, X, shares, beta0=b)
        assert abs(beta - b) / r0.se_akm0 == pytest.approx(z, rel=1e-8)


def test_akm_equals_shock_clustering_and_bhj_with_01_shares() -> None:
    df = panel(nf=90, T=5, n_ind=6, seed=12)  # balanced, x = firm const + industry x year series
    d = AbsorbedDesign(df[["Stkcd", "year"]])
    Y, X = residualize(d, None, df.y, df.lnint)
    cell = (df.ind * 100 + df.year).to_numpy()
    res = akm_se(Y, X, cell)
    # residualised regressor is constant within industry x year cells here
    assert pd.Series(X).groupby(cell).std().max() < 1e-10
    u = Y - res.beta * X
    crv0 = np.sqrt((pd.Series(X * u).groupby(cell).sum() ** 2).sum()) / (X @ X)
    assert res.se_akm == pytest.approx(crv0, rel=1e-10)
    # BHJ: shock-level WLS of exposure-weighted outcome on the shock regressor, weights n_s, HC0
    g = pd.DataFrame({"Y": Y, "X": X, "c": cell}).groupby("c")
    n_s, Ybar, Xs = g.size().to_numpy(), g.Y.mean().to_numpy(), g.X.mean().to_numpy()
    b_bhj = (n_s * Xs * Ybar).sum() / (n_s * Xs**2).sum()
    e = Ybar - b_bhj * Xs
    se_bhj = np.sqrt((n_s**2 * Xs**2 * e**2).sum()) / (n_s * Xs**2).sum()
    assert res.beta == pytest.approx(b_bhj, rel=1e-10)
    assert res.se_akm == pytest.approx(se_bhj, rel=1e-10)


# ---------------------------------------------------------------------------------------------
# 6. group differences
# ---------------------------------------------------------------------------------------------
def test_interacted_difference_equals_separate_regressions() -> None:
    df = panel(nf=100, T=6, drop=0.1, seed=13)
    df["G"] = (df.Stkcd % 3 == 0).astype(int)
    res = interacted_difference(GroupSample(df.y, df.x, df[["w1", "w2"]], df.Stkcd, df.year, df.G))
    b = [
        pf.feols("y ~ x + w1 + w2 | year + Stkcd", df[df.G == k], demeaner=TIGHT).coef()["x"] for k in (0, 1)
    ]
    np.testing.assert_allclose(res.delta, b[1] - b[0], rtol=1e-8)
    np.testing.assert_allclose([res.beta_g0, res.beta_g1], b, rtol=1e-8)
    assert res.se > 0 and 0 <= res.p <= 1


def _null_dataset(seed: int, diff: float = 0.0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    nf, T = 40, 4
    firm, yr = np.repeat(np.arange(nf), T), np.tile(np.arange(T), nf)
    G = (rng.permutation(nf) < nf // 2).astype(int)[firm]
    x = rng.normal(size=nf * T) + rng.normal(size=nf)[firm]
    y = (0.3 + diff * G) * x + rng.normal(size=nf)[firm] + rng.normal(size=nf * T)
    return pd.DataFrame({"y": y, "x": x, "w": rng.normal(size=nf * T), "f": firm, "t": yr, "G": G})


def test_permutation_difference_uniform_under_null_and_powerful() -> None:
    ps = []
    for s in range(40):
        df = _null_dataset(s)
        r = permutation_difference(GroupSample(df.y, df.x, df[["w"]], df.f, df.t, df.G), K=99, seed=s)
        ps.append(r.p_two_sided)
    ps = np.array(ps)
    assert 0.35 <= ps.mean() <= 0.65
    assert stats.kstest(ps, "uniform").pvalue > 0.01
    df = _null_dataset(99, diff=1.0)
    sample = GroupSample(df.y, df.x, df[["w"]], df.f, df.t, df.G)
    r = permutation_difference(sample, K=99, seed=1)
    assert r.p_two_sided < 0.05 and r.p_one_sided < 0.05 and r.d_hat > 0
    direct = interacted_difference(sample)
    assert r.d_hat == pytest.approx(direct.delta, rel=1e-8)


def test_group_sample_needs_exactly_two_groups() -> None:
    df = _null_dataset(1)
    sample = GroupSample(df.y, df.x, None, df.f, df.t, df.f % 3)
    with pytest.raises(EstimationError, match="exactly 2 values, found 3"):
        interacted_difference(sample)
    with pytest.raises(EstimationError, match="exactly 2 values, found 3"):
        permutation_difference(sample, K=9)


@pytest.mark.parametrize("level", ["firm", "obs"])
def test_permutation_draws_equal_full_pyfixest_refits(level: str) -> None:
    """Each permuted difference is two firm + year FE regressions on the permuted subsamples: recompute
    the first draws with pyfixest on each subsample (unbalanced panel, a control with a large mean)."""
    rng = np.random.default_rng(5)
    df = _null_dataset(7, diff=0.4).sample(frac=0.85, random_state=3).sort_values(["f", "t"])
    df["w"] += 50.0
    df = df[df.groupby("f")["t"].transform("size") > 1].reset_index(drop=True)
    G = df.G.to_numpy() if level == "firm" else rng.integers(0, 2, len(df))
    K, seed = 6, 11
    res = permutation_difference(
        GroupSample(df.y, df.x, df[["w"]], df.f, df.t, G), K=K, seed=seed, level=level, batch=4
    )
    draw_rng = np.random.default_rng(seed)
    firm_codes = pd.factorize(df.f, sort=True)[0]
    gf = np.zeros(firm_codes.max() + 1)
    gf[firm_codes] = G
    for k in range(K):
        gp = draw_rng.permutation(gf)[firm_codes] if level == "firm" else draw_rng.permutation(G)
        b = [pf.feols("y ~ x + w | f + t", data=df[gp == v], vcov="iid").coef()["x"] for v in (0, 1)]
        assert res.d_perm[k] == pytest.approx(b[1] - b[0], abs=1e-8)
    b_obs = [pf.feols("y ~ x + w | f + t", data=df[G == v], vcov="iid").coef()["x"] for v in (0, 1)]
    assert (res.beta_g0, res.beta_g1) == pytest.approx(tuple(b_obs), abs=1e-8)


# ---------------------------------------------------------------------------------------------
# 7. placebo
# ---------------------------------------------------------------------------------------------
@pytest.mark.parametrize("how", ["firm", "industry"])
def test_placebo_refits_equal_full_pyfixest(how: str) -> None:
    df = panel(nf=80, T=5, n_ind=6, drop=0.1, seed=14)
    d = AbsorbedDesign(df[["Stkcd", "year"]])
    res = placebo_coefficients(
        df.y,
        df.lnint,
        df[["w1", "w2"]],
        d,
        df.Stkcd,
        how,
        K=25,
        seed=2,
        firm_ids=df.Stkcd,
        industry_ids=df.ind,
        year_ids=df.year,
        chunk=7,
        keep_draws=3,
    )
    assert res.coefs.shape == (25,) and np.isfinite(res.ses).all()
    sub = df[d.keep].reset_index(drop=True)
    for r in range(3):
        xr = res.x_draws[:, r]
        # the draw is an industry x year series plus a firm constant: differences within firm match
        # some industry's series
        fit = pf.feols(
            "y ~ xr + w1 + w2 | year + Stkcd", sub.assign(xr=xr), vcov={"CRV1": "Stkcd"}, demeaner=TIGHT
        )
        np.testing.assert_allclose(res.coefs[r], fit.coef()["xr"], rtol=RTOL)
        np.testing.assert_allclose(res.ses[r], fit.se()["xr"], rtol=RTOL)
    assert abs(res.coefs.mean()) < abs(res.coef_observed)


def test_placebo_industry_requires_shift_share_structure() -> None:
    df = panel(nf=40, T=4, seed=15)
    d = AbsorbedDesign(df[["Stkcd", "year"]])
    with pytest.raises(EstimationError):
        placebo_coefficients(
            df.y,
            df.x,
            None,
            d,
            df.Stkcd,
            "industry",
            K=3,
            seed=1,
            firm_ids=df.Stkcd,
            industry_ids=df.ind,
            year_ids=df.year,
        )

"""Tests for intelcap.measures.cu: frontier likelihoods, gradients, parameter recovery, predictors, panel interface."""

from __future__ import annotations

import json
import math

import numpy as np
import pandas as pd
import pytest
from scipy import integrate, stats

from intelcap.errors import EstimationError, InputError
from intelcap.measures import cu

BETA = np.array([1.0, 0.35, 0.55])


# ----------------------------------------------------------------------------------------------------------
# Simulators
# ----------------------------------------------------------------------------------------------------------
def simulate_bc92(nf=800, T=9, seed=1, su=0.3, sv=0.1, eta=0.05, drop=0.15):
    """800 firms x 9 years, ~15% of firm-years dropped at random (unbalanced, with gaps)."""
    rng = np.random.default_rng(seed)
    firm = np.repeat(np.arange(nf), T)
    t = np.tile(np.arange(2011, 2011 + T), nf).astype(float)
    keep = rng.random(nf * T) > drop
    firm, t = firm[keep], t[keep]
    n = len(firm)
    t_last = np.full(nf, -np.inf)
    np.maximum.at(t_last, firm, t)
    u_i = np.abs(rng.normal(0.0, su, nf))
    u = np.exp(-eta * (t - t_last[firm])) * u_i[firm]
    lnk = rng.normal(5.0, 1.5, n)
    lnl = 0.5 * lnk + rng.normal(0.5, 0.8, n)
    X = np.column_stack([np.ones(n), lnk, lnl])
    y = X @ BETA + rng.normal(0.0, sv, n) - u
    return y, X, firm, t, np.exp(-u)


def simulate_bc95(n=5000, seed=0, delta=(0.2, -0.5), su=0.25, sv=0.1):
    rng = np.random.default_rng(seed)
    lnk = rng.normal(5.0, 1.5, n)
    lnl = 0.5 * lnk + rng.normal(0.5, 0.8, n)
    X = np.column_stack([np.ones(n), lnk, lnl])
    Z = np.column_stack([np.ones(n), rng.normal(0.0, 1.0, n)])
    m = Z @ np.asarray(delta)
    u = stats.truncnorm.rvs(-m / su, np.inf, loc=m, scale=su, random_state=rng)
    y = X @ BETA + rng.normal(0.0, sv, n) - u
    return y, X, Z, np.exp(-u)


def make_panel(nf=120, T=9, seed=3, skew_sign=-1.0):
    """Raw-unit panel as estimate_cu receives it (Stkcd, year, industry, Y, K, L)."""
    rng = np.random.default_rng(seed)
    firm = np.repeat(np.arange(nf), T)
    year = np.tile(np.arange(2011, 2011 + T), nf)
    keep = rng.random(nf * T) > 0.1
    firm, year = firm[keep], year[keep]
    n = len(firm)
    ind = np.array(["C26", "C39", "C35", "C13"])[rng.integers(0, 4, nf)][firm]
    lnk = rng.normal(19.0, 1.3, n)
    lnl = 0.5 * lnk - 2.0 + rng.normal(0.0, 0.7, n)
    u = np.abs(rng.normal(0.0, 0.35, nf))[firm]
    lny = 3.0 + 0.4 * lnk + 0.6 * lnl + 0.02 * (year - 2011) + rng.normal(0.0, 0.15, n) + skew_sign * u
    return pd.DataFrame(
        {
            "Stkcd": [f"{600000 + i:06d}" for i in firm],
            "year": year,
            "industry": ind,
            "Y": np.exp(lny),
            "K": np.exp(lnk),
            "L": np.round(np.exp(lnl)) + 1.0,
        }
    )


@pytest.fixture(scope="module")
def bc92_data():
    return simulate_bc92()


@pytest.fixture(scope="module")
def bc92_fit(bc92_data):
    y, X, firm, t, _ = bc92_data
    return cu.fit_sfa_bc92(y, X, firm, t)


# ----------------------------------------------------------------------------------------------------------
# Hand formulas, written independently of the module (BC92 paper notation: sigma_S^2 and gamma)
# ----------------------------------------------------------------------------------------------------------
def bc92_loglik_loop(theta, y, X, firm, t, mu_flag):
    k = X.shape[1]
    beta = theta[:k]
    su2, sv2 = math.exp(2 * theta[k]), math.exp(2 * theta[k + 1])
    eta = theta[k + 2]
    mu = theta[k + 3] if mu_flag else 0.0
    s2 = su2 + sv2
    gam = su2 / s2
    total = 0.0
    for f in np.unique(firm):
        idx = firm == f
        e = y[idx] - X[idx] @ beta
        tt = t[idx]
        g = np.exp(-eta * (tt - tt.max()))
        T = len(e)
        den = 1.0 + (g @ g - 1.0) * gam
        mstar = (mu * (1 - gam) - gam * (g @ e)) / den
        s2star = gam * (1 - gam) * s2 / den
        z = mu / math.sqrt(gam * s2)
        total += (
            -0.5 * T * (math.log(2 * math.pi) + math.log(s2))
            - 0.5 * (T - 1) * math.log(1 - gam)
            - 0.5 * math.log(den)
            - math.log(1 - stats.norm.cdf(-z))
            + math.log(1 - stats.norm.cdf(-mstar / math.sqrt(s2star)))
            - 0.5 * (e @ e) / ((1 - gam) * s2)
            + 0.5 * mstar**2 / s2star
            - 0.5 * z**2
        )
    return total


def als_loglik(y, X, beta, su, sv):
    """Aigner-Lovell-Schmidt (1977) half-normal cross-section log-likelihood."""
    e = y - X @ beta
    sig = math.hypot(su, sv)
    lam = su / sv
    return float(
        np.sum(
            0.5 * math.log(2 / math.pi)
            - math.log(sig)
            + stats.norm.logcdf(-e * lam / sig)
            - e**2 / (2 * sig**2)
        )
    )


def central_diff(f, theta, rel=1e-6):
    g = np.empty_like(theta)
    for j in range(theta.size):
        h = rel * max(1.0, abs(theta[j]))
        tp, tm = theta.copy(), theta.copy()
        tp[j] += h
        tm[j] -= h
        g[j] = (f(tp) - f(tm)) / (2 * h)
    return g


# ----------------------------------------------------------------------------------------------------------
# Likelihood and gradient
# ----------------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("mu_flag", [False, True])
def test_bc92_loglik_equals_per_firm_loop(mu_flag):
    y, X, firm, t, _ = simulate_bc92(nf=60, seed=7)
    rng = np.random.default_rng(11)
    # Rows shuffled: the vectorized version must not depend on input order.
    perm = rng.permutation(len(y))
    theta = np.r_[0.9, 0.33, 0.57, math.log(0.27), math.log(0.12), 0.04]
    if mu_flag:
        theta = np.r_[theta, 0.15]
    ll_vec = cu.bc92_loglik(theta, y[perm], X[perm], firm[perm], t[perm], mu=mu_flag)
    ll_loop = bc92_loglik_loop(np.asarray(theta), y, X, firm, t, mu_flag)
    assert ll_vec == pytest.approx(ll_loop, rel=1e-12, abs=1e-9)


@pytest.mark.parametrize("mu_flag", [False, True])
def test_bc92_analytic_gradient_matches_finite_differences(mu_flag):
    y, X, firm, t, _ = simulate_bc92(nf=100, seed=5)
    rng = np.random.default_rng(2)
    theta = np.r_[BETA + rng.normal(0, 0.05, 3), math.log(0.25), math.log(0.13), 0.07]
    if mu_flag:
        theta = np.r_[theta, -0.1]
    _, g = cu.bc92_loglik(theta, y, X, firm, t, mu=mu_flag, grad=True)
    fd = central_diff(lambda th: cu.bc92_loglik(th, y, X, firm, t, mu=mu_flag), theta)
    np.testing.assert_allclose(g, fd, rtol=1e-5, atol=1e-5 * np.max(np.abs(fd)))


def test_bc92_one_period_collapses_to_als():
    rng = np.random.default_rng(4)
    n = 400
    X = np.column_stack([np.ones(n), rng.normal(0, 1, n)])
    y = X @ np.array([1.0, 0.5]) + rng.normal(0, 0.2, n) - np.abs(rng.normal(0, 0.4, n))
    firm = np.arange(n)  # one period per firm
    t = np.full(n, 2015.0)
    beta, su, sv = np.array([1.1, 0.45]), 0.35, 0.22
    ll = cu.bc92_loglik(np.r_[beta, math.log(su), math.log(sv), 0.0], y, X, firm, t)
    assert ll == pytest.approx(als_loglik(y, X, beta, su, sv), rel=1e-12, abs=1e-9)


def test_bc95_loglik_and_gradient():
    y, X, Z, _ = simulate_bc95(n=600, seed=9)
    theta = np.r_[0.95, 0.36, 0.53, 0.1, -0.4, math.log(0.3), math.log(0.12)]
    ll, g = cu.bc95_loglik(theta, y, X, Z, grad=True)
    # Hand formula: Stevenson / BC95 per-observation density with truncation point z'delta.
    e = y - X @ theta[:3]
    m = Z @ theta[3:5]
    su, sv = math.exp(theta[5]), math.exp(theta[6])
    s = math.hypot(su, sv)
    mstar = (m * sv**2 - su**2 * e) / s**2
    sstar = su * sv / s
    hand = np.sum(
        stats.norm.logpdf((e + m) / s)
        - math.log(s)
        + stats.norm.logcdf(mstar / sstar)
        - stats.norm.logcdf(m / su)
    )
    assert ll == pytest.approx(hand, rel=1e-12, abs=1e-9)
    fd = central_diff(lambda th: cu.bc95_loglik(th, y, X, Z), theta)
    np.testing.assert_allclose(g, fd, rtol=1e-5, atol=1e-5 * np.max(np.abs(fd)))


# ----------------------------------------------------------------------------------------------------------
# Estimation
# ----------------------------------------------------------------------------------------------------------
def test_bc92_recovers_planted_parameters(bc92_fit, bc92_data):
    r = bc92_fit
    te = bc92_data[4]
    assert r.converged
    assert r.n_obs == len(te) and r.n_firms == 800
    assert abs(r.beta[1] - 0.35) < 0.03
    assert abs(r.beta[2] - 0.55) < 0.03
    assert abs(r.sigma_u / 0.3 - 1) < 0.15
    assert abs(r.sigma_v / 0.1 - 1) < 0.15
    assert abs(r.eta - 0.05) < 0.03
    # The period predictor only sees one residual (sigma_u/sigma_v = 3), so ~0.91 is its ceiling here.
    assert np.corrcoef(te, r.cu_period)[0, 1] > 0.9
    assert np.corrcoef(te, r.cu_panel)[0, 1] > 0.95
    # Standard errors exist and are small relative to the estimates.
    assert 0 < r.se["x1"] < 0.01 and 0 < r.se["sigma_u"] < 0.03 and 0 < r.se["eta"] < 0.01


def test_bc92_mle_is_a_maximum(bc92_fit, bc92_data):
    y, X, firm, t, _ = bc92_data
    r = bc92_fit
    theta = np.r_[r.beta, math.log(r.sigma_u), math.log(r.sigma_v), r.eta]
    ll, g = cu.bc92_loglik(theta, y, X, firm, t, grad=True)
    assert ll == pytest.approx(r.loglik, abs=1e-8)
    assert np.max(np.abs(g)) < 1e-2  # score of the summed log-likelihood (n ~ 6000) at the optimum
    rng = np.random.default_rng(0)
    for _ in range(5):
        assert cu.bc92_loglik(theta + rng.normal(0, 1e-3, theta.size), y, X, firm, t) < ll


def test_bc92_truncated_normal_nests_half_normal(bc92_fit, bc92_data):
    y, X, firm, t, _ = bc92_data
    r_mu = cu.fit_sfa_bc92(y, X, firm, t, mu=True, compute_se=False)
    assert r_mu.converged
    assert r_mu.loglik >= bc92_fit.loglik - 1e-6
    assert abs(r_mu.beta[1] - 0.35) < 0.03


def test_predictors_in_unit_interval_and_match_quadrature(bc92_fit, bc92_data):
    r = bc92_fit
    _, _, firm, t, _ = bc92_data
    for p in (r.cu_period, r.cu_panel):
        assert np.all(p > 0) and np.all(p <= 1)
    su, sv, eta = r.sigma_u, r.sigma_v, r.eta
    t_last = pd.Series(t).groupby(firm).transform("max").to_numpy()
    g = np.exp(-eta * (t - t_last))
    e = r.residuals
    for i in (0, 17, 1234):
        # (a) marginal law u_it ~ N+(0, (g su)^2), one residual.
        s_it = g[i] * su
        post = lambda u, i=i, s_it=s_it: stats.norm.pdf((e[i] + u) / sv) * stats.norm.pdf(u / s_it)  # noqa: E731
        num = integrate.quad(lambda u, post=post: np.exp(-u) * post(u), 0, np.inf, epsabs=0, epsrel=1e-11)[0]
        den = integrate.quad(post, 0, np.inf, epsabs=0, epsrel=1e-11)[0]
        assert r.cu_period[i] == pytest.approx(num / den, rel=1e-7)
        # (b) u_i given the firm's whole residual vector; u_it = g_it u_i.
        idx = np.flatnonzero(firm == firm[i])

        def post_i(u, idx=idx):
            return np.exp(-0.5 * np.sum((e[idx] + g[idx] * u) ** 2) / sv**2 - 0.5 * u**2 / su**2)

        num = integrate.quad(
            lambda u, gi=g[i]: np.exp(-gi * u) * post_i(u), 0, np.inf, epsabs=0, epsrel=1e-11
        )[0]
        den = integrate.quad(post_i, 0, np.inf, epsabs=0, epsrel=1e-11)[0]
        assert r.cu_panel[i] == pytest.approx(num / den, rel=1e-7)


def test_bc95_recovers_planted_delta():
    y, X, Z, te = simulate_bc95()
    r = cu.fit_sfa_bc95(y, X, Z)
    assert r.converged
    np.testing.assert_allclose(r.delta, [0.2, -0.5], atol=0.05)
    np.testing.assert_allclose(r.beta[1:], [0.35, 0.55], atol=0.03)
    assert abs(r.sigma_u / 0.25 - 1) < 0.15 and abs(r.sigma_v / 0.1 - 1) < 0.15
    assert np.all(r.cu > 0) and np.all(r.cu <= 1)
    assert np.corrcoef(te, r.cu)[0, 1] > 0.9


def test_wrong_skew_raises_or_returns_cu_one():
    y, X, firm, t, _ = simulate_bc92(nf=200, seed=2)
    # Flip the one-sided term: y = x'b + v + u has positive skew, the frontier model does not fit.
    y_wrong = 2 * (X @ BETA) - y
    with pytest.raises(EstimationError, match="positively skewed"):
        cu.fit_sfa_bc92(y_wrong, X, firm, t)
    with pytest.warns(RuntimeWarning, match="positively skewed"):
        r = cu.fit_sfa_bc92(y_wrong, X, firm, t, on_wrong_skew="zero")
    assert r.wrong_skew and r.sigma_u == 0.0 and r.ols_skewness > 0
    assert np.all(r.cu_period == 1.0) and np.all(r.cu_panel == 1.0)


# ----------------------------------------------------------------------------------------------------------
# COLS and the panel interface
# ----------------------------------------------------------------------------------------------------------
def test_cols_tiny_example():
    # OLS of y on (1, x): slope 0.8, intercept 0.3, residuals (-0.3, 0.9, -0.9, 0.3).
    X = np.column_stack([np.ones(4), [0.0, 1.0, 2.0, 3.0]])
    y = np.array([0.0, 2.0, 1.0, 3.0])
    r = cu.fit_cols(y, X)
    np.testing.assert_allclose(r.beta, [0.3, 0.8], atol=1e-12)
    np.testing.assert_allclose(r.u, [1.2, 0.0, 1.8, 0.6], atol=1e-12)
    np.testing.assert_allclose(r.cu, np.exp([-1.2, 0.0, -1.8, -0.6]), rtol=1e-12)
    rg = cu.fit_cols(y, X, group=np.array([2011, 2011, 2012, 2012]))
    np.testing.assert_allclose(rg.u, [1.2, 0.0, 1.2, 0.0], atol=1e-12)


def test_design_matrix_translog():
    p = pd.DataFrame(
        {
            "year": [2013, 2011, 2012, 2011],
            "industry": ["C39", "C26", "C39", "C39"],
            "K": [10.0, 20.0, 30.0, 40.0],
            "L": [5.0, 6.0, 7.0, 8.0],
        }
    )
    X, names = cu.design_matrix(p, "translog")
    assert names == [
        "const",
        "lnK",
        "lnL",
        "half_lnK2",
        "half_lnL2",
        "lnK_lnL",
        "year_2012",
        "year_2013",
        "ind_C39",
    ]
    lnk, lnl = np.log(p["K"].to_numpy()), np.log(p["L"].to_numpy())
    np.testing.assert_array_equal(X[:, 3], 0.5 * lnk * lnk)
    np.testing.assert_array_equal(X[:, 5], lnk * lnl)
    np.testing.assert_array_equal(X[:, 6:], [[0, 1, 1], [0, 0, 0], [1, 0, 1], [0, 0, 1]])
    Xc, names_c = cu.design_matrix(p, "cobb_douglas", industry_col=None)
    assert names_c == ["const", "lnK", "lnL", "year_2012", "year_2013"] and Xc.shape == (4, 5)


def test_estimate_cu_sfa_frame_and_diagnostics():
    panel = make_panel()
    out, diag = cu.estimate_cu(panel, "sfa_bc92")
    assert list(out.columns) == ["Stkcd", "year", "CU", "lnCU"]
    assert len(out) == len(panel)
    keys = list(zip(out["Stkcd"], out["year"], strict=True))
    assert keys == sorted(keys)
    assert np.all(out["CU"] > 0) and np.all(out["CU"] <= 1)
    np.testing.assert_array_equal(out["lnCU"], np.log(out["CU"]))
    json.dumps(diag, allow_nan=False)
    assert diag["converged"] and diag["n_obs"] == len(panel) and diag["n_firms"] == 120
    assert abs(diag["params"]["lnK"] - 0.4) < 0.05 and abs(diag["params"]["lnL"] - 0.6) < 0.05
    assert abs(diag["sigma_u"] / 0.35 - 1) < 0.25
    # Deterministic and independent of the input row order.
    shuffled = panel.sample(frac=1.0, random_state=1).reset_index(drop=True)
    out2, diag2 = cu.estimate_cu(shuffled, "sfa_bc92")
    pd.testing.assert_frame_equal(out, out2, check_exact=False, rtol=1e-9)
    assert diag2["params"]["lnK"] == pytest.approx(diag["params"]["lnK"], abs=1e-7)
    out3, _ = cu.estimate_cu(panel, "sfa_bc92")
    pd.testing.assert_frame_equal(out, out3, check_exact=True)
    # Panel predictor and translog variant run and stay in (0, 1].
    out_p, _ = cu.estimate_cu(panel, "sfa_bc92", predictor="panel")
    out_t, diag_t = cu.estimate_cu(panel, "sfa_translog")
    for o in (out_p, out_t):
        assert np.all(o["CU"] > 0) and np.all(o["CU"] <= 1)
    assert "half_lnK2" in diag_t["params"] and diag_t["form"] == "translog"


def test_estimate_cu_fa_turnover_and_cols():
    panel = make_panel(nf=40)
    out, diag = cu.estimate_cu(panel, "fa_turnover")
    ref = panel.sort_values(["Stkcd", "year"]).reset_index(drop=True)
    np.testing.assert_array_equal(out["lnCU"].to_numpy(), np.log(ref["Y"].to_numpy() / ref["K"].to_numpy()))
    np.testing.assert_array_equal(out["CU"].to_numpy(), ref["Y"].to_numpy() / ref["K"].to_numpy())
    out_c, diag_c = cu.estimate_cu(panel, "cols")
    assert np.all(out_c["CU"] <= 1) and np.all(out_c["CU"] > 0)
    # Exactly one frontier firm (CU = 1) per year.
    assert (out_c.loc[out_c["CU"] == 1.0, "year"].value_counts() == 1).all()
    assert out_c.loc[out_c["CU"] == 1.0, "year"].nunique() == out_c["year"].nunique()
    json.dumps(diag_c, allow_nan=False)


def test_estimate_cu_wrong_skew_option():
    panel = make_panel(nf=60, skew_sign=+1.0)
    with pytest.raises(EstimationError, match="positively skewed"):
        cu.estimate_cu(panel, "sfa_bc92")
    with pytest.warns(RuntimeWarning):
        out, diag = cu.estimate_cu(panel, "sfa_bc92", on_wrong_skew="zero")
    assert np.all(out["CU"] == 1.0) and np.all(out["lnCU"] == 0.0) and diag["wrong_skew"] is True


def test_estimate_cu_input_guards():
    panel = make_panel(nf=20)
    bad = panel.copy()
    bad.loc[5, "K"] = 0.0
    bad.loc[9, "K"] = np.nan
    with pytest.raises(InputError) as exc:
        cu.estimate_cu(bad, "sfa_bc92")
    assert exc.value.column == "K"
    assert exc.value.rows[0] == (bad.loc[5, "Stkcd"], int(bad.loc[5, "year"]))
    assert len(exc.value.rows) == 2
    with pytest.raises(InputError, match="unknown CU method"):
        cu.estimate_cu(panel, "dea")
    with pytest.raises(InputError, match="lacks column"):
        cu.estimate_cu(panel.drop(columns="L"), "cols")
    with pytest.raises(InputError, match="share a"):
        cu.estimate_cu(pd.concat([panel, panel.iloc[[0]]]), "fa_turnover")


# ----------------------------------------------------------------------------------------------------------
# BC92 Newton fit: analytic Hessian, polished optimum, categorical effects without dense dummies
# ----------------------------------------------------------------------------------------------------------
def _dummies(codes):
    return np.column_stack([(codes == j).astype(float) for j in range(1, codes.max() + 1)])


def _panel_with_effects(nf=100, seed=5):
    y, X, firm, t, _ = simulate_bc92(nf=nf, seed=seed)
    rng = np.random.default_rng(seed + 100)
    ind = rng.integers(0, 4, nf)[firm]
    yr = (t - 2011).astype(int)
    return y, X, firm, t, yr, ind


@pytest.mark.parametrize("mu_flag", [False, True])
def test_bc92_analytic_hessian_matches_differences_of_gradient(mu_flag):
    y, X, firm, t, yr, ind = _panel_with_effects()
    Xd = np.column_stack([X, _dummies(yr), _dummies(ind)])
    rng = np.random.default_rng(8)
    theta = np.r_[BETA, rng.normal(0, 0.03, Xd.shape[1] - 3), math.log(0.25), math.log(0.13), 0.07]
    if mu_flag:
        theta = np.r_[theta, 0.1]
    ll, g, H = cu.bc92_loglik(theta, y, X, firm, t, mu=mu_flag, hess=True, effects=(yr, ind))
    ll_d, g_d = cu.bc92_loglik(theta, y, Xd, firm, t, mu=mu_flag, grad=True)
    assert ll == pytest.approx(ll_d, rel=1e-13)
    np.testing.assert_allclose(g, g_d, rtol=1e-10, atol=1e-10 * np.max(np.abs(g_d)))
    fd = np.empty_like(H)
    for j in range(theta.size):
        h = 1e-6 * max(1.0, abs(theta[j]))
        tp, tm = theta.copy(), theta.copy()
        tp[j] += h
        tm[j] -= h
        gp = cu.bc92_loglik(tp, y, Xd, firm, t, mu=mu_flag, grad=True)[1]
        gm = cu.bc92_loglik(tm, y, Xd, firm, t, mu=mu_flag, grad=True)[1]
        fd[:, j] = (gp - gm) / (2 * h)
    np.testing.assert_allclose(H, H.T, rtol=0, atol=1e-9 * np.max(np.abs(H)))
    np.testing.assert_allclose(H, fd, rtol=1e-5, atol=1e-6 * np.max(np.abs(fd)))


@pytest.fixture(scope="module")
def panel_fit():
    panel = make_panel()
    out, diag = cu.estimate_cu(panel, "sfa_bc92")
    return panel, out, diag


def _theta_from_diag(diag):
    return np.r_[
        list(diag["params"].values()), math.log(diag["sigma_u"]), math.log(diag["sigma_v"]), diag["eta"]
    ]


def test_bc92_optimum_loglik_equals_plain_loop(panel_fit):
    panel, _, diag = panel_fit
    df = panel.sort_values(["Stkcd", "year"]).reset_index(drop=True)
    Xd, names = cu.design_matrix(df, "cobb_douglas")
    assert names == list(diag["params"])
    y = np.log(df["Y"].to_numpy())
    ll_loop = bc92_loglik_loop(
        _theta_from_diag(diag), y, Xd, df["Stkcd"].to_numpy(), df["year"].to_numpy(), False
    )
    assert diag["loglik"] == pytest.approx(ll_loop, rel=1e-10)


def test_bc92_optimum_is_polished(panel_fit):
    panel, _, diag = panel_fit
    df = panel.sort_values(["Stkcd", "year"]).reset_index(drop=True)
    Xd, _ = cu.design_matrix(df, "cobb_douglas")
    theta = _theta_from_diag(diag)
    # Gradient through the dense-design path (not the one the fit used), scale-free as documented.
    ll, g = cu.bc92_loglik(
        theta, np.log(df["Y"].to_numpy()), Xd, df["Stkcd"].to_numpy(), df["year"].to_numpy(), grad=True
    )
    rel = np.max(np.abs(g) * np.maximum(np.abs(theta), 1.0)) / abs(ll)
    assert rel <= 1e-8
    assert diag["grad_norm_rel"] <= 1e-8 and diag["converged"]
    assert diag["se_method"] == "observed information (analytic Hessian)"
    # SEs are sqrt(diag((-H)^-1)) of the analytic Hessian; sigma_u / sigma_v by the delta method.
    _, _, H = cu.bc92_loglik(
        theta, np.log(df["Y"].to_numpy()), Xd, df["Stkcd"].to_numpy(), df["year"].to_numpy(), hess=True
    )
    se = np.sqrt(np.diag(np.linalg.inv(-H)))
    k = len(diag["params"])
    assert diag["se"]["lnK"] == pytest.approx(se[1], rel=1e-6)
    assert diag["se"]["eta"] == pytest.approx(se[k + 2], rel=1e-6)
    assert diag["se"]["sigma_u"] == pytest.approx(diag["sigma_u"] * se[k], rel=1e-6)


# Estimates of estimate_cu(make_panel(), "sfa_bc92") from the previous code (L-BFGS-B on whitened
# coordinates, dense dummies), recorded before the Newton rewrite; both optima agree to ~4e-8.
PREVIOUS_BC92 = {
    "const": 2.98655871814501,
    "lnK": 0.4031645407737178,
    "lnL": 0.5922937009796326,
    "year_2012": 0.016080521613728915,
    "year_2013": 0.03859777862508615,
    "year_2014": 0.04891066568761895,
    "year_2015": 0.08110423251285971,
    "year_2016": 0.1219664041814943,
    "year_2017": 0.16023861860323005,
    "year_2018": 0.1512849197959144,
    "year_2019": 0.14962475716542367,
    "ind_C26": -0.01091736755962659,
    "ind_C35": 0.005158905690437843,
    "ind_C39": -0.009577567504643137,
    "sigma_u": 0.36228648711248407,
    "sigma_v": 0.1462764026045158,
    "eta": -0.004618626779970121,
}


def test_bc92_estimates_equal_previous_code(panel_fit):
    _, _, diag = panel_fit
    new = {**diag["params"], "sigma_u": diag["sigma_u"], "sigma_v": diag["sigma_v"], "eta": diag["eta"]}
    assert list(new) == list(PREVIOUS_BC92)
    for nm, v in PREVIOUS_BC92.items():
        assert new[nm] == pytest.approx(v, abs=1e-6), nm
    assert diag["loglik"] == pytest.approx(324.79480125904576, abs=1e-9)


def test_bc92_effects_equal_dense_dummies():
    y, X, firm, t, yr, ind = _panel_with_effects(nf=300, seed=12)
    Xd = np.column_stack([X, _dummies(yr), _dummies(ind)])
    r_d = cu.fit_sfa_bc92(y, Xd, firm, t)
    r_e = cu.fit_sfa_bc92(y, X, firm, t, effects=[yr, ind])
    np.testing.assert_allclose(r_e.beta, r_d.beta, rtol=0, atol=1e-9)
    assert r_e.loglik == pytest.approx(r_d.loglik, rel=1e-13)
    assert r_e.sigma_u == pytest.approx(r_d.sigma_u, rel=1e-9) and r_e.eta == pytest.approx(r_d.eta, abs=1e-9)
    for nm in r_d.se:
        assert r_e.se[nm] == pytest.approx(r_d.se[nm], rel=1e-7), nm
    np.testing.assert_allclose(r_e.cu_period, r_d.cu_period, rtol=1e-9)
    assert r_e.grad_norm_rel <= 1e-8 and r_e.n_iter < 20
    with pytest.raises(InputError, match="integer code array"):
        cu.fit_sfa_bc92(y, X, firm, t, effects=[yr.astype(float)])
    with pytest.raises(InputError, match="names has"):
        cu.fit_sfa_bc92(y, X, firm, t, effects=[yr], names=["a", "b", "c"])


def test_bc92_blocked_evaluation_equals_one_pass(monkeypatch):
    y, X, firm, t, yr, ind = _panel_with_effects(nf=200, seed=21)
    theta = np.r_[BETA, np.full(11, 0.01), math.log(0.25), math.log(0.13), 0.07, 0.05]
    one = cu.bc92_loglik(theta, y, X, firm, t, mu=True, hess=True, effects=(yr, ind))
    monkeypatch.setattr(cu, "_BLOCK_ROWS", 100)  # ~15 blocks of whole firms
    P = cu._Panel(y, X, firm, t, (yr, ind))
    assert len(P.blocks()) > 10 and sum(B.n for B in P.blocks()) == len(y)
    blocked = cu._bc92_eval(theta, P, True, 2)
    assert blocked[0] == pytest.approx(one[0], rel=1e-13)
    np.testing.assert_allclose(blocked[1], one[1], rtol=1e-10, atol=1e-10 * np.max(np.abs(one[1])))
    np.testing.assert_allclose(blocked[2], one[2], rtol=1e-10, atol=1e-10 * np.max(np.abs(one[2])))
    r = cu.fit_sfa_bc92(y, X, firm, t, effects=[yr, ind])
    monkeypatch.setattr(cu, "_BLOCK_ROWS", 1 << 15)
    r1 = cu.fit_sfa_bc92(y, X, firm, t, effects=[yr, ind])
    np.testing.assert_allclose(r.beta, r1.beta, rtol=0, atol=1e-9)


def test_newton_leaves_a_non_concave_region():
    # ln L = -(x0^2 - 1)^2 - (x1 - 2)^2: at x0 = 0.1 the Hessian is indefinite (d2/dx0^2 = 4 - 12 x0^2 > 0).
    def fun(x, order):
        ll = -((x[0] ** 2 - 1.0) ** 2) - (x[1] - 2.0) ** 2
        if order == 0:
            return ll, None, None
        g = np.array([-4.0 * x[0] * (x[0] ** 2 - 1.0), -2.0 * (x[1] - 2.0)])
        h = np.array([[-12.0 * x[0] ** 2 + 4.0, 0.0], [0.0, -2.0]])
        return ll, g, h

    r = cu._newton(fun, np.array([0.1, 0.0]), maxiter=100)
    np.testing.assert_allclose(r.x, [1.0, 2.0], atol=1e-10)
    assert r.relgrad <= 1e-11 and r.nit < 30

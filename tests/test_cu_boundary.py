"""The edges of the SFA parameter space (intelcap.measures.cu): Newton trial points where sigma^2 = exp(2 ln sigma)
leaves double range are rejected steps, not ZeroDivisionError / ValueError; the ln L limit as sigma_u^2 -> 0 is
the normal (OLS) likelihood; a fit no better than that limit (sigma_u -> 0) is an EstimationError, which the
Monte Carlo records as a failed replication.  Every test here fails on the code before this file existed."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml
from rebuild import merge
from scipy import optimize

from intelcap.econometrics import robustness as R
from intelcap.errors import EstimationError
from intelcap.measures import cu

ROOT = Path(__file__).resolve().parents[1]


def overshooting_panel() -> tuple[np.ndarray, ...]:
    """60 firms x 6 years, sigma_u = 0.2, sigma_v = 0.03, eta = 0.05: lambda ~ 7, the moment start is capped
    and the first Newton step lands at ln sigma_v = -828 (the old code: math.log(0) -> ValueError)."""
    nf, T = 60, 6
    rng = np.random.default_rng(49)
    firm = np.repeat(np.arange(nf), T)
    t = np.tile(np.arange(T), nf).astype(float)
    lnk, lnl = rng.normal(size=nf * T), rng.normal(size=nf * T)
    u = np.abs(rng.normal(scale=0.2, size=nf))[firm] * np.exp(-0.05 * (t - T + 1))
    y = 1.0 + 0.3 * lnk + 0.6 * lnl + rng.normal(scale=0.03, size=nf * T) - u
    return y, np.column_stack([np.ones(nf * T), lnk, lnl]), firm, t


@pytest.fixture()
def trial_spy(monkeypatch):
    """Largest |ln sigma_u|, |ln sigma_v| at which the BC92 fit asked for ln L (proves a test reached the edge)."""
    seen = [0.0]
    inner = cu._bc92_eval

    def spy(theta, P, mu_flag, order):
        seen[0] = max(seen[0], abs(float(theta[P.k])), abs(float(theta[P.k + 1])))
        return inner(theta, P, mu_flag, order)

    monkeypatch.setattr(cu, "_bc92_eval", spy)
    return seen


def test_overshooting_newton_step_is_halved_to_the_interior_maximum(trial_spy) -> None:
    y, X, firm, t = overshooting_panel()
    r = cu.fit_sfa_bc92(y, X, firm, t)
    assert trial_spy[0] > 800  # the step that crashed the old code was taken and rejected
    assert r.converged and r.grad_norm_rel <= 1e-8
    theta = np.r_[r.beta, math.log(r.sigma_u), math.log(r.sigma_v), r.eta]
    ll, g, h = cu.bc92_loglik(theta, y, X, firm, t, hess=True)
    assert ll == pytest.approx(r.loglik, rel=1e-14)
    assert np.max(np.abs(g)) < 1e-6 and np.all(np.linalg.eigvalsh(-h) > 0)  # a strict local maximum
    # An independent optimizer from the true parameters finds the same maximum.
    true = np.r_[1.0, 0.3, 0.6, math.log(0.2), math.log(0.03), 0.05]
    ref = optimize.minimize(
        lambda th: tuple(-v for v in cu.bc92_loglik(th, y, X, firm, t, grad=True)),
        true,
        jac=True,
        method="BFGS",
        options={"gtol": 1e-9, "maxiter": 1000},
    )
    assert -ref.fun == pytest.approx(r.loglik, abs=1e-7)
    np.testing.assert_allclose(ref.x, theta, rtol=1e-4, atol=1e-6)
    # and it is the truth up to sampling error: sigma_u within 2 SE, eta and beta close
    assert abs(r.sigma_u - 0.2) < 2 * r.se["sigma_u"] and abs(r.eta - 0.05) < 0.01
    np.testing.assert_allclose(r.beta, [1.0, 0.3, 0.6], atol=0.02)


@pytest.mark.parametrize(
    "ln_su, ln_sv, grad",
    [
        (-400.0, -3.0, False),  # sigma_u^2 underflows to 0: mu / sqrt(a) was a ZeroDivisionError
        (-208.0, -3.0, True),  # a > 0 but a^2 == 0: the a-partial mu^2 / a^2 was a ZeroDivisionError
        (-1.5, -828.0, False),  # sigma_v^2 == 0: math.log(0) was a ValueError
        (400.0, -3.0, False),  # exp(800) was an OverflowError
        (float("nan"), -3.0, False),
    ],
)
def test_loglik_outside_representable_range_is_an_estimation_error(ln_su, ln_sv, grad) -> None:
    y, X, firm, t = overshooting_panel()
    theta = np.r_[1.0, 0.3, 0.6, ln_su, ln_sv, 0.05]
    with pytest.raises(EstimationError, match="outside \\+-100"):
        cu.bc92_loglik(theta, y, X, firm, t, grad=grad)
    Z = np.ones((len(y), 1))
    with pytest.raises(EstimationError, match="BC95 log-likelihood requested at ln sigma_u"):
        cu.bc95_loglik(np.r_[1.0, 0.3, 0.6, 0.0, ln_su, ln_sv], y, X, Z, grad=grad)


@pytest.mark.parametrize("ln_su", [-30.0, -99.0])
def test_loglik_at_tiny_sigma_u_is_the_normal_likelihood(ln_su) -> None:
    """The limit behind the boundary check: ln L -> sum of N(0, sigma_v^2) log-densities of the residuals
    as sigma_u^2 -> 0 (the gap is O(sigma_u)); gradient and Hessian stay finite up to the range's edge."""
    y, X, firm, t = overshooting_panel()
    beta, sv = np.array([1.02, 0.29, 0.61]), 0.05
    e = y - X @ beta
    normal = -0.5 * len(y) * math.log(2 * math.pi * sv**2) - float(e @ e) / (2 * sv**2)
    theta = np.r_[beta, ln_su, math.log(sv), 0.05]
    ll, g, h = cu.bc92_loglik(theta, y, X, firm, t, hess=True)
    assert ll == pytest.approx(normal, rel=1e-12)
    assert np.all(np.isfinite(g)) and np.all(np.isfinite(h))
    # the maximum of that limit over (beta, sigma_v) is what _check_interior compares with: OLS
    b_ols, *_ = np.linalg.lstsq(X, y, rcond=None)
    e_ols = y - X @ b_ols
    s_ols = math.sqrt(float(e_ols @ e_ols) / len(y))
    ll_ols = cu.bc92_loglik(np.r_[b_ols, ln_su, math.log(s_ols), 0.0], y, X, firm, t)
    assert cu._ols_loglik(len(y), s_ols) == pytest.approx(ll_ols, rel=1e-12)


def no_inefficiency_cross_section() -> tuple[np.ndarray, ...]:
    """200 firms, one year each, true sigma_u = 0; the OLS residuals are positively skewed (0.43)."""
    rng = np.random.default_rng(2)
    n = 200
    lnk, lnl = rng.normal(size=n), rng.normal(size=n)
    y = 1.0 + 0.3 * lnk + 0.6 * lnl + rng.normal(scale=0.1, size=n)
    return y, np.column_stack([np.ones(n), lnk, lnl]), np.arange(n), np.zeros(n)


def test_fit_that_drifts_to_sigma_u_zero_is_an_estimation_error(monkeypatch) -> None:
    """With T = 1 and positive skew the supremum of ln L is OLS (Waldman 1982). The skewness pre-check
    normally stops such a sample before Newton; here it is bypassed (start sigma_u = sigma_v / 2) to reach
    the case the pre-check cannot see: Newton drifts to ln sigma_u ~ -9.7 and used to return CU ~ 1 with only
    a convergence warning."""
    y, X, firm, t = no_inefficiency_cross_section()
    real = cu._moment_start

    def start_anyway(e):
        su, sv, m3 = real(e)
        assert not np.isfinite(su)  # the sample is one the pre-check would have stopped
        return 0.5 * sv, sv, m3

    monkeypatch.setattr(cu, "_moment_start", start_anyway)
    with pytest.raises(
        EstimationError, match=r"sigma_u -> 0.*does not exceed ln L = .* of OLS.*not identified"
    ):
        cu.fit_sfa_bc92(y, X, firm, t)


def small_config() -> dict:
    cfg = yaml.safe_load((ROOT / "config" / "config.yaml").read_text(encoding="utf-8"))
    return merge(cfg, yaml.safe_load((ROOT / "tests" / "small_config.yaml").read_text(encoding="utf-8")))


def mc_setup(config: dict, B: int = 99) -> R.MonteCarloScenario:
    xw = pd.read_csv(ROOT / "config" / "crosswalk_csrc_ifr.csv", dtype=str, keep_default_na=False)
    reg = pd.read_csv(ROOT / "config" / "regions.csv", dtype=str, keep_default_na=False)
    mc = config["robustness"]["monte_carlo"]
    return R.MonteCarloScenario("strong_shocks", dict(mc["scenarios"]["strong_shocks"]), config, xw, reg, B)


def test_mc_strong_shocks_replication_37_of_the_small_config(trial_spy) -> None:
    """The reported failure: mc_shard strong_shocks/shard_7 of tests/small_config.yaml, replication 37 (and 39)
    died with ZeroDivisionError in the SFA step. Its sample has clear inefficiency (sigma_u ~ 0.18)."""
    config = small_config()
    sc = mc_setup(config)
    rep = 37
    p_seed = int(config["seed"]) + rep
    from intelcap.synthetic import dgp as synth

    base = {**config["synth"], **sc.overrides, "reports": False}
    df = R.simulate_analysis_panel(
        synth.SynthParams.from_config({"synth": base, "seed": p_seed}), config, sc.crosswalk, sc.regions
    )
    assert trial_spy[0] > 100  # this draw still takes the overshooting step, now rejected
    assert len(df) > 2000 and -0.25 < df["lnCU"].mean() < -0.1 and (df["lnCU"] < 0).all()


def test_mc_records_a_sigma_u_zero_fit_as_a_failed_replication(monkeypatch) -> None:
    """mc_shard keeps going when the frontier finds no inefficiency: one row, status failed with the reason,
    counted by coverage_summary as n_failed."""
    config = small_config()
    sc = mc_setup(config)
    monkeypatch.setattr(cu, "_ols_loglik", lambda n, sv: math.inf)  # every fit "no better than OLS"
    out = R.mc_shard(7, 1, int(config["seed"]), sc)
    assert list(out.columns) == R.MC_COLUMNS and len(out) == 1
    row = out.iloc[0]
    assert row["rep"] == 7 and row["seed"] == int(config["seed"]) + 7 and np.isnan(row["estimate"])
    assert row["status"].startswith("failed: EstimationError: BC92: sigma_u -> 0")
    ok = out.assign(
        rep=8, status="ok", estimator="two_step", method="firm_crv1", estimate=0.03, std_error=0.01,
        p_value=0.01, covers_ame=True, covers_beta=True, true_ame=0.03,
    )  # fmt: skip
    summary = R.coverage_summary(pd.concat([out, ok], ignore_index=True))
    assert summary["n_failed"].tolist() == [1] and summary["n_reps"].tolist() == [1]

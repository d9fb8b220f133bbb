"""Estimation under reghdfe conventions, checked against sandwiches computed by hand."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from intelcap.econometrics import estimate
from intelcap.errors import EstimationError, InputError


def _panel(seed: int = 3, firms: int = 60, years: int = 6) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    rows = []
    for f in range(firms):
        yrs = sorted(
            rng.choice(np.arange(2011, 2011 + years), size=rng.integers(2, years + 1), replace=False)
        )
        a = rng.normal()
        for y in yrs:
            x1, x2 = rng.normal(), rng.normal()
            rows.append(
                {
                    "Stkcd": f"{f:06d}",
                    "year": int(y),
                    "x1": x1 + 0.3 * a,
                    "x2": x2,
                    "y": 0.5 * x1 - 0.2 * x2 + a + 0.1 * (y - 2011) + rng.normal() * (1 + abs(x1)),
                }
            )
    df = pd.DataFrame(rows)
    # one singleton firm: reghdfe drops it, and so must we
    return pd.concat(
        [df, pd.DataFrame([{"Stkcd": "999999", "year": 2012, "x1": 3.0, "x2": 1.0, "y": 9.0}])],
        ignore_index=True,
    )


def _hand_twfe(df: pd.DataFrame):
    """OLS with explicit firm and year dummies, CRV1 by firm, K = slopes + constant + (T-1) year levels
    (firm FE nested in the firm clusters use no degrees of freedom)."""
    d = df[df.groupby("Stkcd")["Stkcd"].transform("size") > 1].reset_index(drop=True)
    F = pd.get_dummies(d["Stkcd"], dtype=float).to_numpy()
    T = pd.get_dummies(d["year"], dtype=float).to_numpy()[:, 1:]
    X = d[["x1", "x2"]].to_numpy()
    Z = np.column_stack([X, F, T])
    y = d["y"].to_numpy()
    coef, *_ = np.linalg.lstsq(Z, y, rcond=None)
    u = y - Z @ coef
    # partial out the dummies (FWL) to get the slopes' bread and scores
    D = np.column_stack([F, T])
    Xt = X - D @ np.linalg.lstsq(D, X, rcond=None)[0]
    bread = np.linalg.inv(Xt.T @ Xt)
    g = pd.factorize(d["Stkcd"])[0]
    S = np.zeros((g.max() + 1, 2))
    np.add.at(S, g, Xt * u[:, None])
    N, G = len(d), g.max() + 1
    K = 2 + 1 + T.shape[1]
    V = G / (G - 1) * (N - 1) / (N - K) * bread @ (S.T @ S) @ bread
    return coef[:2], np.sqrt(np.diag(V)), N, G


def test_twfe_crv1_equals_hand_sandwich():
    df = _panel()
    spec = estimate.ModelSpec(
        name="(1)", depvar="y", regressors=["x1", "x2"], controls=False, fe=["Stkcd", "year"]
    )
    res = estimate.regression_table(df, [spec], [], "Stkcd").set_index("term")
    b, se, N, G = _hand_twfe(df)
    np.testing.assert_allclose(res.loc[["x1", "x2"], "estimate"], b, rtol=0, atol=1e-10)
    np.testing.assert_allclose(res.loc[["x1", "x2"], "std_error"], se, rtol=1e-8)
    assert res.loc["x1", "nobs"] == N == len(df) - 1  # the singleton firm is gone
    assert res.loc["x1", "n_clusters"] == G


def test_reghdfe_constant_is_mean_identity():
    df = _panel()
    spec = estimate.ModelSpec(
        name="(1)", depvar="y", regressors=["x1", "x2"], controls=False, fe=["Stkcd", "year"]
    )
    res = estimate.regression_table(df, [spec], [], "Stkcd").set_index("term")
    d = df[df["Stkcd"] != "999999"]
    expected = (
        d["y"].mean()
        - res.loc["x1", "estimate"] * d["x1"].mean()
        - res.loc["x2", "estimate"] * d["x2"].mean()
    )
    assert res.loc["_cons", "estimate"] == pytest.approx(expected, abs=1e-10)
    assert res.loc["_cons", "std_error"] > 0


def test_pooled_ols_crv1_equals_hand_sandwich():
    df = _panel()
    spec = estimate.ModelSpec(name="(1)", depvar="y", regressors=["x1"], controls=False, fe=[])
    res = estimate.regression_table(df, [spec], [], "Stkcd").set_index("term")
    X = np.column_stack([np.ones(len(df)), df["x1"]])
    y = df["y"].to_numpy()
    b = np.linalg.solve(X.T @ X, X.T @ y)
    u = y - X @ b
    g = pd.factorize(df["Stkcd"])[0]
    S = np.zeros((g.max() + 1, 2))
    np.add.at(S, g, X * u[:, None])
    N, G, K = len(df), g.max() + 1, 2
    bread = np.linalg.inv(X.T @ X)
    V = G / (G - 1) * (N - 1) / (N - K) * bread @ S.T @ S @ bread
    np.testing.assert_allclose(res.loc[["_cons", "x1"], "estimate"], b, atol=1e-10)
    np.testing.assert_allclose(res.loc[["_cons", "x1"], "std_error"], np.sqrt(np.diag(V)), rtol=1e-8)
    assert np.isnan(res.loc["x1", "r2_within"])


def test_formula_is_built_from_names_only():
    spec = estimate.ModelSpec(name="(1)", depvar="lnCU", regressors=["lnINT"], fe=["Stkcd", "province^year"])
    assert estimate.formula(spec, ["Size", "Lev"]) == "lnCU ~ lnINT + Size + Lev | Stkcd + province^year"
    iv = estimate.ModelSpec(
        name="(2)", depvar="lnCU", regressors=[], fe=["Stkcd", "year"], endog="lnINT", instrument="lnINTUS"
    )
    assert estimate.formula(iv, ["Size"]) == "lnCU ~ Size | Stkcd + year | lnINT ~ lnINTUS"
    bad = estimate.ModelSpec(name="(3)", depvar="lnCU", regressors=["lnINT; import os"], fe=[])
    with pytest.raises(InputError, match="not a variable name"):
        estimate.validate_spec(bad, [], ["lnCU", "lnINT"])


def test_unknown_variable_suggests_the_right_name():
    spec = estimate.ModelSpec(name="(1)", depvar="lncu", regressors=["lnINT"], fe=[])
    with pytest.raises(InputError, match="did you mean '?lnCU'?"):
        estimate.validate_spec(spec, [], ["lnCU", "lnINT"])


def test_empty_subsample_is_a_clear_error():
    df = _panel().assign(SOE=0)
    spec = estimate.ModelSpec(
        name="(1)", depvar="y", regressors=["x1"], fe=["Stkcd"], sample="soe", controls=False
    )
    with pytest.raises(EstimationError, match="empty"):
        estimate.regression_table(df, [spec], [], "Stkcd")


def test_descriptive_matches_stata_summarize():
    df = pd.DataFrame({"v": [1.0, 2.0, 4.0, np.nan]})
    row = estimate.descriptive_table(df, ["v"]).iloc[0]
    assert (row["n"], row["mean"], row["min"], row["max"]) == (3, 7 / 3, 1.0, 4.0)
    assert row["sd"] == pytest.approx(np.sqrt(((1 - 7 / 3) ** 2 + (2 - 7 / 3) ** 2 + (4 - 7 / 3) ** 2) / 2))


@pytest.mark.parametrize("fe", [["Stkcd", "year"], ["year", "Stkcd"]])
def test_fe_order_does_not_change_reghdfe_k(fe):
    # pyfixest 0.60 finds nested FE by column position; our SEs must not depend on the formula order
    df = _panel(seed=11, firms=80, years=9)
    spec = estimate.ModelSpec(name="(1)", depvar="y", regressors=["x1", "x2"], controls=False, fe=fe)
    res = estimate.regression_table(df, [spec], [], "Stkcd").set_index("term")
    _, se, _, _ = _hand_twfe(df)
    np.testing.assert_allclose(res.loc[["x1", "x2"], "std_error"], se, rtol=1e-8)


def test_iv_table_equals_hand_2sls_and_first_stage_f():
    rng = np.random.default_rng(7)
    firms, years = 150, 6
    f = np.repeat(np.arange(firms), years)
    t = np.tile(np.arange(years), firms)
    a = rng.normal(size=firms)[f]
    z = rng.normal(size=f.size) + 0.2 * t
    e = rng.normal(size=f.size)
    x = 0.8 * z + a + 0.5 * e + rng.normal(size=f.size)
    w = rng.normal(size=f.size)
    y = 0.3 * x - 0.2 * w + a + e
    df = pd.DataFrame({"Stkcd": [f"{i:06d}" for i in f], "year": 2011 + t, "x": x, "z": z, "w": w, "y": y})
    spec = estimate.ModelSpec(
        name="(2)",
        depvar="y",
        regressors=[],
        controls=True,
        fe=["Stkcd", "year"],
        endog="x",
        instrument="z",
        stage="second",
    )
    res = estimate.regression_table(df, [spec], ["w"], "Stkcd").set_index("term")
    # hand 2SLS with explicit dummies
    D = np.column_stack(
        [pd.get_dummies(f, dtype=float).to_numpy(), pd.get_dummies(t, dtype=float).to_numpy()[:, 1:]]
    )
    X = np.column_stack([x, w, D])
    Z = np.column_stack([z, w, D])
    Xhat = Z @ np.linalg.lstsq(Z, X, rcond=None)[0]
    b = np.linalg.lstsq(Xhat, y, rcond=None)[0]
    assert res.loc["x", "estimate"] == pytest.approx(b[0], abs=1e-8)
    assert res.loc["w", "estimate"] == pytest.approx(b[1], abs=1e-8)
    stats = {r["term"]: r for r in estimate.iv_statistics(df, spec, ["w"], "Stkcd")}
    # first-stage F with one instrument = squared cluster-robust t of z in the first stage
    first = estimate.ModelSpec(name="(1)", depvar="x", regressors=["z"], controls=True, fe=["Stkcd", "year"])
    fs = estimate.regression_table(df, [first], ["w"], "Stkcd").set_index("term")
    assert stats["stat:first_stage_F"]["estimate"] == pytest.approx(fs.loc["z", "t_value"] ** 2, rel=1e-8)
    assert "bounded" in stats["stat:ar_ci"]["text"]

"""The 2SLS of Table 4 (`estimate.fit` with an endogenous regressor): our own path (`_iv_reghdfe`, cross
products of the demeaned variables) against exact rational arithmetic, against the pyfixest path it replaced,
and `iv_statistics` against `inference.iv_2sls` / `ar_confidence_set` on the same data."""

from __future__ import annotations

from fractions import Fraction

import numpy as np
import pandas as pd
import pytest

from intelcap.econometrics import estimate, inference, iv_extras
from intelcap.econometrics.absorb import AbsorbedDesign

pytestmark = pytest.mark.unit


def _panel(firms: int, years: int, seed: int, drop: float = 0.15) -> pd.DataFrame:
    """Unbalanced firm-year panel with a firm effect in x and y, an instrument, and two controls (one with
    a large mean and little within variation, as Size in the paper's data)."""
    rng = np.random.default_rng(seed)
    f = np.repeat(np.arange(firms), years)
    t = np.tile(np.arange(years), firms)
    keep = rng.random(f.size) > drop
    keep[::years] = True  # no firm disappears
    keep[1::years] = True  # nor becomes a singleton
    f, t = f[keep], t[keep]
    a = rng.normal(size=firms)[f]
    z = rng.normal(size=f.size) + 0.2 * t
    e = rng.normal(size=f.size)
    x = 0.8 * z + a + 0.5 * e + rng.normal(size=f.size)
    w = rng.normal(size=f.size) + 3.0
    s = 22.0 + 0.3 * rng.normal(size=f.size) + 0.5 * a
    y = 0.3 * x - 0.2 * w + 0.1 * s + a + e
    return pd.DataFrame(
        {"Stkcd": [f"{i:06d}" for i in f], "year": 2011 + t, "x": x, "z": z, "w": w, "s": s, "y": y}
    )


SPEC = estimate.ModelSpec(
    name="(2)", depvar="y", regressors=[], fe=["Stkcd", "year"], endog="x", instrument="z", stage="second"
)


def _rows(df: pd.DataFrame, controls: list[str]) -> pd.DataFrame:
    return estimate.regression_table(df, [SPEC], controls, "Stkcd").set_index("term")


# ---- exact rational arithmetic ---------------------------------------------------------------------------
def _q(a) -> list[list[Fraction]]:
    return [[Fraction(float(v)) for v in row] for row in np.atleast_2d(a)]


def _t(A):
    return [list(r) for r in zip(*A, strict=True)]


def _mm(A, B):
    Bt = _t(B)
    return [[sum((x * y for x, y in zip(r, c, strict=True)), Fraction(0)) for c in Bt] for r in A]


def _inv(A):
    n = len(A)
    M = [list(r) + [Fraction(int(i == j)) for j in range(n)] for i, r in enumerate(A)]
    for c in range(n):
        p = next(i for i in range(c, n) if M[i][c] != 0)
        M[c], M[p] = M[p], M[c]
        piv = M[c][c]
        M[c] = [v / piv for v in M[c]]
        for i in range(n):
            if i != c and M[i][c] != 0:
                fac = M[i][c]
                M[i] = [v - fac * w for v, w in zip(M[i], M[c], strict=True)]
    return [r[n:] for r in M]


def _exact_iv(df: pd.DataFrame, controls: list[str]) -> dict:
    """reghdfe/ivreghdfe's numbers in exact arithmetic: FE partialled out with explicit dummies, 2SLS, CRV1 by
    firm with G/(G-1)·(N-1)/(N-K), K = slopes + years (firm FE nested in the cluster: one level counted),
    `_cons` and its SE from (ỹ + ȳ) on (X̃ + x̄, 1) instrumented by (Z̃ + z̄, 1), residuals held fixed."""
    f = pd.factorize(df["Stkcd"], sort=True)[0]
    t = pd.factorize(df["year"], sort=True)[0]
    n, F, T = len(df), int(f.max()) + 1, int(t.max()) + 1
    D = np.zeros((n, F + T - 1))
    D[np.arange(n), f] = 1.0
    D[t > 0, F + t[t > 0] - 1] = 1.0
    Dq = _q(D)
    DtD_inv = _inv(_mm(_t(Dq), Dq))
    raw = _q(df[["y", *controls, "x", "z"]].to_numpy(float))
    proj = _mm(Dq, _mm(DtD_inv, _mm(_t(Dq), raw)))
    W = [[a - b for a, b in zip(r, p, strict=True)] for r, p in zip(raw, proj, strict=True)]
    k = len(controls) + 1
    y = [[r[0]] for r in W]
    X = [r[1 : k + 1] for r in W]
    Z = [[*r[1:k], r[k + 1]] for r in W]
    ZZi = _inv(_mm(_t(Z), Z))
    XZ = _mm(_t(X), Z)
    bread = _inv(_mm(XZ, _mm(ZZi, _t(XZ))))
    b = _mm(bread, _mm(XZ, _mm(ZZi, _mm(_t(Z), y))))
    u = [
        yi[0] - sum((xv * bv[0] for xv, bv in zip(xi, b, strict=True)), Fraction(0))
        for yi, xi in zip(y, X, strict=True)
    ]
    G, K = F, k + T
    ssc = Fraction(G, G - 1) * Fraction(n - 1, n - K)

    def sandwich(R, Q):  # 2SLS variance of regressors R instrumented by Q, residuals u
        QQi = _inv(_mm(_t(Q), Q))
        Pi = _mm(QQi, _mm(_t(Q), R))
        Rh = _mm(Q, Pi)
        br = _inv(_mm(_t(Rh), Rh))
        S = [[Fraction(0)] * len(R[0]) for _ in range(G)]
        for i in range(n):
            for j in range(len(R[0])):
                S[f[i]][j] += Rh[i][j] * u[i]
        return [[v * ssc for v in r] for r in _mm(br, _mm(_mm(_t(S), S), br))]

    V = sandwich(X, Z)
    means = [sum((r[j] for r in raw), Fraction(0)) / n for j in range(len(raw[0]))]
    A = [[*(xv + m for xv, m in zip(xi, means[1 : k + 1], strict=True)), Fraction(1)] for xi in X]
    B = [[*(zv + m for zv, m in zip(zi, [*means[1:k], means[k + 1]], strict=True)), Fraction(1)] for zi in Z]
    Vc = sandwich(A, B)
    cons = means[0] - sum((m * bv[0] for m, bv in zip(means[1 : k + 1], b, strict=True)), Fraction(0))
    return {
        "b": np.array([float(v[0]) for v in b]),
        "se": np.sqrt([float(V[j][j]) for j in range(k)]),
        "cons": float(cons),
        "cons_se": float(np.sqrt(float(Vc[-1][-1]))),
        "k": K,
    }


def test_own_2sls_equals_exact_arithmetic():
    df = _panel(firms=9, years=4, seed=5)
    controls = ["w", "s"]
    ref = _exact_iv(df, controls)
    fit, _ = estimate.fit(df, SPEC, controls, "Stkcd")
    assert fit.coefnames == ["w", "s", "x"]
    assert fit.k == ref["k"] == 3 + 4
    # agreement is ~1e-15; the pyfixest path's _cons SE is off by 2.5e-12 here (least squares in raw means)
    np.testing.assert_allclose(fit.b, ref["b"], rtol=1e-12)
    # a wrong small-sample factor (e.g. K without the year levels: sqrt((N-3)/(N-7)) here) is off by > 10 %
    np.testing.assert_allclose(fit.se, ref["se"], rtol=1e-12)
    assert fit.cons == pytest.approx(ref["cons"], rel=1e-12)
    assert fit.cons_se == pytest.approx(ref["cons_se"], rel=1e-12)


@pytest.mark.parametrize("controls", [["w"], ["w", "s"], []])
def test_own_2sls_equals_the_pyfixest_path(monkeypatch, controls):
    df = _panel(firms=120, years=6, seed=11)
    own = _rows(df, controls)
    monkeypatch.setattr(estimate, "_iv_reghdfe", lambda *a, **k: None)  # the pyfixest path (adapter)
    pf = _rows(df, controls)
    assert list(own.index) == list(pf.index) == [*controls, "x", "_cons"]
    slopes = [*controls, "x"]
    for col in ["estimate", "std_error", "t_value", "p_value"]:
        np.testing.assert_allclose(own.loc[slopes, col], pf.loc[slopes, col], rtol=1e-10, err_msg=col)
    for col in ["r2", "r2_within", "nobs", "n_clusters"]:
        np.testing.assert_allclose(own[col], pf[col], rtol=1e-12, err_msg=col)
    assert own.loc["_cons", "estimate"] == pytest.approx(pf.loc["_cons", "estimate"], rel=1e-10)
    # the pyfixest path's _cons SE solves a least-squares problem in the raw means (s: mean 22, within sd
    # 0.3), ours in the demeaned variables: both agree to the conditioning of the former
    assert own.loc["_cons", "std_error"] == pytest.approx(pf.loc["_cons", "std_error"], rel=1e-9)


def test_iv_constant_moments_equals_the_row_formula():
    df = _panel(firms=40, years=5, seed=3)
    d = estimate.estimation_sample(df, SPEC, ["w"], "Stkcd")
    design = AbsorbedDesign(estimate.fe_frame(d, SPEC.fe), tol=1e-14)
    raw = d[["y", "w", "x", "z"]].to_numpy(float)
    D = design.demean_exact(raw)
    cl = pd.factorize(d["Stkcd"])[0]
    G, n = cl.max() + 1, len(d)
    beta = np.array([-0.2, 0.3])
    u = D[:, 0] - D[:, 1:3] @ beta
    sums = np.column_stack([np.bincount(cl, weights=D[:, j] * u, minlength=G) for j in (1, 3)])
    sums = np.column_stack([sums, np.bincount(cl, weights=u, minlength=G)])
    means = raw.mean(axis=0)
    ssc = 1.37
    got = iv_extras.iv_constant_moments(D.T @ D, D.sum(axis=0), n, [1, 2], [1, 3], beta, means, sums, ssc)
    ref = iv_extras.iv_constant(
        D[:, 0], D[:, 1:3], D[:, [1, 3]], beta, means[1:3], means[[1, 3]], means[0], cl, ssc
    )
    assert got == pytest.approx(ref, rel=1e-10)


def test_collinear_control_falls_back_to_pyfixest_and_is_reported():
    df = _panel(firms=60, years=5, seed=2)
    df["c"] = pd.factorize(df["Stkcd"])[0] % 3  # constant within firm: absorbed by the firm FE
    res = estimate.regression_table(df, [SPEC], ["w", "c"], "Stkcd").set_index("term")
    assert res.loc["stat:collinear_dropped", "text"] == "c"
    ref = _rows(df, ["w"])
    np.testing.assert_allclose(res.loc[["w", "x"], "std_error"], ref.loc[["w", "x"], "std_error"], rtol=1e-8)


@pytest.mark.parametrize("controls", [["w", "s"], []])
def test_iv_statistics_equal_iv_2sls_and_ar_confidence_set(controls):
    df = _panel(firms=150, years=6, seed=7)
    stats = {r["term"]: r for r in estimate.iv_statistics(df, SPEC, controls, "Stkcd", level=0.9)}
    d = estimate.estimation_sample(df, SPEC, controls, "Stkcd")
    design = AbsorbedDesign(estimate.fe_frame(d, SPEC.fe), tol=1e-10)
    sample = inference.IVSample(
        d["y"], d["x"], d["z"], d[controls] if controls else None, design, d["Stkcd"].to_numpy()
    )
    iv = inference.iv_2sls(sample)
    ar = inference.ar_confidence_set(sample, level=0.9)
    assert stats["stat:first_stage_F"]["estimate"] == pytest.approx(iv.first_stage_F, rel=1e-12)
    assert stats["stat:effective_F"]["estimate"] == pytest.approx(iv.effective_F, rel=1e-12)
    assert stats["stat:ar_p_at_zero"]["estimate"] == pytest.approx(ar.p_at_zero, rel=1e-10)
    ((lo, hi),) = ar.intervals
    assert stats["stat:ar_ci"]["text"] == f"[{lo:.3f}, {hi:.3f}] (bounded)"
    assert ar.kind == "bounded" and lo < 0.3 < hi


def test_demeaned_columns_equal_prep():
    df = _panel(firms=50, years=5, seed=1)
    design = AbsorbedDesign(estimate.fe_frame(df, SPEC.fe), tol=1e-10)
    cols = ["y", "x", "z", "w"]
    cl, G, k_fe, A = inference.demeaned_columns(design, df["Stkcd"], [df[c] for c in cols])
    cl2, G2, k_fe2, ref = inference._prep(design, df["Stkcd"], *[df[c] for c in cols])
    assert (G, k_fe) == (G2, k_fe2) and (cl == cl2).all()
    assert A.flags.f_contiguous
    for j in range(len(cols)):
        np.testing.assert_array_equal(A[:, j], ref[j])

"""The 2SLS second stage's `_cons` of a model with fixed effects (Table 4 prints it; `estimate.fit` calls it).

With fixed effects the second stage is fitted on demeaned data without an intercept (`estimate.fit`). Its
`_cons` follows reghdfe's convention for OLS (`estimate.reghdfe_constant`): ȳ − x̄'b on the estimation sample,
and its standard error is the intercept's in the 2SLS regression of (ỹ + ȳ) on (X̃ + x̄, 1) instrumented by
(Z̃ + z̄, 1). That regression leaves the slopes, the residuals and so the slope variances unchanged; its CRV1
variance uses the same small-sample factor as the slopes (pyfixest's, rescaled to reghdfe's K as
`tidy_model` does).

`iv_constant` computes it on the N-row arrays (the reference formula); `iv_constant_moments` from the cross
products and cluster sums `estimate`'s own 2SLS has already formed, in the well-conditioned parametrisation
(X̃, 1) instrumented by (Z̃, 1): (X̃ + x̄, 1) = (X̃, 1)·T with T = [[I, 0], [x̄', 1]], and Z likewise, so the
instrument space is the same and V_(X̃+x̄,1) = T⁻¹ V_(X̃,1) T⁻ᵀ; the intercept's variance is w'V_(X̃,1) w with
w = (−x̄, 1). The raw means enter only through w, not through an ill-conditioned cross-product matrix.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

__all__ = ["iv_constant", "iv_constant_moments"]


def iv_constant(
    Y: np.ndarray,
    X: np.ndarray,
    Z: np.ndarray,
    beta: np.ndarray,
    xbar: np.ndarray,
    zbar: np.ndarray,
    ybar: float,
    cluster: np.ndarray,
    ssc: float,
) -> tuple[float, float]:
    """(_cons, its CRV1 SE) of a 2SLS model fitted on FE-demeaned data without an intercept.

    `Y`, `X`, `Z`: demeaned outcome, regressors (endogenous and exogenous) and instruments (excluded and
    exogenous); `xbar`, `zbar`, `ybar`: their means on the raw estimation sample; `beta`: the 2SLS slopes;
    `ssc`: the small-sample factor applied to the CRV1 meat (G/(G−1)·(N−1)/(N−K))."""
    Y = np.asarray(Y, dtype=float).ravel()
    X = np.atleast_2d(np.asarray(X, dtype=float).reshape(len(Y), -1))
    Z = np.atleast_2d(np.asarray(Z, dtype=float).reshape(len(Y), -1))
    beta = np.asarray(beta, dtype=float).ravel()
    cons = float(ybar - np.asarray(xbar, dtype=float) @ beta)
    ones = np.ones((len(Y), 1))
    A = np.hstack([X + xbar, ones])
    B = np.hstack([Z + zbar, ones])
    # fitted regressors P_B A; the intercept column is its own fit
    A_hat = B @ np.linalg.lstsq(B, A, rcond=None)[0]
    u = Y - X @ beta
    codes = pd.factorize(np.asarray(cluster))[0]
    scores = A_hat * u[:, None]
    meat_g = np.column_stack(
        [np.bincount(codes, weights=scores[:, j], minlength=codes.max() + 1) for j in range(scores.shape[1])]
    )
    bread = np.linalg.inv(A_hat.T @ A_hat)
    V = bread @ (meat_g.T @ meat_g) @ bread * float(ssc)
    return cons, float(np.sqrt(V[-1, -1]))


def iv_constant_moments(
    M: np.ndarray,
    sums: np.ndarray,
    n: int,
    xi: list[int],
    zi: list[int],
    beta: np.ndarray,
    means: np.ndarray,
    cluster_sums: np.ndarray,
    ssc: float,
) -> tuple[float, float]:
    """`iv_constant` from moments of the demeaned data matrix D (column 0 the outcome): `M` = D'D, `sums` its
    column sums (≈ 0), `means` the raw sample's column means, `xi` / `zi` the columns of the regressors and of
    the instruments, `cluster_sums` the G x (len(zi) + 1) cluster sums of D[:, zi]·u and of u, u = D[:, 0] −
    D[:, xi] β. Equal to `iv_constant` on the same data up to rounding (module doc)."""
    xi, zi = list(xi), list(zi)
    kx, kz = len(xi), len(zi)
    BB = np.empty((kz + 1, kz + 1))
    BB[:kz, :kz] = M[np.ix_(zi, zi)]
    BB[:kz, kz] = BB[kz, :kz] = sums[zi]
    BB[kz, kz] = n
    BA = np.empty((kz + 1, kx + 1))
    BA[:kz, :kx] = M[np.ix_(zi, xi)]
    BA[:kz, kx] = sums[zi]
    BA[kz, :kx] = sums[xi]
    BA[kz, kx] = n
    Pi = np.linalg.solve(BB, BA)
    AhAh = BA.T @ Pi
    bread = np.linalg.inv((AhAh + AhAh.T) / 2)
    Sa = cluster_sums @ Pi  # cluster sums of the fitted regressors times u
    V = bread @ (Sa.T @ Sa) @ bread * float(ssc)
    xbar = np.asarray(means, dtype=float)[xi]
    w = np.append(-xbar, 1.0)
    cons = float(means[0] - xbar @ np.asarray(beta, dtype=float))
    return cons, float(np.sqrt(w @ V @ w))

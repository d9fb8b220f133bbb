"""OLS with the CRV1 cluster-robust variance on FE-demeaned data, and the pieces every estimator of this
package shares: the small-sample factor G/(G-1) * (N-1)/(N-K), the sparse cluster-sum matrix, the collinearity
check and `_prep` (cluster codes, FE degrees of freedom and demeaned arrays for one design).
Conventions: `intelcap.econometrics.inference`, module doc.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
import scipy.sparse as sp

from intelcap import distributions
from intelcap.econometrics.absorb import AbsorbedDesign, ArrayLike, _as_2d, _factorize
from intelcap.errors import EstimationError

__all__ = [
    "OLSResult",
    "crv1_ssc",
    "ols_crv1",
]


# ----------------------------------------------------------------------------------------------
# CRV1 pieces
# ----------------------------------------------------------------------------------------------
def _cluster_matrix(codes: np.ndarray, G: int) -> sp.csr_array:
    """Sparse G x N indicator: one sparse product gives all cluster sums of many columns."""
    n = codes.shape[0]
    return sp.csr_array((np.ones(n), (codes, np.arange(n))), shape=(G, n))


def crv1_ssc(n_obs: int, k: int, n_clusters: int) -> float:
    """Small-sample factor of CRV1 (Stata/pyfixest): G/(G-1) * (N-1)/(N-K)."""
    if n_clusters < 2:
        raise EstimationError(f"cluster-robust inference needs at least 2 clusters, got {n_clusters}")
    if n_obs <= k:
        raise EstimationError(
            f"N = {n_obs} observations for K = {k} parameters: no residual degrees of freedom"
        )
    return n_clusters / (n_clusters - 1) * (n_obs - 1) / (n_obs - k)


def _t_pvalue(t: np.ndarray | float, df: int) -> np.ndarray | float:
    return 2.0 * distributions.t_sf(np.abs(t), df)


def _solve_xtx(X: np.ndarray) -> np.ndarray:
    XtX = X.T @ X
    # relative rank check: FE-demeaning can make a time-invariant control exactly zero
    d = np.sqrt(np.diag(XtX))
    if (d <= 1e-12 * max(1.0, d.max(initial=0.0))).any() or np.linalg.cond(XtX / np.outer(d, d)) > 1e12:
        raise EstimationError("regressors are collinear (after absorbing the fixed effects)")
    return np.linalg.inv(XtX)


def _clusters(design: AbsorbedDesign, cluster: ArrayLike) -> tuple[np.ndarray, int, int]:
    """Cluster codes on the estimation sample, their number G and the FE's degrees of freedom given them."""
    cl, G = _factorize(design.subset(np.asarray(cluster)))
    return cl, G, design.dof_fe(cl)


def _prep(
    design: AbsorbedDesign, cluster: ArrayLike, *arrays: ArrayLike | None
) -> tuple[np.ndarray, int, int, list[np.ndarray]]:
    cl, G, k_fe = _clusters(design, cluster)
    out = []
    for a in arrays:
        if a is None:
            out.append(np.empty((cl.shape[0], 0)))
        else:
            out.append(
                design.transform(np.asarray(a.to_numpy() if isinstance(a, pd.DataFrame) else a, dtype=float))
            )
    return cl, G, k_fe, out


# ----------------------------------------------------------------------------------------------
# OLS with CRV1
# ----------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class OLSResult:
    """Unpacks as (beta, V, se, df_resid); df_resid = N - K. Clustered t tests use t(G-1)."""

    beta: np.ndarray
    V: np.ndarray
    se: np.ndarray
    df_resid: int
    resid: np.ndarray = field(repr=False)
    n_obs: int = 0
    n_clusters: int = 0
    k: int = 0

    def __iter__(self) -> Iterator:
        return iter((self.beta, self.V, self.se, self.df_resid))

    @property
    def tstat(self) -> np.ndarray:
        return self.beta / self.se

    @property
    def pvalue(self) -> np.ndarray:
        return _t_pvalue(self.tstat, self.n_clusters - 1)


def ols_crv1(y_dm: ArrayLike, X_dm: ArrayLike, cluster: ArrayLike, k_fe: int) -> OLSResult:
    """OLS on already-demeaned data with CRV1 clustered variance (K = columns of X + k_fe)."""
    y = np.asarray(y_dm, dtype=float).ravel()
    X = _as_2d(X_dm)
    cl, G = _factorize(cluster)
    if cl.shape[0] != y.shape[0] or X.shape[0] != y.shape[0]:
        raise EstimationError("y, X and cluster must have the same number of rows")
    bread = _solve_xtx(X)
    beta = bread @ (X.T @ y)
    u = y - X @ beta
    S = _cluster_matrix(cl, G) @ (X * u[:, None])
    n, k = X.shape[0], X.shape[1] + k_fe
    V = crv1_ssc(n, k, G) * bread @ (S.T @ S) @ bread
    return OLSResult(beta, V, np.sqrt(np.diag(V)), n - k, u, n, G, k)

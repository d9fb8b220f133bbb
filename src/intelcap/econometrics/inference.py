"""Numerical inference for the fixed-effects regressions of Tables 4-6 and the robustness extension.

Everything works on numpy arrays after the fixed effects have been projected out once
(Frisch-Waugh-Lovell), so that many refits (placebos, permutations, bootstrap draws, AR grids)
cost a few dot products each instead of a new `feols` call.

Conventions (docs/methods.md#conventions):

* CRV1: V = G/(G-1) * (N-1)/(N-K) * bread * meat * bread, K = slopes + `AbsorbedDesign.dof_fe`.
  `dof_fe` copies pyfixest 0.60 `ssc(k_fixef="nonnested")`: sum of FE levels, minus (n_fe - 1)
  redundancies, minus the levels of every FE nested in the cluster variable, plus one per such FE
  (the absorbed intercept, which reghdfe also counts as `_cons`). For firm + year FE with firm
  clusters that is K = k + T, the reghdfe number. Departure from reghdfe: reghdfe counts the exact
  redundancies of the first two FEs from the connected components of their bipartite graph, pyfixest
  (and we) always subtract n_fe - 1. They differ when the graph is disconnected, e.g. firm + year x G
  FE in the fully interacted model (two components -> reghdfe K is one smaller).
* t reference distribution for clustered inference: t(G - 1), as pyfixest and reghdfe.
* Singletons are dropped iteratively (reghdfe / pyfixest default).
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from typing import Literal

import numpy as np
import pandas as pd
import scipy.sparse as sp
from scipy import stats

from intelcap.errors import EstimationError

try:  # BLAS thread control: multithreaded OpenBLAS is 5-50x slower on tall-thin products (N x 8)' (N x m)
    from threadpoolctl import threadpool_limits as _threadpool_limits
except ImportError:  # pragma: no cover - optional dependency
    _threadpool_limits = None

try:  # pyfixest's Rust MAP demeaner is ~10x faster than numpy; fall back if it moves.
    from pyfixest.core.demean import demean as _pf_demean
except ImportError:  # pragma: no cover - depends on the installed pyfixest
    _pf_demean = None

ArrayLike = np.ndarray | pd.Series | pd.DataFrame | Sequence[float]

__all__ = [
    "AbsorbedDesign",
    "OLSResult",
    "ols_crv1",
    "crv1_ssc",
    "FastRefit",
    "RefitResult",
    "IVResult",
    "iv_2sls",
    "ARResult",
    "ar_confidence_set",
    "quadratic_set",
    "WildBootResult",
    "wild_cluster_bootstrap",
    "bootstrap_weights",
    "AKMResult",
    "akm_se",
    "residualize",
    "DiffResult",
    "interacted_difference",
    "PermutationResult",
    "permutation_difference",
    "PlaceboResult",
    "placebo_coefficients",
    "placebo_pvalue",
]


# ----------------------------------------------------------------------------------------------
# small helpers
# ----------------------------------------------------------------------------------------------
def _factorize(a: ArrayLike) -> tuple[np.ndarray, int]:
    codes, uniques = pd.factorize(pd.Series(np.asarray(a)), sort=True)
    if (codes < 0).any():
        raise EstimationError("missing values in an id / cluster / fixed-effect variable; drop those rows first")
    return codes.astype(np.int64), len(uniques)


def _as_2d(a: ArrayLike | None, n: int | None = None) -> np.ndarray:
    if a is None:
        return np.empty((n or 0, 0))
    arr = np.asarray(a, dtype=float)
    if arr.ndim == 1:
        arr = arr[:, None]
    return arr


def _one_blas_thread():
    """Context: single-threaded BLAS (tall-thin products are memory-bound; threads only contend)."""
    if _threadpool_limits is None:  # pragma: no cover
        from contextlib import nullcontext

        return nullcontext()
    return _threadpool_limits(limits=1, user_api="blas")


def _cluster_matrix(codes: np.ndarray, G: int) -> sp.csr_array:
    """Sparse G x N indicator: one sparse product gives all cluster sums of many columns."""
    n = codes.shape[0]
    return sp.csr_array((np.ones(n), (codes, np.arange(n))), shape=(G, n))


def crv1_ssc(n_obs: int, k: int, n_clusters: int) -> float:
    """Small-sample factor of CRV1 (Stata/pyfixest): G/(G-1) * (N-1)/(N-K)."""
    if n_clusters < 2:
        raise EstimationError(f"cluster-robust inference needs at least 2 clusters, got {n_clusters}")
    if n_obs <= k:
        raise EstimationError(f"N = {n_obs} observations for K = {k} parameters: no residual degrees of freedom")
    return n_clusters / (n_clusters - 1) * (n_obs - 1) / (n_obs - k)


def _t_pvalue(t: np.ndarray | float, df: int) -> np.ndarray | float:
    return 2.0 * stats.t.sf(np.abs(t), df)


def _drop_singletons(codes: np.ndarray) -> np.ndarray:
    """Iterative singleton removal across all FE columns (reghdfe): a drop can create new singletons."""
    keep = np.ones(codes.shape[0], dtype=bool)
    while True:
        changed = False
        for j in range(codes.shape[1]):
            c = codes[keep, j]
            counts = np.bincount(c)
            single = counts[c] == 1
            if single.any():
                idx = np.flatnonzero(keep)
                keep[idx[single]] = False
                changed = True
        if not changed:
            return keep


# ----------------------------------------------------------------------------------------------
# 1. absorbed fixed effects
# ----------------------------------------------------------------------------------------------
class AbsorbedDesign:
    """Fixed effects absorbed once; `.demean` applies the within projection to any columns.

    Parameters
    ----------
    fe : DataFrame / 2-D array of FE identifiers (one column per FE), a 1-D array for one FE, or
        None for "intercept only" (then demeaning is centering and `dof_fe` = 1, the intercept).
    weights : analytic weights (pyfixest `weights=`), or None.
    drop_singletons : iterative singleton removal, as reghdfe and pyfixest.
    tol : convergence tolerance of alternating projections, relative to each column's max |value|.
    """

    def __init__(
        self,
        fe: pd.DataFrame | np.ndarray | None,
        weights: ArrayLike | None = None,
        drop_singletons: bool = True,
        tol: float = 1e-10,
        maxiter: int = 100_000,
    ) -> None:
        if fe is None:
            self.n_input = None if weights is None else len(np.asarray(weights))
            raw = None
        else:
            raw = fe.to_numpy() if isinstance(fe, pd.DataFrame) else np.asarray(fe)
            if raw.ndim == 1:
                raw = raw[:, None]
            self.n_input = raw.shape[0]
        self.fe_names = list(fe.columns) if isinstance(fe, pd.DataFrame) else None
        self.tol = tol
        self.maxiter = maxiter
        if raw is None:
            self.n_fe = 0
            self._codes = np.empty((self.n_input or 0, 0), dtype=np.int64)
            self.keep = None if self.n_input is None else np.ones(self.n_input, dtype=bool)
        else:
            codes = np.column_stack([_factorize(raw[:, j])[0] for j in range(raw.shape[1])])
            keep = _drop_singletons(codes) if drop_singletons else np.ones(codes.shape[0], dtype=bool)
            if not keep.any():
                raise EstimationError("every observation is a singleton in some fixed effect")
            # re-code after the drop so that level counts are those of the estimation sample
            self._codes = np.column_stack(
                [_factorize(codes[keep, j])[0] for j in range(codes.shape[1])]
            ).astype(np.int64)
            self.keep = keep
            self.n_fe = codes.shape[1]
        self.n_levels = [int(self._codes[:, j].max()) + 1 for j in range(self.n_fe)]
        self._flist = np.ascontiguousarray(self._codes, dtype=np.uint64)
        self.weights = None if weights is None else self.subset(np.asarray(weights, dtype=float))
        if self.weights is not None and (self.weights <= 0).any():
            raise EstimationError("weights must be strictly positive")

    # -- sample -----------------------------------------------------------------------------
    @property
    def n_obs(self) -> int | None:
        return None if self.keep is None else int(self.keep.sum())

    @property
    def n_singletons(self) -> int:
        return 0 if self.keep is None else int((~self.keep).sum())

    @property
    def codes(self) -> np.ndarray:
        """FE codes (0..levels-1) on the estimation sample."""
        return self._codes

    def subset(self, a: ArrayLike) -> np.ndarray:
        """Rows of `a` on the estimation sample; accepts input-length or already-subset arrays."""
        arr = a.to_numpy() if isinstance(a, (pd.Series, pd.DataFrame)) else np.asarray(a)
        if self.keep is None:
            return arr
        if arr.shape[0] == self.n_input:
            return arr[self.keep]
        if arr.shape[0] == self.n_obs:
            return arr
        raise EstimationError(
            f"array has {arr.shape[0]} rows; expected {self.n_input} (input) or {self.n_obs} (after singletons)"
        )

    # -- projections ------------------------------------------------------------------------
    def demean(self, M: ArrayLike) -> np.ndarray:
        """Within transform (weighted if weights were given) of every column of M."""
        A = np.asarray(self.subset(M), dtype=float)
        one_d = A.ndim == 1
        A = _as_2d(A)
        if not np.isfinite(A).all():
            raise EstimationError("non-finite values in a regression variable; drop or impute them first")
        w = self.weights if self.weights is not None else np.ones(A.shape[0])
        if self.n_fe == 0:
            out = A - (w @ A) / w.sum()
        else:
            # scaling makes pyfixest's absolute convergence criterion a relative one
            scale = np.abs(A).max(axis=0)
            scale[scale == 0] = 1.0
            out = self._map(A / scale, w) * scale
        return out[:, 0] if one_d else out

    def _map(self, A: np.ndarray, w: np.ndarray) -> np.ndarray:
        if _pf_demean is not None:
            out, ok = _pf_demean(np.ascontiguousarray(A), self._flist, w, self.tol, self.maxiter)
            if not ok:
                raise EstimationError(f"fixed-effect demeaning did not converge in {self.maxiter} iterations")
            return np.asarray(out)
        return self._map_numpy(A, w)  # pragma: no cover

    def _map_numpy(self, A: np.ndarray, w: np.ndarray) -> np.ndarray:
        out = A.copy()
        wsum = [np.bincount(self._codes[:, j], weights=w) for j in range(self.n_fe)]
        for _ in range(self.maxiter):
            prev = out.copy()
            for j in range(self.n_fe):
                c = self._codes[:, j]
                for col in range(out.shape[1]):
                    out[:, col] -= (np.bincount(c, weights=w * out[:, col]) / wsum[j])[c]
            if np.abs(out - prev).max() < self.tol:
                return out
        raise EstimationError("fixed-effect demeaning did not converge")

    @property
    def sqrt_w(self) -> np.ndarray | float:
        return 1.0 if self.weights is None else np.sqrt(self.weights)

    def transform(self, M: ArrayLike) -> np.ndarray:
        """Demeaned and multiplied by sqrt(weights): OLS on transformed data = WLS with the FE."""
        out = self.demean(M)
        if self.weights is None:
            return out
        return out * (self.sqrt_w if out.ndim == 1 else self.sqrt_w[:, None])

    # -- degrees of freedom -----------------------------------------------------------------
    def nested_in(self, cluster: ArrayLike) -> list[bool]:
        """Which FE have every level inside a single cluster."""
        cl, _ = _factorize(self.subset(cluster))
        out = []
        for j in range(self.n_fe):
            # O(N): store one cluster per level (any of them); nested iff every row agrees with it
            c = self._codes[:, j]
            rep = np.empty(self.n_levels[j], dtype=cl.dtype)
            rep[c] = cl
            out.append(bool((rep[c] == cl).all()))
        return out

    def dof_fe(self, cluster: ArrayLike | None = None) -> int:
        """FE degrees of freedom added to K (pyfixest 0.60 `k_fixef="nonnested"`, see module doc)."""
        if self.n_fe == 0:
            return 1  # the intercept
        k = sum(self.n_levels) - (self.n_fe - 1)
        if cluster is None:
            return k
        nested = self.nested_in(cluster)
        if any(nested):
            k = k - sum(lv for lv, f in zip(self.n_levels, nested, strict=True) if f) + sum(nested)
        return k


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


def _solve_xtx(X: np.ndarray) -> np.ndarray:
    XtX = X.T @ X
    # relative rank check: FE-demeaning can make a time-invariant control exactly zero
    d = np.sqrt(np.diag(XtX))
    if (d <= 1e-12 * max(1.0, d.max(initial=0.0))).any() or np.linalg.cond(XtX / np.outer(d, d)) > 1e12:
        raise EstimationError("regressors are collinear (after absorbing the fixed effects)")
    return np.linalg.inv(XtX)


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


# ----------------------------------------------------------------------------------------------
# FastRefit: many regressors / many outcomes against fixed controls
# ----------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class RefitResult:
    coef: np.ndarray
    se: np.ndarray

    @property
    def tstat(self) -> np.ndarray:
        return self.coef / self.se


class FastRefit:
    """Coefficient and CRV1 SE of one regressor, refitted many times with the same controls W.

    By FWL the coefficient of x in y ~ x + W is x'y_perp / x'x_perp (perp = residual on W), the
    full-model residual is y_perp - b x_perp, and the x-row of (X'X)^-1 X' is x_perp'/x_perp'x_perp,
    so Var(b) = ssc * sum_g (x_perp_g' u_g)^2 / (x_perp'x_perp)^2. W is orthonormalised once (QR);
    each refit is then O(N p) plus one sparse cluster-sum, vectorised over columns.
    All inputs are on the estimation sample and already FE-demeaned.
    """

    def __init__(
        self,
        W_dm: ArrayLike | None,
        cluster: ArrayLike,
        k_fe: int,
        chunk_mb: float = 128.0,
    ) -> None:
        self.cl, self.G = _factorize(cluster)
        self.n = self.cl.shape[0]
        W = _as_2d(W_dm, self.n)
        if W.shape[0] != self.n:
            raise EstimationError("W and cluster must have the same number of rows")
        self.p = W.shape[1]
        if self.p:
            with _one_blas_thread():
                _solve_xtx(W)  # raises on collinear controls
                self.Q, _ = np.linalg.qr(W, mode="reduced")
        else:
            self.Q = np.empty((self.n, 0))
        # rows sorted by cluster (placebo fast path sorts by firm): contiguous segment sums, no sparse product
        self._starts = None
        if self.n and (np.diff(self.cl) >= 0).all():
            self._starts = np.flatnonzero(np.r_[True, self.cl[1:] != self.cl[:-1]])
        self.C = None if self._starts is not None else _cluster_matrix(self.cl, self.G)
        self.ssc = crv1_ssc(self.n, 1 + self.p + k_fe, self.G)
        self.chunk = max(1, int(chunk_mb * 2**20 / (8 * self.n)))

    def cluster_sums(self, E: np.ndarray) -> np.ndarray:
        """G x m cluster sums of the columns of E."""
        if self._starts is not None:
            return np.add.reduceat(E, self._starts, axis=0)
        return self.C @ E

    def partial(self, A: np.ndarray, overwrite: bool = False) -> np.ndarray:
        """Residual on W of each column (in place when `overwrite` and A is a writable float array)."""
        if not self.p:
            return A
        # single-threaded BLAS: multithreaded OpenBLAS is 5-50x slower on these tall-skinny products
        with _one_blas_thread():
            C = self.Q.T @ A
            if overwrite and A.flags.writeable and A.dtype == float:
                A -= self.Q @ C
                return A
            return A - self.Q @ C

    def _fit_block(self, Xp: np.ndarray, Yp: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        xx = np.einsum("ij,ij->j", Xp, Xp)
        if (xx <= 1e-14 * np.maximum(1.0, np.einsum("ij,ij->j", Yp, Yp))).any():
            raise EstimationError("a refitted regressor has no variation left after FE and controls")
        b = np.einsum("ij,ij->j", Xp, Yp) / xx
        E = Xp * b
        np.subtract(Yp, E, out=E)  # residuals, in place to bound memory
        E *= Xp  # scores
        S = self.cluster_sums(E)
        se = np.sqrt(self.ssc * np.einsum("gj,gj->j", S, S)) / xx
        return b, se

    def fit_rows(self, y_p: np.ndarray, Xt: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """y ~ x_r + W for every ROW x_r of Xt (m x N, demeaned; overwritten). y_p = partial(y)."""
        if self.p:
            with _one_blas_thread():
                C = Xt @ self.Q  # m x p
                Xt -= C @ self.Q.T
        xx = np.einsum("ij,ij->i", Xt, Xt)
        if (xx <= 1e-14 * max(1.0, float(y_p @ y_p))).any():
            raise EstimationError("a refitted regressor has no variation left after FE and controls")
        with _one_blas_thread():
            b = (Xt @ y_p) / xx
        E = Xt * b[:, None]
        np.subtract(y_p, E, out=E)  # residuals
        E *= Xt  # scores
        if self._starts is not None:
            S = np.add.reduceat(E, self._starts, axis=1)
        else:
            S = (self.C @ E.T).T
        se = np.sqrt(self.ssc * np.einsum("ij,ij->i", S, S)) / xx
        return b, se

    def fit_many_x(self, y_dm: ArrayLike, X_alt: ArrayLike, overwrite: bool = False) -> RefitResult:
        """y ~ x_r + W for every column x_r of X_alt (demeaned). `overwrite`: X_alt may be used as scratch."""
        yp = self.partial(np.asarray(y_dm, dtype=float).reshape(-1, 1))
        X = _as_2d(X_alt)
        b, s = [], []
        for j0 in range(0, X.shape[1], self.chunk):
            Xp = self.partial(X[:, j0 : j0 + self.chunk], overwrite=overwrite)
            bj, sj = self._fit_block(Xp, np.broadcast_to(yp, Xp.shape))
            b.append(bj)
            s.append(sj)
        return RefitResult(np.concatenate(b), np.concatenate(s))

    def fit_many_y(self, Y_alt: ArrayLike, x_dm: ArrayLike) -> RefitResult:
        """y_r ~ x + W for every column y_r of Y_alt (demeaned)."""
        xp = self.partial(np.asarray(x_dm, dtype=float).reshape(-1, 1))
        Y = _as_2d(Y_alt)
        b, s = [], []
        for j0 in range(0, Y.shape[1], self.chunk):
            Yp = self.partial(Y[:, j0 : j0 + self.chunk])
            bj, sj = self._fit_block(np.repeat(xp, Yp.shape[1], axis=1), Yp)
            b.append(bj)
            s.append(sj)
        return RefitResult(np.concatenate(b), np.concatenate(s))


# ----------------------------------------------------------------------------------------------
# 2. 2SLS with absorbed FE
# ----------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class IVResult:
    beta: float  # coefficient of the endogenous regressor
    se: float
    coef: np.ndarray  # [endogenous, W...]
    V: np.ndarray
    first_stage_coef: float
    first_stage_se: float
    first_stage_F: float  # cluster-robust Wald F = KP rk Wald F (one instrument, one endogenous)
    first_stage_p: float
    effective_F: float  # Olea-Pflueger, pyfixest formula; equals first_stage_F with one instrument
    n_obs: int
    n_clusters: int
    k: int

    @property
    def pvalue(self) -> float:
        return float(_t_pvalue(self.beta / self.se, self.n_clusters - 1))


def _prep(
    design: AbsorbedDesign, cluster: ArrayLike, *arrays: ArrayLike | None
) -> tuple[np.ndarray, int, int, list[np.ndarray]]:
    cl = design.subset(np.asarray(cluster))
    cl, G = _factorize(cl)
    k_fe = design.dof_fe(cl)
    out = []
    for a in arrays:
        if a is None:
            out.append(np.empty((cl.shape[0], 0)))
        else:
            out.append(design.transform(np.asarray(a.to_numpy() if isinstance(a, pd.DataFrame) else a, dtype=float)))
    return cl, G, k_fe, out


def iv_2sls(
    y: ArrayLike,
    x_endog: ArrayLike,
    z: ArrayLike,
    W: ArrayLike | None,
    fe_design: AbsorbedDesign,
    cluster: ArrayLike,
) -> IVResult:
    """Just-identified 2SLS with absorbed FE and CRV1 (pyfixest / ivreghdfe small-sample factor).

    V = ssc * (X'PzX)^-1 sum_g Xhat_g'u_g u_g'Xhat_g (X'PzX)^-1, Xhat = Pz X, u = y - X b (structural
    residual), ssc with K = 1 + p + dof_fe. First stage x ~ z + W + FE with the same CRV1.
    """
    cl, G, k_fe, (yd, xd, zd, Wd) = _prep(fe_design, cluster, y, x_endog, z, W)
    xd, zd, Wd = _as_2d(xd), _as_2d(zd), _as_2d(Wd, yd.shape[0])
    if zd.shape[1] != 1 or xd.shape[1] != 1:
        raise EstimationError("iv_2sls handles one endogenous regressor and one instrument")
    X = np.hstack([xd, Wd])
    Z = np.hstack([zd, Wd])
    n = X.shape[0]
    ZZinv = _solve_xtx(Z)
    Xhat = Z @ (ZZinv @ (Z.T @ X))
    bread = _solve_xtx(Xhat)
    beta = bread @ (Xhat.T @ yd)
    u = yd - X @ beta
    C = _cluster_matrix(cl, G)
    S = C @ (Xhat * u[:, None])
    k = X.shape[1] + k_fe
    V = crv1_ssc(n, k, G) * bread @ (S.T @ S) @ bread
    fs = ols_crv1(xd[:, 0], Z, cl, k_fe)
    F = float((fs.beta[0] / fs.se[0]) ** 2)
    # Olea-Pflueger as pyfixest computes it: Q_zz from the FE-demeaned instrument (not W-partialled);
    # with one instrument Q_zz cancels and F_eff = F exactly.
    Qzz = zd.T @ zd
    pi = fs.beta[:1]
    eff = float(pi @ Qzz @ pi / np.trace(fs.V[:1, :1] @ Qzz))
    return IVResult(
        beta=float(beta[0]),
        se=float(np.sqrt(V[0, 0])),
        coef=beta,
        V=V,
        first_stage_coef=float(fs.beta[0]),
        first_stage_se=float(fs.se[0]),
        first_stage_F=F,
        first_stage_p=float(stats.f.sf(F, 1, G - 1)),
        effective_F=eff,
        n_obs=n,
        n_clusters=G,
        k=k,
    )


# ----------------------------------------------------------------------------------------------
# 3. Anderson-Rubin confidence set
# ----------------------------------------------------------------------------------------------
Kind = Literal["bounded", "union_of_rays", "real_line", "empty"]


def quadratic_set(a: float, b: float, c: float, rtol: float = 1e-12) -> tuple[list[tuple[float, float]], Kind]:
    """{t : a t^2 + b t + c <= 0} as a list of closed intervals (with +-inf) and its kind."""
    scale = max(abs(a), abs(b), abs(c), 1e-300)
    inf = float("inf")
    if abs(a) <= rtol * scale:  # degenerate: linear
        if abs(b) <= rtol * scale:
            return ([(-inf, inf)], "real_line") if c <= 0 else ([], "empty")
        r = -c / b
        return ([(-inf, r)] if b > 0 else [(r, inf)]), "union_of_rays"
    disc = b * b - 4 * a * c
    if disc < 0:
        return ([], "empty") if a > 0 else ([(-inf, inf)], "real_line")
    sq = np.sqrt(disc)
    # numerically stable roots
    q = -0.5 * (b + np.copysign(sq, b))
    r1, r2 = sorted([q / a, c / q if q != 0 else -b / (2 * a)])
    if a > 0:
        return [(float(r1), float(r2))], "bounded"
    return [(-inf, float(r1)), (float(r2), inf)], "union_of_rays"


@dataclass(frozen=True)
class ARResult:
    intervals: list[tuple[float, float]]
    kind: Kind
    stat_at_zero: float
    p_at_zero: float
    crit: float = float("nan")
    level: float = 0.95
    dist: str = "chi2"
    _num: tuple[float, float, float] = field(default=(0.0, 0.0, 0.0), repr=False)
    _den: tuple[float, float, float] = field(default=(0.0, 0.0, 0.0), repr=False)
    _df: int = field(default=1, repr=False)

    def stat(self, beta0: float | np.ndarray) -> np.ndarray:
        """AR statistic at beta0 (ratio of two quadratics)."""
        b = np.asarray(beta0, dtype=float)
        n0, n1, n2 = self._num
        d0, d1, d2 = self._den
        return (n0 + n1 * b + n2 * b * b) / (d0 + d1 * b + d2 * b * b)

    def pvalue(self, beta0: float | np.ndarray) -> np.ndarray:
        s = self.stat(beta0)
        return stats.chi2.sf(s, 1) if self.dist == "chi2" else stats.f.sf(s, 1, self._df)

    def contains(self, beta0: float) -> bool:
        return any(lo <= beta0 <= hi for lo, hi in self.intervals)


def ar_confidence_set(
    y: ArrayLike,
    x_endog: ArrayLike,
    z: ArrayLike,
    W: ArrayLike | None,
    fe_design: AbsorbedDesign,
    cluster: ArrayLike,
    level: float = 0.95,
    dist: Literal["chi2", "f"] = "chi2",
) -> ARResult:
    """Cluster-robust Anderson-Rubin set for one endogenous regressor and one instrument.

    AR(b0) = Wald statistic (CRV1, K = 1 + p + dof_fe) of gamma = 0 in (y - b0 x) ~ z + W + FE.
    With z_perp = z residualised on W and e_y, e_x the residuals of y and x on (z, W):
        gamma(b0) = (z_perp'y - b0 z_perp'x) / z_perp'z_perp,
        score_g(b0) = z_perp_g'e_y,g - b0 z_perp_g'e_x,g,
    so AR(b0) * D(b0) = N(b0) with quadratics N, D and {AR <= crit} is N - crit*D <= 0: solved
    exactly. The leading coefficient is positive iff the first-stage robust F exceeds crit, hence a
    bounded set iff the instrument is "strong" at that level. crit = chi2_1 (ivreg2/weakiv) or
    F(1, G-1) (pyfixest's t(G-1) convention).
    """
    cl, G, k_fe, (yd, xd, zd, Wd) = _prep(fe_design, cluster, y, x_endog, z, W)
    Wd = _as_2d(Wd, yd.shape[0])
    zd = np.asarray(zd, dtype=float).reshape(-1)
    xd = np.asarray(xd, dtype=float).reshape(-1)
    n = yd.shape[0]
    ZW = np.column_stack([zd, Wd])
    _solve_xtx(ZW)
    if Wd.shape[1]:
        Qw, _ = np.linalg.qr(Wd, mode="reduced")
        zp = zd - Qw @ (Qw.T @ zd)
    else:
        zp = zd
    Qzw, _ = np.linalg.qr(ZW, mode="reduced")
    ey = yd - Qzw @ (Qzw.T @ yd)
    ex = xd - Qzw @ (Qzw.T @ xd)
    zz = zp @ zp
    a1, a2 = zp @ yd / zz, zp @ xd / zz
    C = _cluster_matrix(cl, G)
    p = C @ (zp * ey)
    q = C @ (zp * ex)
    ssc = crv1_ssc(n, 1 + Wd.shape[1] + k_fe, G)
    # AR(b) = zz^2 (a1 - b a2)^2 / (ssc * sum_g (p_g - b q_g)^2)
    num = (zz**2 * a1 * a1, -2 * zz**2 * a1 * a2, zz**2 * a2 * a2)
    den = (ssc * (p @ p), -2 * ssc * (p @ q), ssc * (q @ q))
    crit = float(stats.chi2.ppf(level, 1) if dist == "chi2" else stats.f.ppf(level, 1, G - 1))
    coefs = [num[i] - crit * den[i] for i in range(3)]
    intervals, kind = quadratic_set(coefs[2], coefs[1], coefs[0])
    s0 = num[0] / den[0]
    p0 = float(stats.chi2.sf(s0, 1) if dist == "chi2" else stats.f.sf(s0, 1, G - 1))
    return ARResult(intervals, kind, float(s0), p0, crit, level, dist, num, den, G - 1)


# ----------------------------------------------------------------------------------------------
# 4. wild cluster restricted bootstrap
# ----------------------------------------------------------------------------------------------
_WEBB = np.array([-np.sqrt(1.5), -1.0, -np.sqrt(0.5), np.sqrt(0.5), 1.0, np.sqrt(1.5)])


def bootstrap_weights(
    G: int, B: int, kind: Literal["rademacher", "webb"] = "rademacher", seed: int | None = None,
    enumerate_all: bool = True,
) -> tuple[np.ndarray, bool]:
    """G x B' matrix of cluster weights; all 2^G Rademacher sign vectors when 2^G <= B."""
    if kind == "rademacher" and enumerate_all and G < 31 and 2**G <= B:
        v = ((np.arange(2**G)[None, :] >> np.arange(G)[:, None]) & 1) * 2.0 - 1.0
        return v, True
    rng = np.random.default_rng(seed)
    if kind == "rademacher":
        return rng.choice(np.array([-1.0, 1.0]), size=(G, B)), False
    if kind == "webb":
        return rng.choice(_WEBB, size=(G, B)), False
    raise ValueError(f"unknown bootstrap weights {kind!r}")


@dataclass(frozen=True)
class WildBootResult:
    coef: float
    t_stat: float  # CRV1 t of (coef - h0)
    p_value: float  # share of |t*| >= |t|
    h0: float
    ci: tuple[float, float] | None
    n_boot: int
    enumerated: bool
    t_boot: np.ndarray = field(repr=False)
    weights: np.ndarray = field(repr=False)


class _WCRCore:
    """Pre-computed pieces of the WCR bootstrap t*(h0), linear in h0 (Roodman et al. 2019 algebra).

    Bootstrap DGP: y* = restricted fit + v_g * u_r, re-estimated with the FE (= demeaning y*). With
    z = x_perp / x_perp'x_perp and D the FE projection:
        b* - h0 = sum_h v_h z_h'u_r,h,
        cluster score of b* in cluster g: q_g = sum_h v_h Q_gh,
        Q_gh = z_g'[D(u_r 1_h)]_g - (X_g'z_g)'(X'X)^-1 (X_h'u_r,h).
    When every FE is nested in the clusters D(u_r 1_h) = u_r 1_h (block diagonal, no N x G work);
    otherwise D is applied to the G columns u_r 1_h once (memory N x G).
    u_r(h0) = M_W y - h0 M_W x, so every piece is affine in h0 and test inversion is cheap.
    """

    def __init__(self, yd: np.ndarray, X: np.ndarray, cl: np.ndarray, G: int, ssc: float,
                 design: AbsorbedDesign, nested: bool) -> None:
        n = X.shape[0]
        self.ssc = ssc
        x, Wd = X[:, 0], X[:, 1:]
        if Wd.shape[1]:
            Qw, _ = np.linalg.qr(Wd, mode="reduced")
            perp = lambda a: a - Qw @ (Qw.T @ a)  # noqa: E731
        else:
            perp = lambda a: a  # noqa: E731
        xp = perp(x)
        z = xp / (xp @ xp)
        A = _solve_xtx(X)
        C = _cluster_matrix(cl, G)
        self.beta = float(z @ yd)
        resid = yd - X @ (A @ (X.T @ yd))
        s = C @ (X * resid[:, None])
        self.se = float(np.sqrt(ssc * ((s @ (A[:, 0])) ** 2).sum()))
        F = C @ (X * z[:, None])  # G x k rows X_g'z_g
        FA = F @ A
        self.parts = []
        for u in (perp(yd), perp(x)):  # u_r(h0) = ua - h0 ub
            num = C @ (z * u)
            S = C @ (X * u[:, None])  # G x k rows X_h'u_h
            if nested:
                Q1 = np.diag(num)
            else:
                if n * G > 2e8:
                    raise EstimationError(
                        f"wild bootstrap with FE not nested in {G} clusters needs an N x G matrix ({n}x{G}); "
                        "cluster more coarsely or nest the FE in the clusters"
                    )
                Uh = sp.csc_array((u, (np.arange(n), cl)), shape=(n, G)).toarray()
                Q1 = C @ (design.demean(Uh) * z[:, None])
            self.parts.append((num, Q1 - FA @ S.T))

    def tstar(self, h0: float, V: np.ndarray) -> np.ndarray:
        (na, Qa), (nb, Qb) = self.parts
        num = (na - h0 * nb) @ V
        q = (Qa - h0 * Qb) @ V
        return num / np.sqrt(self.ssc * np.einsum("gb,gb->b", q, q))

    def t(self, h0: float) -> float:
        return (self.beta - h0) / self.se

    def pvalue(self, h0: float, V: np.ndarray) -> float:
        return float(np.mean(np.abs(self.tstar(h0, V)) >= abs(self.t(h0)) * (1 - 1e-12)))


def wild_cluster_bootstrap(
    y: ArrayLike,
    x: ArrayLike,
    W: ArrayLike | None,
    fe_design: AbsorbedDesign,
    cluster: ArrayLike,
    param: str | int = "x",
    h0: float = 0.0,
    B: int = 9999,
    weights: Literal["rademacher", "webb"] = "rademacher",
    seed: int | None = None,
    ci: bool = False,
    level: float = 0.95,
    enumerate_all: bool = True,
) -> WildBootResult:
    """Wild cluster restricted (null imposed) bootstrap-t for one coefficient, symmetric p-value.

    `param` = "x" (the coefficient of x), or a column name / integer index of W (then that column
    takes x's role and x becomes a control). Rademacher weights are fully enumerated when 2^G <= B.
    `ci=True` inverts the test by bisection on h0 with the same weight draws.
    """
    if fe_design.weights is not None:
        raise EstimationError("wild_cluster_bootstrap does not support regression weights")
    cl, G, k_fe, (yd, xd, Wd) = _prep(fe_design, cluster, y, x, W)
    Wd = _as_2d(Wd, yd.shape[0])
    X = np.column_stack([xd, Wd])
    if param != "x":
        names = list(W.columns) if isinstance(W, pd.DataFrame) else []
        j = 1 + (names.index(param) if isinstance(param, str) else int(param))
        X = X[:, [j] + [i for i in range(X.shape[1]) if i != j]]
    nested = all(fe_design.nested_in(cl)) if fe_design.n_fe else False
    ssc = crv1_ssc(X.shape[0], X.shape[1] + k_fe, G)
    core = _WCRCore(yd, X, cl, G, ssc, fe_design, nested)
    V, enumerated = bootstrap_weights(G, B, weights, seed, enumerate_all)
    tb = core.tstar(h0, V)
    p = float(np.mean(np.abs(tb) >= abs(core.t(h0)) * (1 - 1e-12)))
    interval = _invert(core, V, 1 - level) if ci else None
    return WildBootResult(core.beta, float(core.t(h0)), p, h0, interval, V.shape[1], enumerated, tb, V)


def _invert(core: _WCRCore, V: np.ndarray, alpha: float) -> tuple[float, float]:
    """Bootstrap CI {h0: p(h0) > alpha} by bisection from the estimate outwards."""
    b, se = core.beta, core.se

    def bound(direction: float) -> float:
        inner, step = b, 2.0 * se
        outer = b + direction * step
        for _ in range(60):  # widen until rejected
            if core.pvalue(outer, V) <= alpha:
                break
            inner, step = outer, step * 2
            outer = b + direction * step
        else:
            return direction * float("inf")
        for _ in range(100):
            mid = 0.5 * (inner + outer)
            if core.pvalue(mid, V) > alpha:
                inner = mid
            else:
                outer = mid
            if abs(outer - inner) <= 1e-10 * max(1.0, abs(b), se):
                break
        return 0.5 * (inner + outer)

    return bound(-1.0), bound(1.0)


# ----------------------------------------------------------------------------------------------
# 5. shift-share (AKM) standard errors
# ----------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class AKMResult:
    beta: float
    se_akm: float
    p_akm: float
    ci_akm: tuple[float, float]
    se_akm0: float  # at beta0, null imposed
    p_akm0: float
    ci_akm0: list[tuple[float, float]]
    ci_akm0_kind: Kind
    beta0: float
    n_shocks: int


def residualize(
    fe_design: AbsorbedDesign, W: ArrayLike | None, *arrays: ArrayLike
) -> list[np.ndarray]:
    """FE-demean and partial W out of each array (the 'double dot' variables of AKM)."""
    Wd = None if W is None else _as_2d(fe_design.demean(np.asarray(W, dtype=float)))
    out = []
    Q = np.linalg.qr(Wd, mode="reduced")[0] if Wd is not None and Wd.shape[1] else None
    for a in arrays:
        d = fe_design.demean(np.asarray(a, dtype=float))
        out.append(d if Q is None else d - Q @ (Q.T @ d))
    return out


def akm_se(
    y_res_dm: ArrayLike,
    x_dm: ArrayLike,
    shares: ArrayLike | sp.sparray,
    *,
    shock_cluster: ArrayLike | None = None,
    beta0: float = 0.0,
    alpha: float = 0.05,
) -> AKMResult:
    """Adao-Kolesar-Morales (2019) shift-share SE, as in their R package ShiftShareSE (`reg_ss`).

    Inputs are residualised on all controls and FE (y_res_dm = Y.., x_dm = X..). `shares` is an
    N x S share matrix (dense or scipy sparse) or a 1-D array of shock ids (each unit fully exposed to
    one shock: here shock = IFR industry x year). With X^_s the coefficients of X.. on the shares,
    R_s = sum_i s_is u_i (u = OLS residual) and RX = sum_i X..^2:
        se_AKM^2 = sum_s (X^_s R_s)^2 / RX^2       (shocks grouped by `shock_cluster` are summed first)
    AKM0 replaces u by the null-imposed residual Y.. - beta0 X..; its CI is the quadratic inequality
    (b - beta)^2 RX^2 <= z^2 sum_s (X^_s (R_s + (beta - b) W_s))^2, W_s = X^_s sum_i s_is X.._i.
    For 0/1 one-shock-per-unit shares and X.. constant within shock cells (balanced panel, no extra
    controls) se_AKM equals the CRV0 SE clustered by shock and BHJ's shock-level regression SE.
    No small-sample factor and normal critical values, as in ShiftShareSE.
    """
    Y = np.asarray(y_res_dm, dtype=float).ravel()
    X = np.asarray(x_dm, dtype=float).ravel()
    if sp.issparse(shares) or np.asarray(shares).ndim == 2:
        S = sp.csr_array(shares) if sp.issparse(shares) else sp.csr_array(np.asarray(shares, dtype=float))
    else:
        codes, n_s = _factorize(shares)
        S = sp.csr_array((np.ones(codes.shape[0]), (np.arange(codes.shape[0]), codes)), shape=(len(codes), n_s))
    RX = X @ X
    beta = float(X @ Y / RX)
    u = Y - beta * X
    StS = (S.T @ S).toarray()
    hX = np.linalg.lstsq(StS, S.T @ X, rcond=None)[0]
    cR = hX * (S.T @ u)
    cR0 = hX * (S.T @ (Y - beta0 * X))
    cW = hX * (S.T @ X)
    if shock_cluster is not None:
        sc, n_c = _factorize(shock_cluster)
        agg = _cluster_matrix(sc, n_c)
        cR, cR0, cW = agg @ cR, agg @ cR0, agg @ cW
    se = float(np.sqrt(cR @ cR) / RX)
    se0 = float(np.sqrt(cR0 @ cR0) / RX)
    z = float(stats.norm.ppf(1 - alpha / 2))
    # AKM0 set in b: (beta - b)^2 RX^2 - z^2 sum (cR + (beta - b) cW)^2 <= 0; put d = beta - b
    a2 = RX**2 - z**2 * (cW @ cW)
    a1 = -2 * z**2 * (cR @ cW)
    a0 = -(z**2) * (cR @ cR)
    dset, kind = quadratic_set(a2, a1, a0)
    ci0 = sorted((beta - hi, beta - lo) for lo, hi in dset)
    return AKMResult(
        beta=beta,
        se_akm=se,
        p_akm=float(2 * stats.norm.sf(abs(beta - beta0) / se)),
        ci_akm=(beta - z * se, beta + z * se),
        se_akm0=se0,
        p_akm0=float(2 * stats.norm.sf(abs(beta - beta0) / se0)),
        ci_akm0=ci0,
        ci_akm0_kind=kind,
        beta0=beta0,
        n_shocks=S.shape[1],
    )


# ----------------------------------------------------------------------------------------------
# 6. group differences
# ----------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class DiffResult:
    delta: float
    se: float
    p: float
    beta_g0: float
    beta_g1: float
    groups: tuple
    n_obs: int
    n_clusters: int


def _binary(group: ArrayLike) -> tuple[np.ndarray, tuple]:
    codes, n = _factorize(group)
    if n != 2:
        raise EstimationError(f"group variable must have exactly 2 values, found {n}")
    labels = tuple(np.sort(pd.unique(np.asarray(group))))
    return codes.astype(float), labels


def interacted_difference(
    y: ArrayLike,
    x: ArrayLike,
    W: ArrayLike | None,
    firm_ids: ArrayLike,
    year_ids: ArrayLike,
    group: ArrayLike,
    cluster: ArrayLike | None = None,
) -> DiffResult:
    """Chow test with full interactions: y = b x + d x*G + W'c + (W*G)'l + firm FE + year x G FE.

    d equals b_G1 - b_G0 of two separate firm + year FE regressions (same slopes, FE and sample
    split). CRV1 clustered by firm unless `cluster` is given. G1 = the larger group label.
    Note (module doc): pyfixest and this function count year x G as 2T - 1 FE df; reghdfe 2T - 2.
    """
    g, labels = _binary(group)
    yr, _ = _factorize(year_ids)
    fe = np.column_stack([_factorize(firm_ids)[0], yr * 2 + g.astype(np.int64)])
    design = AbsorbedDesign(fe)
    x = np.asarray(x, dtype=float)
    Wr = _as_2d(W, len(x))
    X = np.column_stack([x, x * g, Wr, Wr * g[:, None]])
    cl = firm_ids if cluster is None else cluster
    cls, G, k_fe, (yd, Xd) = _prep(design, cl, y, X)
    res = ols_crv1(yd, Xd, cls, k_fe)
    gk = design.subset(g)
    b0 = _group_beta(yd, Xd[:, [0] + list(range(2, 2 + Wr.shape[1]))], gk == 0)
    b1 = _group_beta(yd, Xd[:, [0] + list(range(2, 2 + Wr.shape[1]))], gk == 1)
    return DiffResult(
        float(res.beta[1]), float(res.se[1]), float(res.pvalue[1]), b0, b1, labels, res.n_obs, G
    )


def _group_beta(yd: np.ndarray, Xd: np.ndarray, m: np.ndarray) -> float:
    Xg = Xd[m]
    return float(np.linalg.solve(Xg.T @ Xg, Xg.T @ yd[m])[0])


@dataclass(frozen=True)
class PermutationResult:
    d_hat: float
    beta_g0: float
    beta_g1: float
    p_one_sided: float  # bdiff: #{d* >= d} / K if d > 0, #{d* <= d} / K otherwise
    p_two_sided: float  # #{|d*| >= |d|} / K
    d_perm: np.ndarray = field(repr=False)
    K: int = 0


def permutation_difference(
    y: ArrayLike,
    x: ArrayLike,
    W: ArrayLike | None,
    firm_ids: ArrayLike,
    year_ids: ArrayLike,
    group: ArrayLike,
    K: int = 1000,
    seed: int | None = None,
    level: Literal["firm", "obs"] = "firm",
    batch: int = 64,
) -> PermutationResult:
    """Fisher permutation test of b_G1 - b_G0 (Stata `bdiff`, Lian & Liao 2017).

    Group labels are permuted K times keeping group sizes: whole firms (default; the label must be
    constant within firm) or single observations. Each group is re-estimated with firm + year FE
    (exactly, through `_SubsampleFWL`: no iterative demeaning per permutation). The sample is fixed
    once (singletons of the firm x year design dropped before permuting). Permutations are drawn in
    the same order as a loop of `rng.permutation` calls, so results do not depend on `batch`.
    """
    firm, _ = _factorize(firm_ids)
    yr, _ = _factorize(year_ids)
    g, _ = _binary(group)
    keep = AbsorbedDesign(np.column_stack([firm, yr])).keep
    firm, yr, g = _factorize(firm[keep])[0], _factorize(yr[keep])[0], g[keep]
    M = np.column_stack([np.asarray(y, dtype=float)[keep], np.asarray(x, dtype=float)[keep],
                         _as_2d(W, len(keep))[keep]])
    n_firm = int(firm.max()) + 1
    if level == "firm":
        gf = np.zeros(n_firm)
        gf[firm] = g
        if not np.array_equal(gf[firm], g):
            raise EstimationError("group varies within firm; use level='obs'")
    rng = np.random.default_rng(seed)
    d = np.empty(K)
    with _one_blas_thread():
        fwl = _SubsampleFWL(M, firm, yr, per_firm=level == "firm")
        b0, b1 = fwl.betas(g[None, :] if level == "obs" else gf[None, :])[0]
        for start in range(0, K, batch):
            stop = min(K, start + batch)
            base = gf if level == "firm" else g
            draws = np.stack([rng.permutation(base) for _ in range(start, stop)])
            b = fwl.betas(draws)
            d[start:stop] = b[:, 1] - b[:, 0]
    d_hat = b1 - b0
    p1 = float(np.mean(d >= d_hat) if d_hat > 0 else np.mean(d <= d_hat))
    p2 = float(np.mean(np.abs(d) >= abs(d_hat)))
    return PermutationResult(d_hat, b0, b1, p1, p2, d, K)


class _SubsampleFWL:
    """Slope of x in firm + year FE regressions of y on [x, W] within any subsample, from cross-products.

    FWL with the firm FE absorbed exactly and year dummies as explicit regressors: within a subsample S,
    Z~'Z~ = sum_{S} z z' - sum_i s_i s_i' / n_i (s_i, n_i: firm i's sum and count in S), Z = [y, x, W, D].
    A subsample made of whole firms needs only per-firm cross-product matrices, computed once, so a
    batch of permutations is one matrix product (K x firms) @ (firms x q^2). Observation-level
    subsamples recompute the O(N q^2) sums per draw. Z is centred on full-sample firm means first
    (the within transform ignores per-firm constants; centring avoids cancellation). Equals iterated
    demeaning to rounding; singletons do not move slopes, so none are dropped per subsample.
    """

    CHUNK = 100_000

    def __init__(self, M: np.ndarray, firm: np.ndarray, yr: np.ndarray, per_firm: bool) -> None:
        self.n_firm = int(firm.max()) + 1
        self.n_year = int(yr.max()) + 1
        self.firm, self.yr = firm, yr
        D = np.eye(self.n_year)[yr]
        counts = np.bincount(firm, minlength=self.n_firm).astype(float)
        F = sp.csr_array((np.ones(len(firm)), (firm, np.arange(len(firm)))), shape=(self.n_firm, len(firm)))
        Z = np.column_stack([M, D])
        Z -= (F @ Z / counts[:, None])[firm]
        self.Z, self.F, self.q = Z, F, Z.shape[1]
        self.m = M.shape[1]
        # whole-firm draws only need per-firm Grams and per-firm year counts
        self.C = self._per_firm_gram(Z, firm) if per_firm else None
        self.year_counts = F @ D if per_firm else None      # firms x years

    def _per_firm_gram(self, Z: np.ndarray, firm: np.ndarray) -> np.ndarray:
        """Z_i'Z_i for every firm as one batched product: rows scattered into a zero-padded (firms x T_max x q)
        block (padding adds nothing to the sums), processed in chunks of firms to bound memory."""
        order = np.argsort(firm, kind="stable")
        fs = firm[order]
        counts = np.bincount(fs, minlength=self.n_firm)
        pos = np.arange(len(fs)) - np.repeat(np.cumsum(counts) - counts, counts)
        t_max = int(counts.max())
        C = np.empty((self.n_firm, self.q * self.q))
        step = max(1, self.CHUNK // t_max)
        starts = np.r_[0, np.cumsum(counts)]
        for f0 in range(0, self.n_firm, step):
            f1 = min(self.n_firm, f0 + step)
            lo, hi = starts[f0], starts[f1]
            P = np.zeros((f1 - f0, t_max, self.q))
            P[fs[lo:hi] - f0, pos[lo:hi]] = Z[order[lo:hi]]
            C[f0:f1] = np.matmul(P.transpose(0, 2, 1), P).reshape(f1 - f0, -1)
        return C

    def _gram_obs(self, g: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        Zg = self.Z * g[:, None]
        s = self.F @ Zg
        n = self.F @ g
        pos = n > 0
        A = Zg.T @ self.Z - (s[pos].T / n[pos]) @ s[pos]
        return A, np.bincount(self.yr, weights=g, minlength=self.n_year)

    def _solve(self, A: np.ndarray, year_count: np.ndarray) -> np.ndarray:
        """Slopes of x for a stack of grams (draws x q x q); draws sharing the set of present years are
        solved in one batched call."""
        out = np.empty(A.shape[0])
        present = year_count > 0
        patterns, which = np.unique(present, axis=0, return_inverse=True)
        for j, pat in enumerate(patterns):
            years = np.flatnonzero(pat)
            cols = np.r_[np.arange(1, self.m), self.m + years[1:]]   # drop absent years + one reference
            idx = np.flatnonzero(which.ravel() == j)
            XX, Xy = A[np.ix_(idx, cols, cols)], A[np.ix_(idx, cols, [0])]
            try:
                out[idx] = np.linalg.solve(XX, Xy)[:, 0, 0]
            except np.linalg.LinAlgError:
                out[idx] = [np.linalg.lstsq(XX[i], Xy[i, :, 0], rcond=None)[0][0] for i in range(len(idx))]
        return out

    def betas(self, G: np.ndarray) -> np.ndarray:
        """(draws x 2) slopes for groups 0 and 1; G rows are 0/1 labels per firm (per_firm) or per row."""
        G = np.asarray(G, dtype=float)
        if self.C is not None and G.shape[1] == self.n_firm:
            A1 = (G @ self.C).reshape(-1, self.q, self.q)
            A0 = self.C.sum(axis=0).reshape(self.q, self.q) - A1
            Y1 = G @ self.year_counts
            Y0 = self.year_counts.sum(axis=0) - Y1
        else:
            grams = [[self._gram_obs(gv) for gv in (1.0 - row, row)] for row in G]
            A0, Y0 = np.stack([g[0][0] for g in grams]), np.stack([g[0][1] for g in grams])
            A1, Y1 = np.stack([g[1][0] for g in grams]), np.stack([g[1][1] for g in grams])
        return np.column_stack([self._solve(A0, Y0), self._solve(A1, Y1)])


# ----------------------------------------------------------------------------------------------
# 7. placebo reassignment
# ----------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class PlaceboResult:
    coefs: np.ndarray
    ses: np.ndarray
    coef_observed: float
    p_two_sided: float  # share of |b_r| >= |b_observed|
    x_draws: np.ndarray | None = field(default=None, repr=False)  # first `keep_draws` raw x_r


def _industry_series(x: np.ndarray, firm: np.ndarray, ind: np.ndarray, yr: np.ndarray, T: int) -> np.ndarray:
    """Recover g[j, t] in x_it = a_i + g_{j(i),t} (up to an industry constant, absorbed by firm FE).

    Within-firm differences between consecutive observed years identify g_j,t - g_j,t'; solve the
    small least-squares problem per industry and check the model holds exactly.
    """
    J = int(ind.max()) + 1
    g = np.full((J, T), np.nan)
    order = np.lexsort((yr, firm))
    f_o, y_o, x_o, j_o = firm[order], yr[order], x[order], ind[order]
    same = f_o[1:] == f_o[:-1]
    for j in range(J):
        m = same & (j_o[1:] == j)
        t_obs = np.unique(yr[ind == j])
        if m.sum() == 0:
            g[j, t_obs] = 0.0
            continue
        pos = np.full(T, -1, dtype=np.int64)
        pos[t_obs] = np.arange(len(t_obs))
        # normal equations of the difference design (rows e_t - e_s): a small Laplacian, built by
        # bincount instead of an (obs x years) dense matrix; + the normalisation row g_j,first = 0
        nt = len(t_obs)
        hi, lo = pos[y_o[1:][m]], pos[y_o[:-1][m]]
        dx = x_o[1:][m] - x_o[:-1][m]
        AtA = (np.bincount(hi * nt + hi, minlength=nt * nt) + np.bincount(lo * nt + lo, minlength=nt * nt)
               - np.bincount(hi * nt + lo, minlength=nt * nt) - np.bincount(lo * nt + hi, minlength=nt * nt))
        AtA = AtA.reshape(nt, nt).astype(float)
        AtA[0, 0] += 1.0
        Atb = np.bincount(hi, weights=dx, minlength=nt) - np.bincount(lo, weights=dx, minlength=nt)
        g[j, t_obs] = np.linalg.lstsq(AtA, Atb, rcond=None)[0]
    a = x - g[ind, yr]
    by_firm = pd.Series(a).groupby(firm)
    spread = (by_firm.max() - by_firm.min()).to_numpy()
    if np.nanmax(spread) > 1e-8 * max(1.0, np.abs(x).max()):
        raise EstimationError(
            "x is not a firm constant plus an industry x year series (firm switches industry, or x has "
            "firm-specific time variation): industry reassignment is undefined"
        )
    return g


def _finite(a: np.ndarray) -> np.ndarray:
    if not np.isfinite(a).all():
        raise EstimationError("a reassigned robot series is missing in some year of the receiving firm")
    return a


class _TwoWayExact:
    """Exact within projection for two fixed effects when one has few levels (firm + year).

    FWL: M_{a+b} = M_a - P_{M_a D}, D the dummies of the small FE b (L levels). With rows sorted by a,
    M_a x is a segment-mean subtraction, D'M_a x are L sums, (D'M_a D)^+ is L x L (pseudo-inverse: the
    constant is in both spaces; also correct for disconnected designs) and M_a D c = c[b] - firm means of
    c[b]. One pass of O(N) work per column instead of iterated alternating projections, exact up to
    rounding (valid for unbalanced panels). Unweighted designs only.
    """

    MAX_SMALL_LEVELS = 2000

    def __init__(self, a: np.ndarray, b: np.ndarray, n_b: int) -> None:
        self.order = np.argsort(a, kind="stable")
        a_s, b_s = a[self.order], b[self.order]
        n = a_s.shape[0]
        self.counts = np.bincount(a_s).astype(float)
        if (self.counts == 0).any():
            raise EstimationError("FE codes are not contiguous")  # pragma: no cover - codes are re-factorized
        self.rep = self.counts.astype(np.int64)
        self.starts = np.r_[0, np.cumsum(self.rep)[:-1]]
        self.b = b_s
        self.a = a_s
        self.F = sp.csr_array((np.ones(n), (a_s, b_s)), shape=(len(self.counts), n_b))
        self.Dt = sp.csr_array((np.ones(n), (b_s, np.arange(n))), shape=(n_b, n))
        gram = np.diag(np.bincount(b_s, minlength=n_b).astype(float))
        Fs = self.F.multiply(1.0 / self.counts[:, None]).tocsr()
        gram -= (self.F.T @ Fs).toarray()
        self.gram_pinv = np.linalg.pinv(gram, rcond=1e-10, hermitian=True)

    @classmethod
    def from_design(cls, d: AbsorbedDesign) -> _TwoWayExact | None:
        if d.n_fe != 2 or d.weights is not None or d.keep is None:
            return None
        big = int(np.argmax(d.n_levels))
        small = 1 - big
        if d.n_levels[small] > cls.MAX_SMALL_LEVELS:
            return None
        return cls(d.codes[:, big], d.codes[:, small], d.n_levels[small])

    def sort(self, a: np.ndarray) -> np.ndarray:
        return a[self.order]

    def demean_rows(self, Xt: np.ndarray) -> np.ndarray:
        """Within transform of the ROWS of Xt (m x N, columns in `order`), in place; NaN-checked."""
        means = np.add.reduceat(Xt, self.starts, axis=1)
        means /= self.counts
        if not np.isfinite(means).all():
            raise EstimationError("a reassigned robot series is missing in some year of the receiving firm")
        # year sums of the firm-demeaned rows: D'x - F'means (bincount per row: no strided copy)
        L = self.gram_pinv.shape[0]
        r = np.stack([np.bincount(self.b, weights=Xt[j], minlength=L) for j in range(Xt.shape[0])], axis=1)
        r -= self.F.T @ means.T  # L x m
        c = self.gram_pinv @ r
        fc = (self.F @ c).T
        fc /= self.counts
        means -= fc  # x_dm = x - (means - fc)[a] - c[b]
        a = self.a
        for j in range(Xt.shape[0]):
            row = Xt[j]
            row -= means[j][a]
            row -= c[:, j][self.b]
        return Xt

    def demean_sorted(self, X: np.ndarray) -> np.ndarray:
        """Within transform of the columns of X (rows in `order`), in place."""
        means = np.add.reduceat(X, self.starts, axis=0)
        means /= self.counts[:, None]
        X -= np.repeat(means, self.rep, axis=0)
        c = self.gram_pinv @ (self.Dt @ X)
        fc = self.F @ c
        fc /= self.counts[:, None]
        X -= c[self.b]
        X += np.repeat(fc, self.rep, axis=0)
        return X


def placebo_coefficients(
    y: ArrayLike,
    x: ArrayLike,
    W: ArrayLike | None,
    fe_design: AbsorbedDesign,
    cluster: ArrayLike,
    reassign: Literal["firm", "industry"],
    K: int,
    seed: int | None,
    firm_ids: ArrayLike,
    industry_ids: ArrayLike | None = None,
    *,
    year_ids: ArrayLike,
    chunk: int | None = None,
    keep_draws: int = 0,
    fast: bool = True,
) -> PlaceboResult:
    """Placebo distribution of the x coefficient under random reassignment of lnINT.

    With industry_ids, x must be a firm constant plus an industry x year series (lnINT; checked):
    reassign="firm" gives each firm the series of a randomly permuted firm (= another firm's whole
    x path up to its constant, which the firm FE absorb; defined in every year, so unbalanced panels
    are fine); reassign="industry" permutes the industries' series, x_r = x - g_{j(i),t} +
    g_{pi(j(i)),t}. Without industry_ids (firm only) whole x paths are permuted among firms observed
    in exactly the same years (a plain permutation in a balanced panel). Refits use FastRefit on the
    estimation sample of `fe_design`; x_r is re-demeaned in chunks to bound memory.

    `fast` (default): with two unweighted FE, one of them with few levels (firm + year), each block of
    draws is demeaned exactly in one pass (FWL: firm demeaning + a T x T year projection) on rows sorted
    by firm, and cluster sums are contiguous segment sums; same draws and results (to rounding) as
    `fast=False`, which re-demeans the draws by alternating projections.
    """
    rng = np.random.default_rng(seed)
    d = fe_design
    if reassign not in ("firm", "industry"):
        raise ValueError(f"reassign must be 'firm' or 'industry', not {reassign!r}")
    firm = _factorize(d.subset(np.asarray(firm_ids)))[0]
    yr = _factorize(d.subset(np.asarray(year_ids)))[0]
    xk = np.asarray(d.subset(np.asarray(x, dtype=float)), dtype=float)
    n_firm, T = int(firm.max()) + 1, int(yr.max()) + 1
    # Each reassignment is a permutation (`new_perm`, consumes the RNG) and a row-wise gather
    # (`values(perm, rows)`, rows = index arrays of the estimation sample in any row order), so that
    # the fast path can build draws directly in its own row order with the same random stream.
    if industry_ids is not None:
        # x = a_i + g_{j(i),t}: a reassigned path is another unit's robot series, defined in every
        # year the series exists (a_i is absorbed by the firm FE), so unbalanced panels need no strata
        ind = _factorize(d.subset(np.asarray(industry_ids)))[0]
        gser = _industry_series(xk, firm, ind, yr, T)
        base = xk - gser[ind, yr]
        gflat = gser.ravel()
        if reassign == "firm":
            ind_of_firm = np.zeros(n_firm, dtype=np.int64)
            ind_of_firm[firm] = ind

            def new_perm() -> np.ndarray:
                return ind_of_firm[rng.permutation(n_firm)]

            def values(perm: np.ndarray, rows: dict) -> np.ndarray:
                return gflat[perm[rows["firm"]] * T + rows["yr"]]
        else:
            J = gser.shape[0]

            def new_perm() -> np.ndarray:
                return rng.permutation(J)

            def values(perm: np.ndarray, rows: dict) -> np.ndarray:
                return gflat[perm[rows["ind"]] * T + rows["yr"]]
    elif reassign == "firm":
        # generic x: permute whole paths among firms observed in exactly the same years
        ind = None
        base = np.zeros_like(xk)
        wide = np.full((n_firm, T), np.nan)
        wide[firm, yr] = xk
        wflat = wide.ravel()
        pattern = _factorize(["".join("1" if v else "0" for v in row) for row in ~np.isnan(wide)])[0]
        strata = [np.flatnonzero(pattern == s) for s in range(pattern.max() + 1)]
        if max(len(s) for s in strata) < 2:
            raise EstimationError("no two firms share the same years: pass industry_ids to reassign paths")

        def new_perm() -> np.ndarray:
            perm = np.arange(n_firm)
            for s in strata:
                perm[s] = rng.permutation(s)
            return perm

        def values(perm: np.ndarray, rows: dict) -> np.ndarray:
            return wflat[perm[rows["firm"]] * T + rows["yr"]]
    else:
        raise EstimationError("industry reassignment needs industry_ids")

    rows = {"firm": firm, "yr": yr, "ind": ind}
    coefs, ses, kept = [], [], []
    tw = _TwoWayExact.from_design(d) if fast else None
    if tw is None:
        cl, G, k_fe, (yd, xd, Wd) = _prep(d, cluster, y, x, W)
        Wd = _as_2d(Wd, yd.shape[0])
        fr = FastRefit(Wd if Wd.shape[1] else None, cl, k_fe)
        observed = fr.fit_many_x(yd, xd).coef[0]
        step = chunk or fr.chunk
        for k0 in range(0, K, step):
            Xr = np.column_stack([_finite(base + values(new_perm(), rows)) for _ in range(min(step, K - k0))])
            if k0 < keep_draws:
                kept.append(Xr[:, : keep_draws - k0].copy())
            res = fr.fit_many_x(yd, d.transform(Xr), overwrite=True)
            coefs.append(res.coef)
            ses.append(res.se)
    else:
        # Fast path (same draws in the same order): rows sorted by the large FE, everything demeaned
        # exactly in one pass (_TwoWayExact), draws built directly in sorted order as rows of a
        # (draws x N) block, controls partialled out with single-threaded BLAS, cluster sums as
        # contiguous segment sums when the clusters are sorted too (firm clusters).
        cl, G, k_fe, _ = _prep(d, cluster)
        o = tw.order
        ys = tw.demean_sorted(np.asarray(d.subset(np.asarray(y, dtype=float)), dtype=float)[o][:, None])[:, 0]
        xs = tw.demean_sorted(xk[o][:, None])[:, 0]
        Ws = None
        if W is not None:
            Wa = _as_2d(d.subset(np.asarray(W.to_numpy() if isinstance(W, pd.DataFrame) else W, dtype=float)))
            if Wa.shape[1]:
                Ws = tw.demean_sorted(np.ascontiguousarray(Wa[o]))
        if not (np.isfinite(ys).all() and np.isfinite(xs).all() and (Ws is None or np.isfinite(Ws).all())):
            raise EstimationError("non-finite values in a regression variable; drop or impute them first")
        frs = FastRefit(Ws, cl[o], k_fe)
        yp = frs.partial(ys[:, None])[:, 0]
        observed = frs.fit_many_x(ys, xs).coef[0]
        rows_s = {k: (None if v is None else v[o]) for k, v in rows.items()}
        step = chunk or frs.chunk
        for k0 in range(0, K, step):
            m = min(step, K - k0)
            Xt = np.empty((m, ys.shape[0]))
            for j in range(m):
                perm = new_perm()
                if k0 + j < keep_draws:
                    kept.append(_finite(base + values(perm, rows))[:, None])
                Xt[j] = values(perm, rows_s)  # the firm constant a_i is absorbed exactly: not added
            tw.demean_rows(Xt)
            b, se = frs.fit_rows(yp, Xt)
            coefs.append(b)
            ses.append(se)
    c = np.concatenate(coefs)
    return PlaceboResult(
        c, np.concatenate(ses), float(observed), float(np.mean(np.abs(c) >= abs(observed))),
        np.column_stack(kept) if kept else None,
    )


def placebo_pvalue(coefs: Sequence[float] | np.ndarray, actual: float, two_sided: bool = True) -> float:
    """Empirical p-value (1 + #{draws at least as extreme}) / (1 + #draws).

    The +1 counts the actual assignment as one of the permutations (Phipson & Smyth 2010), so p is never 0
    with a finite number of draws.
    """
    b = np.asarray(coefs, dtype=float)
    b = b[np.isfinite(b)]
    if b.size == 0:
        raise EstimationError("no finite placebo coefficients")
    extreme = np.abs(b) >= abs(actual) if two_sided else (b >= actual if actual >= 0 else b <= actual)
    return float((1 + int(extreme.sum())) / (1 + b.size))
